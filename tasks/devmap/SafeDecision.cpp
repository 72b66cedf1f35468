// Calibrated expected-speedup decisions with a novelty fallback: fitting them from out-of-fold evidence
// grouped by kernel, and evaluating them against the raw head and the code-free policies.
#include "tasks/devmap/SafeDecision.h"

#include "support/Log.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/common/ModelSelection.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace mirtune::devmap {

namespace {

constexpr std::array<Policy, 5> kPolicies = {Policy::kHead, Policy::kExpectedSpeedup, Policy::kAuxHead,
                                             Policy::kCpu, Policy::kGpu};

std::vector<std::size_t> groupsOf(const KernelTable& kernels, const std::vector<std::size_t>& rows) {
  std::vector<std::size_t> groups;
  for (std::size_t row : rows) groups.push_back(kernels.kernelOfRow[row]);
  return groups;
}

std::vector<std::size_t> distinctKernels(const KernelTable& kernels, const std::vector<std::size_t>& rows) {
  std::set<std::size_t> distinct;
  for (std::size_t row : rows) distinct.insert(kernels.kernelOfRow[row]);
  return {distinct.begin(), distinct.end()};
}

// P(GPU faster) of `rows` (data rows; features has one row per data row).
Expected<std::vector<double>> gpuProbabilities(const heads::Classifier& model,
                                               const heads::FeatureMatrix& features,
                                               const std::vector<std::size_t>& rows) {
  heads::FeatureMatrix subset(rows.size(), features.cols);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy(features.row(rows[i]), features.row(rows[i]) + features.cols, subset.row(i));
  }
  auto probabilities = model.predictProbabilities(subset.values.data(), rows.size(), features.cols);
  if (!probabilities) return probabilities.error();
  std::vector<double> gpu;
  for (std::size_t i = 0; i < rows.size(); ++i) gpu.push_back((*probabilities)[2 * i + 1]);
  return gpu;
}

// The head's chosen candidate and weighting refitted on `train`.
Expected<std::unique_ptr<heads::Classifier>> refit(const DevmapData& data, std::size_t platform,
                                                   const heads::FeatureMatrix& features,
                                                   const TrainedHead& head,
                                                   const std::vector<std::size_t>& train) {
  auto model = heads::makeClassifier(head.candidate);
  if (!model) return model.error();
  if (Status fitted = (*model)->fit(platformDataset(data, platform, features, head.weighting).subset(train));
      !fitted) {
    return fitted.error();
  }
  return std::move(*model);
}

Device fixedDevice(Policy policy) {
  return policy == Policy::kGpu ? Device::kGpu : Device::kCpu;
}

}  // namespace

std::string_view policyName(Policy policy) {
  switch (policy) {
    case Policy::kHead:
      return "head";
    case Policy::kExpectedSpeedup:
      return "expected-speedup";
    case Policy::kAuxHead:
      return "aux-head";
    case Policy::kCpu:
      return "cpu";
    case Policy::kGpu:
      return "gpu";
  }
  return "head";
}

Expected<Policy> parsePolicy(std::string_view name) {
  for (Policy policy : kPolicies) {
    if (policyName(policy) == name) return policy;
  }
  return makeError(ErrorCode::kInvalidInput,
                   "unknown policy \"{}\" (head, expected-speedup, aux-head, cpu or gpu)", name);
}

std::string_view gainStatisticName(GainStatistic statistic) {
  return statistic == GainStatistic::kGeometricMean ? "geomean" : "mean";
}

double SpeedupTable::expected(double gpuProbability, Device device) const {
  const auto chosen = static_cast<std::size_t>(device);
  if (statistic == GainStatistic::kGeometricMean) {
    return std::exp(gpuProbability * std::log(gain[1][chosen]) +
                    (1 - gpuProbability) * std::log(gain[0][chosen]));
  }
  return gpuProbability * gain[1][chosen] + (1 - gpuProbability) * gain[0][chosen];
}

