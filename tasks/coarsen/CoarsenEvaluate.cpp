// Leave-one-kernel-out with program-grouped inner cross-validation; the class and the per-factor head forms.
#include "tasks/coarsen/CoarsenEvaluate.h"

#include "support/Parallel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace mirtune::coarsen {

std::string_view headFormName(HeadForm form) {
  return form == HeadForm::kClass ? "class" : "factor";
}

Expected<HeadForm> parseHeadForm(std::string_view name) {
  if (name == "class") return HeadForm::kClass;
  if (name == "factor") return HeadForm::kFactor;
  return makeError(ErrorCode::kUsage, "unknown head form '{}' (class or factor)", name);
}

std::string_view poolingName(Pooling pooling) {
  return pooling == Pooling::kPooled ? "pooled" : "per-platform";
}

Expected<Pooling> parsePooling(std::string_view name) {
  if (name == "pooled") return Pooling::kPooled;
  if (name == "per-platform") return Pooling::kPerPlatform;
  return makeError(ErrorCode::kUsage, "unknown pooling '{}' (pooled or per-platform)", name);
}

std::vector<float> headFeatures(const std::vector<float>& embedding, std::size_t platform, HeadForm form,
                                int factor) {
  std::vector<float> features = embedding;
  for (std::size_t p = 0; p < kPlatforms.size(); ++p) features.push_back(p == platform ? 1.0f : 0.0f);
  if (form == HeadForm::kFactor) features.push_back(static_cast<float>(std::log2(factor)));
  return features;
}

std::size_t headFeatureCount(std::size_t dimension, HeadForm form) {
  return dimension + kPlatforms.size() + (form == HeadForm::kFactor ? 1 : 0);
}

HeadRows headRows(const CoarsenData& data, const std::vector<std::vector<float>>& embeddings,
                  const std::vector<std::size_t>& kernels, const std::vector<std::size_t>& platforms,
                  HeadForm form) {
  HeadRows rows;
  std::vector<std::vector<float>> features;
  for (std::size_t k : kernels) {
    const CoarsenKernel& kernel = data.kernels[k];
    for (std::size_t p : platforms) {
      if (form == HeadForm::kClass) {
        features.push_back(headFeatures(embeddings[k], p, form));
        rows.dataset.labels.push_back(static_cast<int>(*factorIndex(kernel.oracleFactor[p])));
        rows.kernel.push_back(k);
        rows.platform.push_back(p);
        rows.factor.push_back(kernel.oracleFactor[p]);
        continue;
      }
      double best = kernel.oracleSpeedup(p);
      for (std::size_t f = 0; f < kFactors.size(); ++f) {
        if (!kernel.measured(p, f)) continue;
        features.push_back(headFeatures(embeddings[k], p, form, kFactors[f]));
        rows.dataset.labels.push_back(kernel.speedup(p, kFactors[f]) >= kNearOracle * best ? 1 : 0);
        rows.kernel.push_back(k);
        rows.platform.push_back(p);
        rows.factor.push_back(kFactors[f]);
      }
    }
  }
  rows.dataset.classes = form == HeadForm::kClass ? static_cast<int>(kFactors.size()) : 2;
  std::size_t cols = features.empty() ? 0 : features.front().size();
  rows.dataset.features = heads::FeatureMatrix(features.size(), cols);
  for (std::size_t r = 0; r < features.size(); ++r) {
    std::copy(features[r].begin(), features[r].end(), rows.dataset.features.row(r));
  }
  return rows;
}

Expected<FactorChoice> chooseFactor(const heads::Classifier& head, HeadForm form,
                                    const std::vector<float>& embedding, std::size_t platform) {
  if (form == HeadForm::kClass) {
    std::vector<float> features = headFeatures(embedding, platform, form);
    auto probabilities = head.predictProbabilities(features.data(), 1, features.size());
    if (!probabilities) return probabilities.error();
    std::size_t best = static_cast<std::size_t>(
        std::max_element(probabilities->begin(), probabilities->end()) - probabilities->begin());
    return FactorChoice{kFactors[best], (*probabilities)[best]};
  }
  heads::FeatureMatrix matrix(kFactors.size(), headFeatureCount(embedding.size(), form));
  for (std::size_t f = 0; f < kFactors.size(); ++f) {
    std::vector<float> features = headFeatures(embedding, platform, form, kFactors[f]);
    std::copy(features.begin(), features.end(), matrix.row(f));
  }
  auto probabilities = head.predictProbabilities(matrix.values.data(), matrix.rows, matrix.cols);
  if (!probabilities) return probabilities.error();
  FactorChoice choice{kFactors[0], (*probabilities)[1]};
  for (std::size_t f = 1; f < kFactors.size(); ++f) {
    if ((*probabilities)[2 * f + 1] > choice.probability) choice = {kFactors[f], (*probabilities)[2 * f + 1]};
  }
  return choice;
}