SpeedupTable speedupTable(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                          GainStatistic statistic) {
  const bool geometric = statistic == GainStatistic::kGeometricMean;
  SpeedupTable table;
  table.statistic = statistic;
  std::array<std::array<double, 2>, 2> sum{};
  std::array<double, 2> count{};
  for (std::size_t r : rows) {
    const DevmapRow& row = data.rows[r];
    const auto oracle = static_cast<std::size_t>(row.oracle[platform]);
    count[oracle] += 1;
    for (Device device : {Device::kCpu, Device::kGpu}) {
      const double speedup = speedupOverStatic(row, platform, device);
      sum[oracle][static_cast<std::size_t>(device)] += geometric ? std::log(speedup) : speedup;
    }
  }
  for (std::size_t oracle = 0; oracle < 2; ++oracle) {
    if (count[oracle] == 0) continue;  // no such rows: the neutral 1 stays
    for (std::size_t device = 0; device < 2; ++device) {
      const double mean = sum[oracle][device] / count[oracle];
      table.gain[oracle][device] = geometric ? std::exp(mean) : mean;
    }
  }
  return table;
}

nlohmann::json SafePolicy::toJson() const {
  return {{"calibration", calibrator.toJson()},
          {"speedup_table",
           {{"cpu_faster", {{"cpu", gains.gain[0][0]}, {"gpu", gains.gain[0][1]}}},
            {"gpu_faster", {{"cpu", gains.gain[1][0]}, {"gpu", gains.gain[1][1]}}},
            {"statistic", gainStatisticName(gains.statistic)}}},
          {"fallback", policyName(fallback)},
          {"novelty_threshold", noveltyThreshold}};
}

Expected<SafePolicy> SafePolicy::fromJson(const nlohmann::json& json) {
  if (!json.is_object()) return makeError(ErrorCode::kInvalidInput, "safety: not an object");
  SafePolicy policy;
  auto calibrator = heads::Calibrator::fromJson(json.value("calibration", nlohmann::json()));
  if (!calibrator) return calibrator.error().withContext("safety");
  policy.calibrator = *calibrator;
  const nlohmann::json table = json.value("speedup_table", nlohmann::json());
  for (auto [oracleKey, oracle] : {std::pair{"cpu_faster", 0}, std::pair{"gpu_faster", 1}}) {
    for (auto [deviceKey, device] : {std::pair{"cpu", 0}, std::pair{"gpu", 1}}) {
      const bool present = table.is_object() && table.contains(oracleKey) && table[oracleKey].is_object() &&
                           table[oracleKey].contains(deviceKey) && table[oracleKey][deviceKey].is_number();
      double value = present ? table[oracleKey][deviceKey].get<double>() : -1;
      if (!(value > 0) || !std::isfinite(value)) {
        return makeError(ErrorCode::kInvalidInput, "safety: speedup_table.{}.{} must be a positive number",
                         oracleKey, deviceKey);
      }
      policy.gains.gain[oracle][device] = value;
    }
  }
  // "statistic" is optional: a table without it holds arithmetic means.
  if (table.is_object() && table.contains("statistic")) {
    const bool known =
        table["statistic"].is_string() && (table["statistic"] == "mean" || table["statistic"] == "geomean");
    if (!known)
      return makeError(ErrorCode::kInvalidInput, "safety: speedup_table.statistic must be mean or geomean");
    policy.gains.statistic =
        table["statistic"] == "geomean" ? GainStatistic::kGeometricMean : GainStatistic::kMean;
  }
  if (!json.contains("fallback") || !json["fallback"].is_string()) {
    return makeError(ErrorCode::kInvalidInput, "safety: fallback must be aux-head, cpu or gpu");
  }
  auto fallback = parsePolicy(json["fallback"].get<std::string>());
  if (!fallback) return fallback.error().withContext("safety: fallback");
  if (*fallback != Policy::kAuxHead && *fallback != Policy::kCpu && *fallback != Policy::kGpu) {
    return makeError(ErrorCode::kInvalidInput, "safety: fallback must be aux-head, cpu or gpu");
  }
  policy.fallback = *fallback;
  if (!json.contains("novelty_threshold") || !json["novelty_threshold"].is_number()) {
    return makeError(ErrorCode::kInvalidInput, "safety: novelty_threshold must be a number");
  }
  policy.noveltyThreshold = json["novelty_threshold"].get<double>();
  return policy;
}

SafeAnswer decideSafely(const SafePolicy& policy, Device staticDevice, double headGpuProbability,
                        double novelty, std::optional<double> auxGpuProbability) {
  SafeAnswer answer;
  answer.gpuProbability = policy.calibrator.apply(headGpuProbability);
  const double cpu = policy.gains.expected(answer.gpuProbability, Device::kCpu);
  const double gpu = policy.gains.expected(answer.gpuProbability, Device::kGpu);
  answer.device = gpu > cpu ? Device::kGpu : (cpu > gpu ? Device::kCpu : staticDevice);
  answer.policy = Policy::kExpectedSpeedup;
  if (novelty > policy.noveltyThreshold) {
    answer.fallback = true;
    answer.policy = policy.fallback;
    if (policy.fallback == Policy::kAuxHead) {
      answer.device =
          auxGpuProbability ? (*auxGpuProbability > 0.5 ? Device::kGpu : Device::kCpu) : staticDevice;
    } else {
      answer.device = fixedDevice(policy.fallback);
    }
  }
  answer.expectedSpeedup = policy.gains.expected(answer.gpuProbability, answer.device);
  return answer;
}

KernelTable kernelTable(const DevmapData& data, const std::vector<std::vector<float>>* embeddings) {
  KernelTable table;
  std::map<std::string, std::size_t> index;
  std::vector<std::size_t> rowsOfKernel;
  for (const DevmapRow& row : data.rows) {
    auto [it, inserted] = index.emplace(row.benchmark, table.names.size());
    if (inserted) {
      table.names.push_back(row.benchmark);
      rowsOfKernel.push_back(0);
    }
    table.kernelOfRow.push_back(it->second);
    ++rowsOfKernel[it->second];
  }
  if (embeddings == nullptr || embeddings->empty()) return table;
  const std::size_t dimension = embeddings->front().size();
  table.vectors.assign(table.names.size(), std::vector<float>(dimension, 0.0f));
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    std::vector<float>& vector = table.vectors[table.kernelOfRow[r]];
    for (std::size_t d = 0; d < dimension; ++d) {
      vector[d] += (*embeddings)[r][d] / static_cast<float>(rowsOfKernel[table.kernelOfRow[r]]);
    }
  }
  return table;
}

Expected<std::vector<double>> kernelNovelty(const KernelTable& kernels, const std::vector<std::size_t>& train,
                                            const std::vector<std::size_t>& test) {
  std::vector<std::vector<float>> vectors;
  for (std::size_t kernel : train) vectors.push_back(kernels.vectors.at(kernel));
  auto index = heads::NoveltyIndex::build(vectors);
  if (!index) return index.error();
  std::vector<double> novelty;
  for (std::size_t kernel : test) {
    auto percentile = index->percentile(kernels.vectors.at(kernel));
    if (!percentile) return percentile.error();
    novelty.push_back(*percentile);
  }
  return novelty;
}

Expected<PolicyEvidence> collectEvidence(const DevmapData& data, std::size_t platform,
                                         const std::vector<std::size_t>& rows,
                                         const heads::FeatureMatrix& features,
                                         const heads::FeatureMatrix& auxFeatures, const KernelTable& kernels,
                                         const TrainedHead& head, const TrainedHead& auxHead, int folds,
                                         unsigned seed) {
  auto split = heads::groupedKFold(groupsOf(kernels, rows), folds, seed);
  if (!split) return split.error().withContext("out-of-fold evidence");
  PolicyEvidence evidence;
  evidence.rows = rows;
  evidence.headProbability.assign(rows.size(), 0);
  evidence.auxProbability.assign(rows.size(), 0);
  evidence.novelty.assign(rows.size(), 0);
  for (const std::vector<std::size_t>& fold : *split) {
    std::vector<bool> held(rows.size(), false);
    for (std::size_t position : fold) held[position] = true;
    std::vector<std::size_t> train, test;
    for (std::size_t i = 0; i < rows.size(); ++i) (held[i] ? test : train).push_back(rows[i]);
    auto model = refit(data, platform, features, head, train);
    if (!model) return model.error();
    auto auxModel = refit(data, platform, auxFeatures, auxHead, train);
    if (!auxModel) return auxModel.error();
    auto headP = gpuProbabilities(**model, features, test);
    if (!headP) return headP.error();
    auto auxP = gpuProbabilities(**auxModel, auxFeatures, test);
    if (!auxP) return auxP.error();
    auto novelty = kernelNovelty(kernels, distinctKernels(kernels, train), groupsOf(kernels, test));
    if (!novelty) return novelty.error();
    for (std::size_t t = 0; t < fold.size(); ++t) {
      evidence.headProbability[fold[t]] = (*headP)[t];
      evidence.auxProbability[fold[t]] = (*auxP)[t];
      evidence.novelty[fold[t]] = (*novelty)[t];
    }
  }
  return evidence;
}