namespace {

// Mean speedup of the factors a head picks on held-out rows: per row under kClass (the most probable class),
// per (kernel, platform) under kFactor (its most probable good factor among the held-out rows).
heads::ProbabilityScorer speedupScorer(const CoarsenData& data, const HeadRows& rows, HeadForm form) {
  return [&data, &rows, form](const std::vector<std::size_t>& held, const std::vector<float>& probabilities) {
    std::size_t k = held.empty() ? 1 : probabilities.size() / held.size();
    std::map<std::pair<std::size_t, std::size_t>, std::pair<float, int>>
        best;  // (kernel, platform) -> (p, factor)
    for (std::size_t i = 0; i < held.size(); ++i) {
      std::size_t r = held[i];
      const float* row = probabilities.data() + i * k;
      std::pair<float, int> choice;
      if (form == HeadForm::kClass) {
        std::size_t c = static_cast<std::size_t>(std::max_element(row, row + k) - row);
        choice = {row[c], kFactors[c]};
      } else {
        choice = {row[1], rows.factor[r]};
      }
      auto [it, inserted] = best.try_emplace({rows.kernel[r], rows.platform[r]}, choice);
      if (!inserted && choice.first > it->second.first) it->second = choice;
    }
    double sum = 0;
    for (const auto& [key, choice] : best) sum += data.kernels[key.first].speedup(key.second, choice.second);
    return best.empty() ? 0.0 : sum / static_cast<double>(best.size());
  };
}

}  // namespace

Expected<TrainedHead> trainHead(const CoarsenData& data, const std::vector<std::vector<float>>& embeddings,
                                const std::vector<std::size_t>& group,
                                const std::vector<std::size_t>& kernels,
                                const std::vector<std::size_t>& platforms, const EvalOptions& options) {
  HeadRows rows = headRows(data, embeddings, kernels, platforms, options.form);
  // Inner folds of whole programs: a kernel's rows on every platform, and kernels of one program, stay
  // together.
  std::vector<std::size_t> rowGroups;
  for (std::size_t k : rows.kernel) rowGroups.push_back(group[k]);
  auto folds = heads::groupedKFold(rowGroups, options.innerFolds, options.seed);
  if (!folds) return folds.error().withContext("inner cross-validation over the training kernels");
  auto selection =
      heads::selectByFolds(rows.dataset, options.candidates, *folds, speedupScorer(data, rows, options.form));
  if (!selection) return selection.error();
  TrainedHead head;
  head.model = std::move(selection->model);
  head.candidate = selection->best;
  head.innerSpeedup = selection->candidates[selection->bestIndex].meanScore;
  head.rows = rows.dataset.size();
  return head;
}