PolicyScore scorePolicy(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                        const std::vector<Device>& predicted, std::string name) {
  PolicyScore result;
  result.name = std::move(name);
  result.score = scoreMapping(data, platform, rows, predicted);
  std::vector<Device> oracle;
  for (std::size_t r : rows) oracle.push_back(data.rows[r].oracle[platform]);
  const double best = scoreMapping(data, platform, rows, oracle).meanSpeedup;
  result.oracleFraction = best > 0 ? result.score.meanSpeedup / best : 0;
  return result;
}

Expected<FittedPolicy> fitSafePolicy(const DevmapData& data, std::size_t platform,
                                     const PolicyEvidence& evidence, const KernelTable& kernels, int folds,
                                     unsigned seed) {
  std::vector<int> labels;
  for (std::size_t r : evidence.rows) labels.push_back(data.rows[r].oracle[platform] == Device::kGpu ? 1 : 0);
  auto calibration = heads::chooseCalibrator(evidence.headProbability, labels,
                                             groupsOf(kernels, evidence.rows), folds, seed);
  if (!calibration) return calibration.error();
  FittedPolicy fitted;
  SafePolicy& policy = fitted.policy;
  policy.calibrator = calibration->calibrator;
  const std::size_t n = evidence.rows.size();

  // The code-free policies on these rows: each is a possible fallback, and their best accuracy and best mean
  // speedup are what a safe setting must reach.
  const Device staticDevice = kPlatforms[platform].staticDevice;
  const Policy staticPolicy = staticDevice == Device::kGpu ? Policy::kGpu : Policy::kCpu;
  const Policy otherPolicy = staticDevice == Device::kGpu ? Policy::kCpu : Policy::kGpu;
  const std::array<Policy, 3> codeFree = {Policy::kAuxHead, staticPolicy, otherPolicy};
  std::array<std::vector<Device>, 3> codeFreeDevices;
  nlohmann::json codeFreeScores = nlohmann::json::object();
  double bestAccuracy = 0, bestSpeedup = 0;
  for (std::size_t c = 0; c < codeFree.size(); ++c) {
    for (std::size_t i = 0; i < n; ++i) {
      codeFreeDevices[c].push_back(codeFree[c] == Policy::kAuxHead
                                       ? (evidence.auxProbability[i] > 0.5 ? Device::kGpu : Device::kCpu)
                                       : fixedDevice(codeFree[c]));
    }
    const Score score = scoreMapping(data, platform, evidence.rows, codeFreeDevices[c]);
    codeFreeScores[std::string(policyName(codeFree[c]))] = {{"accuracy", score.accuracy},
                                                            {"speedup", score.meanSpeedup}};
    bestAccuracy = std::max(bestAccuracy, score.accuracy);
    bestSpeedup = std::max(bestSpeedup, score.meanSpeedup);
  }

  // Every setting (gain statistic, fallback, threshold), ranked by (safe, value, threshold); the first of
  // equals wins.
  nlohmann::json settings = nlohmann::json::array();
  std::optional<std::tuple<bool, double, double>> best;
  for (GainStatistic statistic : {GainStatistic::kMean, GainStatistic::kGeometricMean}) {
    SafePolicy learnedPolicy = policy;
    learnedPolicy.gains = speedupTable(data, platform, evidence.rows, statistic);
    std::vector<Device> learned;
    for (std::size_t i = 0; i < n; ++i) {
      learned.push_back(
          decideSafely(learnedPolicy, staticDevice, evidence.headProbability[i], 0, std::nullopt).device);
    }
    for (std::size_t c = 0; c < codeFree.size(); ++c) {
      for (double threshold : kNoveltyThresholds) {
        std::vector<Device> devices;
        std::size_t fallbacks = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const bool novel = evidence.novelty[i] > threshold;
          fallbacks += novel ? 1 : 0;
          devices.push_back(novel ? codeFreeDevices[c][i] : learned[i]);
        }
        const Score score = scoreMapping(data, platform, evidence.rows, devices);
        const bool safe = score.accuracy >= bestAccuracy && score.meanSpeedup >= bestSpeedup;
        const double value = safe ? score.meanSpeedup
                                  : std::min(score.accuracy / bestAccuracy, score.meanSpeedup / bestSpeedup);
        settings.push_back({{"statistic", gainStatisticName(statistic)},
                            {"fallback", policyName(codeFree[c])},
                            {"threshold", threshold},
                            {"fallback_rows", fallbacks},
                            {"accuracy", score.accuracy},
                            {"speedup", score.meanSpeedup},
                            {"safe", safe}});
        const std::tuple<bool, double, double> key{safe, value, threshold};
        if (!best || key > *best) {
          best = key;
          policy.gains = learnedPolicy.gains;
          policy.fallback = codeFree[c];
          policy.noveltyThreshold = threshold;
        }
      }
    }
  }
  std::vector<double> calibrated = policy.calibrator.apply(evidence.headProbability);
  fitted.diagnostics = {{"rows", n},
                        {"calibration", calibration->toJson()},
                        {"ece_before", heads::expectedCalibrationError(evidence.headProbability, labels)},
                        {"ece_after_in_sample", heads::expectedCalibrationError(calibrated, labels)},
                        {"code_free", codeFreeScores},
                        {"chosen_setting_safe", best && std::get<0>(*best)},
                        {"settings", settings}};
  return fitted;
}

Expected<SafePlatformEvaluation> evaluateSafePlatform(const DevmapData& data, std::size_t platform,
                                                      const heads::FeatureMatrix& features,
                                                      const heads::FeatureMatrix& auxFeatures,
                                                      const KernelTable& kernels,
                                                      const SafeEvalOptions& options) {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < data.rows.size(); ++r) rows.push_back(r);
  auto split = heads::groupedKFold(groupsOf(kernels, rows), options.outerFolds, options.seed);
  if (!split) return split.error().withContext("kernel-grouped folds");
  SafePlatformEvaluation evaluation;
  evaluation.platform = platform;
  evaluation.rows = rows.size();
  evaluation.kernels = kernels.names.size();
  const std::size_t n = rows.size();
  std::vector<double> raw(n, 0), calibrated(n, 0);
  std::array<std::vector<Device>, 5> decided;  // head, expected-speedup, safe, aux-head, chosen fallback
  for (auto& devices : decided) devices.assign(n, Device::kCpu);
  const std::string name(kPlatforms[platform].name);
  for (std::size_t f = 0; f < split->size(); ++f) {
    const std::vector<std::size_t>& test = (*split)[f];
    std::vector<bool> held(n, false);
    for (std::size_t r : test) held[r] = true;
    std::vector<std::size_t> train;
    for (std::size_t r : rows) {
      if (!held[r]) train.push_back(r);
    }
    const std::string where = fmt::format("{} fold {}", name, f);
    auto head = trainHead(data, platform, train, features, options.head);
    if (!head) return head.error().withContext(where);
    auto auxHead = trainHead(data, platform, train, auxFeatures, options.aux);
    if (!auxHead) return auxHead.error().withContext(where);
    auto evidence = collectEvidence(data, platform, train, features, auxFeatures, kernels, *head, *auxHead,
                                    options.innerFolds, options.seed);
    if (!evidence) return evidence.error().withContext(where);
    auto fitted = fitSafePolicy(data, platform, *evidence, kernels, options.innerFolds, options.seed);
    if (!fitted) return fitted.error().withContext(where);
    auto headP = gpuProbabilities(*head->model, features, test);
    if (!headP) return headP.error().withContext(where);
    auto auxP = gpuProbabilities(*auxHead->model, auxFeatures, test);
    if (!auxP) return auxP.error().withContext(where);
    auto novelty = kernelNovelty(kernels, distinctKernels(kernels, train), groupsOf(kernels, test));
    if (!novelty) return novelty.error().withContext(where);
    SafePolicy neverNovel = fitted->policy;
    neverNovel.noveltyThreshold = 2;
    std::size_t fallbacks = 0;
    for (std::size_t t = 0; t < test.size(); ++t) {
      const std::size_t r = test[t];
      raw[r] = (*headP)[t];
      SafeAnswer safe = decideSafely(fitted->policy, kPlatforms[platform].staticDevice, (*headP)[t],
                                     (*novelty)[t], (*auxP)[t]);
      SafeAnswer learned =
          decideSafely(neverNovel, kPlatforms[platform].staticDevice, (*headP)[t], 0, (*auxP)[t]);
      calibrated[r] = safe.gpuProbability;
      decided[0][r] = raw[r] > 0.5 ? Device::kGpu : Device::kCpu;
      decided[1][r] = learned.device;
      decided[2][r] = safe.device;
      decided[3][r] = (*auxP)[t] > 0.5 ? Device::kGpu : Device::kCpu;
      decided[4][r] =
          decideSafely(fitted->policy, kPlatforms[platform].staticDevice, (*headP)[t], 2, (*auxP)[t]).device;
      fallbacks += safe.fallback ? 1 : 0;
    }
    evaluation.fallbackRows += fallbacks;
    evaluation.folds.push_back(
        {{"fold", f},
         {"test_rows", test.size()},
         {"test_kernels", distinctKernels(kernels, test).size()},
         {"head", head->candidate.kind},
         {"head_params", head->candidate.params},
         {"calibration", std::string(calibrationKindName(fitted->policy.calibrator.kind()))},
         {"gain_statistic", gainStatisticName(fitted->policy.gains.statistic)},
         {"fallback", policyName(fitted->policy.fallback)},
         {"novelty_threshold", fitted->policy.noveltyThreshold},
         {"fallback_rows", fallbacks},
         {"inner", fitted->diagnostics}});
    logInfo("{}: {} held-out rows, calibration {}, fallback {} above novelty {:.2f} ({} rows)", where,
            test.size(), calibrationKindName(fitted->policy.calibrator.kind()),
            policyName(fitted->policy.fallback), fitted->policy.noveltyThreshold, fallbacks);
  }
  std::vector<int> labels;
  for (std::size_t r : rows) labels.push_back(data.rows[r].oracle[platform] == Device::kGpu ? 1 : 0);
  evaluation.eceBefore = heads::expectedCalibrationError(raw, labels);
  evaluation.eceAfter = heads::expectedCalibrationError(calibrated, labels);

  auto& policies = evaluation.policies;
  policies.push_back(scorePolicy(data, platform, rows, decided[0], "head"));
  policies.push_back(scorePolicy(data, platform, rows, decided[1], "expected-speedup"));
  policies.push_back(scorePolicy(data, platform, rows, decided[2], "safe"));
  policies.push_back(scorePolicy(data, platform, rows, decided[3], "aux-head"));
  policies.push_back(scorePolicy(data, platform, rows, std::vector<Device>(n, Device::kCpu), "cpu"));
  policies.push_back(scorePolicy(data, platform, rows, std::vector<Device>(n, Device::kGpu), "gpu"));
  policies.push_back(scorePolicy(data, platform, rows, decided[4], "fallback-chosen"));
  return evaluation;
}