Expected<EvalResult> crossValidate(const CoarsenData& data, const std::vector<std::vector<float>>& embeddings,
                                   const std::vector<std::size_t>& group,
                                   const std::vector<std::size_t>& platforms, const EvalOptions& options,
                                   ProgressLine* progress) {
  const std::size_t n = data.kernels.size();
  std::vector<std::size_t> allPlatforms;
  for (std::size_t p = 0; p < kPlatforms.size(); ++p) allPlatforms.push_back(p);
  // Head trainings of one outer fold: one pooled head, or one per scored platform.
  std::vector<std::vector<std::size_t>> trainPlatforms;
  if (options.pooling == Pooling::kPooled) {
    trainPlatforms.push_back(allPlatforms);
  } else {
    for (std::size_t p : platforms) trainPlatforms.push_back({p});
  }
  EvalResult result;
  result.platforms = platforms;
  result.predicted.assign(platforms.size(), std::vector<int>(n, 1));
  result.probability.assign(platforms.size(), std::vector<double>(n, 0.0));
  std::vector<std::vector<std::optional<FoldChoice>>> choices(
      n, std::vector<std::optional<FoldChoice>>(trainPlatforms.size()));
  std::vector<std::optional<Error>> errors(n);
  std::mutex progressLock;
  parallelFor(n, std::max(1u, options.threads), [&](std::size_t k) {
    std::vector<std::size_t> held, train;
    for (std::size_t other = 0; other < n; ++other)
      (group[other] == group[k] ? held : train).push_back(other);
    for (std::size_t t = 0; t < trainPlatforms.size() && !errors[k]; ++t) {
      auto head = trainHead(data, embeddings, group, train, trainPlatforms[t], options);
      if (!head) {
        errors[k] = head.error().withContext(fmt::format("held-out kernel {}", data.kernels[k].name));
        break;
      }
      for (std::size_t i = 0; i < platforms.size(); ++i) {
        std::size_t p = platforms[i];
        if (std::find(trainPlatforms[t].begin(), trainPlatforms[t].end(), p) == trainPlatforms[t].end())
          continue;
        auto choice = chooseFactor(*head->model, options.form, embeddings[k], p);
        if (!choice) {
          errors[k] = choice.error();
          break;
        }
        result.predicted[i][k] = choice->factor;
        result.probability[i][k] = choice->probability;
      }
      std::string name =
          trainPlatforms[t].size() == 1 ? std::string(kPlatforms[trainPlatforms[t][0]].name) : kPooledHead;
      choices[k][t] = FoldChoice{k, held, name, head->candidate, head->innerSpeedup};
    }
    if (progress != nullptr) {
      std::lock_guard<std::mutex> guard(progressLock);
      progress->advance();
    }
  });
  for (std::size_t k = 0; k < n; ++k) {
    if (errors[k]) return *errors[k];
    for (auto& choice : choices[k]) result.folds.push_back(std::move(*choice));
  }
  std::vector<std::size_t> kernels(n);
  for (std::size_t k = 0; k < n; ++k) kernels[k] = k;
  double oracleSum = 0;
  for (std::size_t i = 0; i < platforms.size(); ++i) {
    result.scores.push_back(scoreFactors(data, platforms[i], kernels, result.predicted[i]));
    oracleSum += result.scores.back().oracleSpeedup;
  }
  result.meanSpeedup = meanOverPlatforms(result.scores);
  result.oracleMeanSpeedup = platforms.empty() ? 0 : oracleSum / static_cast<double>(platforms.size());
  return result;
}

nlohmann::json EvalResult::toJson(const CoarsenData& data) const {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t i = 0; i < platforms.size(); ++i) {
    const CoarsenPlatform& platform = kPlatforms[platforms[i]];
    nlohmann::json kernels = nlohmann::json::array();
    for (std::size_t k = 0; k < data.kernels.size(); ++k) {
      const CoarsenKernel& kernel = data.kernels[k];
      kernels.push_back({{"kernel", kernel.name},
                         {"oracle_factor", kernel.oracleFactor[platforms[i]]},
                         {"predicted_factor", predicted[i][k]},
                         {"clipped_factor", kernel.clip(platforms[i], predicted[i][k])},
                         {"probability", probability[i][k]},
                         {"speedup", kernel.speedup(platforms[i], predicted[i][k])},
                         {"oracle_speedup", kernel.oracleSpeedup(platforms[i])}});
    }
    const Score& score = scores[i];
    out[std::string(platform.name)] = {{"hardware", platform.hardware},
                                       {"speedup", score.meanSpeedup},
                                       {"geomean_speedup", score.geomeanSpeedup},
                                       {"oracle_speedup", score.oracleSpeedup},
                                       {"fraction_of_oracle", score.fractionOfOracle},
                                       {"guarded_speedup", score.guardedSpeedup},
                                       {"optimal", score.optimal},
                                       {"kernels", kernels}};
  }
  nlohmann::json foldList = nlohmann::json::array();
  for (const FoldChoice& fold : folds) {
    nlohmann::json held = nlohmann::json::array();
    for (std::size_t k : fold.held) held.push_back(data.kernels[k].name);
    foldList.push_back({{"kernel", data.kernels[fold.kernel].name},
                        {"held_out", held},
                        {"head", fold.head},
                        {"kind", fold.candidate.kind},
                        {"params", fold.candidate.params},
                        {"inner_speedup", fold.innerSpeedup}});
  }
  double guardedMean = 0;
  for (const Score& score : scores) guardedMean += score.guardedSpeedup / static_cast<double>(scores.size());
  return {{"platforms", out},
          {"mean_speedup", meanSpeedup},
          {"oracle_mean_speedup", oracleMeanSpeedup},
          {"guarded_mean_speedup", guardedMean},
          {"folds", foldList}};
}

}  // namespace mirtune::coarsen