nlohmann::json SafeEvalReport::toJson() const {
  nlohmann::json platformsJson = nlohmann::json::object();
  for (const SafePlatformEvaluation& evaluation : platforms) {
    nlohmann::json policiesJson = nlohmann::json::object();
    for (const PolicyScore& policy : evaluation.policies) {
      policiesJson[policy.name] = {{"accuracy", policy.score.accuracy},
                                   {"speedup", policy.score.meanSpeedup},
                                   {"geomean_speedup", policy.score.geomeanSpeedup},
                                   {"oracle_fraction", policy.oracleFraction}};
    }
    platformsJson[std::string(kPlatforms[evaluation.platform].name)] = {
        {"rows", evaluation.rows},
        {"kernels", evaluation.kernels},
        {"ece_before", evaluation.eceBefore},
        {"ece_after", evaluation.eceAfter},
        {"fallback_rows", evaluation.fallbackRows},
        {"policies", policiesJson},
        {"folds", evaluation.folds}};
  }
  return {{"protocol", fmt::format("{} outer folds grouped by kernel, {} inner grouped folds",
                                   request.outerFolds, request.innerFolds)},
          {"encoder", encoderId},
          {"ir", request.ir},
          {"head_kind", request.headKind},
          {"seed", request.seed},
          {"platforms", platformsJson}};
}

std::string SafeEvalReport::toMarkdown() const {
  std::string text = fmt::format(
      "Device mapping, {} outer folds grouped by kernel (all input sizes of a kernel held out together), "
      "policies "
      "fitted on {} inner grouped folds of the training kernels; encoder {}, IR {}, head kind {}, seed {}.\n",
      request.outerFolds, request.innerFolds, encoderId, request.ir, request.headKind, request.seed);
  for (const SafePlatformEvaluation& evaluation : platforms) {
    text += fmt::format(
        "\n{} ({} rows, {} kernels): ECE (10 bins) of P(GPU faster) {:.4f} raw, {:.4f} calibrated; the safe "
        "policy fell back on {} rows\n\n",
        kPlatforms[evaluation.platform].name, evaluation.rows, evaluation.kernels, evaluation.eceBefore,
        evaluation.eceAfter, evaluation.fallbackRows);
    text +=
        "| policy | accuracy | mean speedup | geomean speedup | fraction of oracle "
        "|\n|---|---|---|---|---|\n";
    for (const PolicyScore& policy : evaluation.policies) {
      text += fmt::format("| {} | {:.2f}% | {:.3f} | {:.3f} | {:.3f} |\n", policy.name,
                          100 * policy.score.accuracy, policy.score.meanSpeedup, policy.score.geomeanSpeedup,
                          policy.oracleFraction);
    }
  }
  return text;
}

Expected<SafeEvalReport> evaluateSafeDecisions(const SafeEvalRequest& request) {
  auto irSource = parseIrSource(request.ir);
  if (!irSource) return irSource.error();
  auto candidates = headCandidates(request.headKind, request.threads);
  if (!candidates) return candidates.error();
  auto auxCandidates = headCandidates("xgboost", request.threads);
  if (!auxCandidates) return auxCandidates.error();
  auto selected = platformIndices(request.platform);
  if (!selected) return selected.error();
  const std::vector<std::size_t>& platforms = *selected;
  if (request.outerFolds < 2 || request.innerFolds < 2) {
    return makeError(ErrorCode::kUsage, "--outer-folds and --inner-folds must be at least 2");
  }
  auto loaded = loadFusedRows(request.data, request.encoder, *irSource, request.noCache, request.databasePath,
                              request.threads);
  if (!loaded) return loaded.error();
  const DevmapData* data = &loaded->data;
  const RowEmbeddings* embeddings = &loaded->embeddings;
  const Encoder* encoder = &loaded->encoder;

  SafeEvalOptions options;
  options.head.candidates = *candidates;
  options.head.seed = request.seed;
  options.aux.candidates = *auxCandidates;
  options.aux.seed = request.seed;
  options.outerFolds = request.outerFolds;
  options.innerFolds = request.innerFolds;
  options.seed = request.seed;
  SafeEvalReport report;
  report.request = request;
  report.encoderId = encoder->id();
  const KernelTable kernels = kernelTable(*data, &embeddings->vectors.front());
  for (std::size_t platform : platforms) {
    heads::FeatureMatrix features = rowFeatureMatrix(*data, platform, &embeddings->vectors.front());
    heads::FeatureMatrix auxFeatures = rowFeatureMatrix(*data, platform, nullptr);
    auto evaluation = evaluateSafePlatform(*data, platform, features, auxFeatures, kernels, options);
    if (!evaluation) return evaluation.error();
    report.platforms.push_back(std::move(*evaluation));
  }
  return report;
}

}  // namespace mirtune::devmap
