// Pretraining loop. Every source of randomness is derived from (seed, epoch, step), so a run resumed from a
// checkpoint takes exactly the batches, masks and dropout it would have taken without the interruption.
#include "embeddings/Pretrain.h"

#include "corpus/Manifest.h"
#include "embeddings/Model.h"
#include "embeddings/ModuleProperties.h"
#include "frontend/Frontend.h"
#include "ir/ProgramGraph.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "support/Sha256.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

namespace mirtune {

namespace fs = std::filesystem;

nlohmann::json EpochMetrics::toJson() const {
  return {{"epoch", epoch},
          {"steps", steps},
          {"loss", loss},
          {"masked_token_loss", maskedTokenLoss},
          {"edge_loss", edgeLoss},
          {"match_loss", matchLoss},
          {"property_loss", propertyLoss},
          {"contrastive_loss", contrastiveLoss},
          {"held_out_property_r2", heldOutPropertyR2},
          {"held_out_contrastive_accuracy", heldOutContrastiveAccuracy},
          {"held_out_masked_token_loss", heldOutMaskedTokenLoss},
          {"held_out_masked_token_accuracy", heldOutMaskedTokenAccuracy},
          {"held_out_edge_auc", heldOutEdgeAuc},
          {"held_out_match_accuracy", heldOutMatchAccuracy},
          {"seconds", seconds},
          {"tokens_per_second", tokensPerSecond}};
}

double areaUnderCurve(const std::vector<float>& positives, const std::vector<float>& negatives) {
  if (positives.empty() || negatives.empty()) return 0.5;
  std::vector<std::pair<float, int>> scored;
  for (float s : positives) scored.emplace_back(s, 1);
  for (float s : negatives) scored.emplace_back(s, 0);
  std::sort(scored.begin(), scored.end());
  // Mann–Whitney U with average ranks for ties.
  double rankSumPositive = 0;
  for (std::size_t i = 0; i < scored.size();) {
    std::size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    double averageRank = 0.5 * static_cast<double>(i + 1 + j);
    for (std::size_t k = i; k < j; ++k) {
      if (scored[k].second == 1) rankSumPositive += averageRank;
    }
    i = j;
  }
  double p = static_cast<double>(positives.size());
  double n = static_cast<double>(negatives.size());
  return (rankSumPositive - p * (p + 1) / 2) / (p * n);
}

namespace {

struct Module {
  EncoderInput input;
  std::string program;
  ModuleProperties properties{};  ///< property task only: standardised over the training modules
};

// Modules prepared once per (corpus, tokenizer, limits) and cached beside the corpus.
Expected<std::vector<Module>> loadModules(const PretrainOptions& options, const Tokenizer& tokenizer) {
  auto records = readCorpusManifest(options.corpus);
  if (!records) return records.error();
  std::vector<CorpusRecord> selected = std::move(*records);
  if (options.maxModules > 0 && selected.size() > options.maxModules) selected.resize(options.maxModules);
  if (selected.empty()) return makeError(ErrorCode::kInvalidInput, "{}: the corpus is empty", options.corpus.string());

  std::string key = encoderInputKey(tokenizer, options.limits);
  Sha256 keyHash;
  keyHash.update(key);
  for (const CorpusRecord& record : selected) keyHash.update(record.irSha256);
  auto digest = keyHash.finish();
  fs::path cache = options.corpus / fmt::format("encoder-inputs-{}.bin", toHex(digest.data(), 6));

  std::vector<EncoderInput> inputs;
  if (auto cached = readEncoderInputs(cache.string(), key)) {
    inputs = std::move(*cached);
    logInfo("read {} prepared inputs from {}", inputs.size(), cache.string());
  } else {
    ProgressLine progress("preparing", selected.size());
    std::size_t failed = 0;
    for (const CorpusRecord& record : selected) {
      progress.advance();
      auto module = compileFile(options.corpus / record.file);
      Expected<EncoderInput> input = module ? prepareEncoderInput(*module, tokenizer, options.limits)
                                            : Expected<EncoderInput>(module.error());
      if (!input) {
        ++failed;
        logWarn("skipping {}: {}", record.file, input.error().message());
        input = EncoderInput{};  // keeps the record/input alignment; skipped below
      }
      inputs.push_back(std::move(*input));
    }
    progress.finish();
    logInfo("prepared {} inputs ({} failed)", inputs.size() - failed, failed);
    if (auto written = writeEncoderInputs(cache.string(), key, inputs); !written) {
      logWarn("cannot cache prepared inputs: {}", written.error().message());
    }
  }
  if (inputs.size() != selected.size()) {
    return makeError(ErrorCode::kInvalidInput, "{}: {} prepared inputs for {} corpus records", cache.string(),
                     inputs.size(), selected.size());
  }
  std::vector<Module> modules;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (inputs[i].tokens.empty()) continue;
    modules.push_back({std::move(inputs[i]), selected[i].program});
  }
  return modules;
}

// The property task's targets: every module's properties, each standardised to mean 0 and deviation 1 over the
// training modules (a constant one stays 0).
void setPropertyTargets(std::vector<Module>& modules, const std::vector<std::size_t>& train, const Tokenizer& tokenizer) {
  ModulePropertyReader reader(tokenizer);
  for (Module& module : modules) module.properties = reader.read(module.input);
  std::array<double, kModulePropertyCount> mean{}, square{};
  for (std::size_t id : train) {
    for (int p = 0; p < kModulePropertyCount; ++p) {
      mean[p] += modules[id].properties[p];
      square[p] += static_cast<double>(modules[id].properties[p]) * modules[id].properties[p];
    }
  }
  const double n = static_cast<double>(train.size());
  for (int p = 0; p < kModulePropertyCount; ++p) {
    mean[p] /= n;
    double deviation = std::sqrt(std::max(0.0, square[p] / n - mean[p] * mean[p]));
    for (Module& module : modules) {
      module.properties[p] =
          deviation > 1e-9 ? static_cast<float>((module.properties[p] - mean[p]) / deviation) : 0.0f;
    }
  }
}

bool isHeldOut(const std::string& program, double fraction) {
  std::string digest = sha256Hex("held-out:" + program);
  return std::stoul(digest.substr(0, 6), nullptr, 16) % 100000 < static_cast<unsigned long>(fraction * 100000);
}

// An epoch's batches: programs in a shuffled order, each program's modules together, so most batches hold
// several -O variants of one program (the hard negatives of the matching task).
std::vector<std::vector<std::size_t>> makeBatches(const std::vector<std::size_t>& moduleIds,
                                                  const std::vector<Module>& modules, int batchSize,
                                                  std::uint64_t shuffleSeed) {
  std::map<std::string, std::vector<std::size_t>> byProgram;
  for (std::size_t id : moduleIds) byProgram[modules[id].program].push_back(id);
  std::vector<const std::vector<std::size_t>*> programs;
  for (const auto& entry : byProgram) programs.push_back(&entry.second);
  std::mt19937_64 random(shuffleSeed);
  std::shuffle(programs.begin(), programs.end(), random);
  std::vector<std::size_t> order;
  for (const auto* members : programs) {
    std::vector<std::size_t> shuffled = *members;
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    order.insert(order.end(), shuffled.begin(), shuffled.end());
  }
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(batchSize)) {
    batches.emplace_back(order.begin() + static_cast<long>(start),
                         order.begin() + static_cast<long>(std::min(order.size(), start + static_cast<std::size_t>(batchSize))));
  }
  return batches;
}

struct StepResult {
  torch::Tensor loss;
  double maskedTokenLoss = 0, edgeLoss = 0, matchLoss = 0, propertyLoss = 0, contrastiveLoss = 0;
  double propertySquaredError = 0, propertySquaredTotal = 0;  ///< sums over the batch's standardised targets
  std::int64_t contrastiveCorrect = 0, contrastiveTotal = 0;
  std::int64_t maskedCorrect = 0, maskedTotal = 0;
  std::int64_t matchCorrect = 0, matchTotal = 0;
  std::vector<float> edgePositive, edgeNegative;
  std::int64_t tokens = 0;
};

// One forward pass with all three tasks. `random` drives the edge masking and negative sampling; torch's global
// generator (seeded by the caller) drives token masking and dropout.
StepResult runStep(MirEncoder& model, const std::vector<Module>& modules, const std::vector<std::size_t>& batchIds,
                   const PretrainOptions& options, std::mt19937_64& random, bool collectScores) {
  StepResult result;
  std::vector<const EncoderInput*> inputs;
  for (std::size_t id : batchIds) inputs.push_back(&modules[id].input);

  // Graph auto-encoding targets: hidden edges, each with one corrupted copy (same source and flow, random target
  // in the same graph).
  std::vector<bool> keepEdge;
  std::vector<std::int64_t> positiveSources, positiveTargets, positiveFlows, negativeTargets;
  std::bernoulli_distribution hide(options.edgeMaskProbability);
  std::int64_t nodeBase = 0;
  for (const EncoderInput* input : inputs) {
    std::uniform_int_distribution<std::int64_t> anyNode(0, std::max<std::int64_t>(0, static_cast<std::int64_t>(input->nodeCount()) - 1));
    for (std::size_t e = 0; e < input->edgeCount(); ++e) {
      bool hidden = hide(random);
      keepEdge.push_back(!hidden);
      if (!hidden) continue;
      positiveSources.push_back(nodeBase + input->edgeSources[e]);
      positiveTargets.push_back(nodeBase + input->edgeTargets[e]);
      positiveFlows.push_back(input->edgeFlows[e]);
      negativeTargets.push_back(nodeBase + anyNode(random));
    }
    nodeBase += static_cast<std::int64_t>(input->nodeCount());
  }
  EncoderBatch batch = makeBatch(inputs, &keepEdge);

  // Masked tokens: 15% of ordinary tokens; of those 80% [MASK], 10% a random token, 10% unchanged.
  torch::Tensor original = batch.tokens;
  torch::Tensor candidates = original.ge(5);
  torch::Tensor selected = torch::bernoulli(torch::full(original.sizes(), options.maskProbability)).to(torch::kBool) &
                           candidates;
  torch::Tensor draw = torch::rand(original.sizes());
  torch::Tensor masked = original.clone();
  masked.masked_fill_(selected & draw.lt(0.8), kMaskToken.id);
  torch::Tensor randomTokens = torch::randint(5, model->config.vocabularySize, original.sizes(), torch::kInt64);
  torch::Tensor replace = selected & draw.ge(0.8) & draw.lt(0.9);
  masked = torch::where(replace, randomTokens, masked);
  batch.tokens = masked;
  result.tokens = candidates.sum().item<std::int64_t>();

  EncoderOutput out = model->forward(batch);
  torch::Tensor loss = torch::zeros({});

  if (selected.any().item<bool>()) {
    torch::Tensor logits = model->maskedTokenLogits(out.tokenStates.index({selected}));
    torch::Tensor labels = original.index({selected});
    torch::Tensor maskedLoss = torch::nn::functional::cross_entropy(logits, labels);
    loss = loss + options.maskedTokenWeight * maskedLoss;
    result.maskedTokenLoss = maskedLoss.item<double>();
    result.maskedCorrect = logits.argmax(1).eq(labels).sum().item<std::int64_t>();
    result.maskedTotal = labels.size(0);
  }

  if (!positiveSources.empty()) {
    torch::Tensor sources = int64Tensor(positiveSources), flows = int64Tensor(positiveFlows);
    torch::Tensor positive = model->edgeScores(out.nodeStates, sources, int64Tensor(positiveTargets), flows);
    torch::Tensor negative = model->edgeScores(out.nodeStates, sources, int64Tensor(negativeTargets), flows);
    torch::Tensor scores = torch::cat({positive, negative});
    torch::Tensor labels = torch::cat({torch::ones_like(positive), torch::zeros_like(negative)});
    torch::Tensor edgeLoss = torch::nn::functional::binary_cross_entropy_with_logits(scores, labels);
    loss = loss + options.edgeWeight * edgeLoss;
    result.edgeLoss = edgeLoss.item<double>();
    if (collectScores) {
      torch::Tensor p = positive.detach().contiguous(), n = negative.detach().contiguous();
      result.edgePositive.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
      result.edgeNegative.assign(n.data_ptr<float>(), n.data_ptr<float>() + n.numel());
    }
  }

  // IR–graph matching: (tokens_i, graph_i) positive; graph of another program in the batch, and of the same
  // program at another -O level, negative.
  std::vector<std::int64_t> tokenSide, graphSide;
  std::vector<float> matchLabels;
  std::size_t b = batchIds.size();
  for (std::size_t i = 0; i < b; ++i) {
    tokenSide.push_back(static_cast<std::int64_t>(i));
    graphSide.push_back(static_cast<std::int64_t>(i));
    matchLabels.push_back(1.0f);
    for (std::size_t step = 1; step < b; ++step) {
      std::size_t j = (i + step) % b;
      if (modules[batchIds[j]].program != modules[batchIds[i]].program) {
        tokenSide.push_back(static_cast<std::int64_t>(i));
        graphSide.push_back(static_cast<std::int64_t>(j));
        matchLabels.push_back(0.0f);
        break;
      }
    }
    for (std::size_t step = 1; step < b; ++step) {
      std::size_t j = (i + step) % b;
      if (modules[batchIds[j]].program == modules[batchIds[i]].program) {
        tokenSide.push_back(static_cast<std::int64_t>(i));
        graphSide.push_back(static_cast<std::int64_t>(j));
        matchLabels.push_back(0.0f);
        break;
      }
    }
  }
  if (b > 1) {
    torch::Tensor tokenIndex = torch::tensor(tokenSide, torch::kInt64);
    torch::Tensor graphIndex = torch::tensor(graphSide, torch::kInt64);
    torch::Tensor labels = torch::tensor(matchLabels);
    torch::Tensor logits = model->matchLogits(out.tokenVectors.index_select(0, tokenIndex),
                                              out.graphVectors.index_select(0, graphIndex));
    torch::Tensor matchLoss = torch::nn::functional::binary_cross_entropy_with_logits(logits, labels);
    loss = loss + options.matchWeight * matchLoss;
    result.matchLoss = matchLoss.item<double>();
    result.matchCorrect = logits.gt(0).eq(labels.gt(0.5)).sum().item<std::int64_t>();
    result.matchTotal = labels.size(0);
  }

  if (options.propertyWeight > 0) {
    std::vector<float> targets;
    for (std::size_t id : batchIds) targets.insert(targets.end(), modules[id].properties.begin(), modules[id].properties.end());
    torch::Tensor target = torch::tensor(targets).view({static_cast<long>(b), kModulePropertyCount});
    torch::Tensor predicted = model->propertyPredictions(out.fused);
    torch::Tensor propertyLoss = torch::nn::functional::mse_loss(predicted, target);
    loss = loss + options.propertyWeight * propertyLoss;
    result.propertyLoss = propertyLoss.item<double>();
    result.propertySquaredError = (predicted.detach() - target).pow(2).sum().item<double>();
    result.propertySquaredTotal = target.pow(2).sum().item<double>();
  }

  if (options.contrastiveWeight > 0 && b > 1) {
    // Supervised contrast: every other module of the same program in the batch is a positive.
    std::vector<float> same(b * b, 0.0f);
    for (std::size_t i = 0; i < b; ++i) {
      for (std::size_t j = 0; j < b; ++j) {
        if (i != j && modules[batchIds[i]].program == modules[batchIds[j]].program) same[i * b + j] = 1.0f;
      }
    }
    torch::Tensor positive = torch::tensor(same).view({static_cast<long>(b), static_cast<long>(b)});
    torch::Tensor anchors = positive.sum(1).gt(0);
    if (anchors.any().item<bool>()) {
      torch::Tensor z = model->contrastiveProjections(out.fused);
      torch::Tensor self = torch::eye(static_cast<long>(b), torch::kBool);
      torch::Tensor similarity = (torch::matmul(z, z.t()) / options.contrastiveTemperature).masked_fill(self, -1e9);
      torch::Tensor logProbability = similarity - torch::logsumexp(similarity, 1, /*keepdim=*/true);
      torch::Tensor perAnchor = -(logProbability * positive).sum(1) / positive.sum(1).clamp_min(1.0);
      torch::Tensor contrastiveLoss = perAnchor.index({anchors}).mean();
      loss = loss + options.contrastiveWeight * contrastiveLoss;
      result.contrastiveLoss = contrastiveLoss.item<double>();
      torch::Tensor nearest = similarity.detach().argmax(1, /*keepdim=*/true);
      torch::Tensor hit = positive.gather(1, nearest).squeeze(1).gt(0.5);
      result.contrastiveCorrect = (hit & anchors).sum().item<std::int64_t>();
      result.contrastiveTotal = anchors.sum().item<std::int64_t>();
    }
  }
  result.loss = loss;
  return result;
}

double learningRateAt(const PretrainOptions& options, std::size_t step, std::size_t totalSteps) {
  if (step < static_cast<std::size_t>(options.warmupSteps)) {
    return options.learningRate * static_cast<double>(step + 1) / options.warmupSteps;
  }
  double progress = totalSteps <= static_cast<std::size_t>(options.warmupSteps)
                        ? 1.0
                        : static_cast<double>(step - options.warmupSteps) / static_cast<double>(totalSteps - options.warmupSteps);
  progress = std::min(1.0, progress);
  // Cosine decay to a tenth of the peak.
  return options.learningRate * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(3.14159265358979 * progress)));
}

EpochMetrics evaluate(MirEncoder& model, const std::vector<Module>& modules, const std::vector<std::size_t>& heldOut,
                      const PretrainOptions& options) {
  EpochMetrics metrics;
  if (heldOut.empty()) return metrics;
  model->eval();
  torch::NoGradGuard noGrad;
  auto batches = makeBatches(heldOut, modules, options.batchSize, options.seed ^ 0x9e3779b97f4a7c15ULL);
  std::int64_t maskedCorrect = 0, maskedTotal = 0, matchCorrect = 0, matchTotal = 0;
  double maskedLoss = 0, propertyError = 0, propertyTotal = 0;
  std::int64_t contrastiveCorrect = 0, contrastiveTotal = 0;
  std::size_t evaluated = 0;
  std::vector<float> positives, negatives;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (options.maxHeldOut > 0 && evaluated >= options.maxHeldOut) break;
    torch::manual_seed(options.seed * 7919 + i);
    std::mt19937_64 random(options.seed * 104729 + i);
    StepResult step = runStep(model, modules, batches[i], options, random, /*collectScores=*/true);
    maskedCorrect += step.maskedCorrect;
    maskedTotal += step.maskedTotal;
    maskedLoss += step.maskedTokenLoss * static_cast<double>(step.maskedTotal);
    matchCorrect += step.matchCorrect;
    matchTotal += step.matchTotal;
    positives.insert(positives.end(), step.edgePositive.begin(), step.edgePositive.end());
    negatives.insert(negatives.end(), step.edgeNegative.begin(), step.edgeNegative.end());
    propertyError += step.propertySquaredError;
    propertyTotal += step.propertySquaredTotal;
    contrastiveCorrect += step.contrastiveCorrect;
    contrastiveTotal += step.contrastiveTotal;
    evaluated += batches[i].size();
  }
  model->train();
  metrics.heldOutMaskedTokenAccuracy = maskedTotal > 0 ? static_cast<double>(maskedCorrect) / maskedTotal : 0;
  metrics.heldOutMaskedTokenLoss = maskedTotal > 0 ? maskedLoss / maskedTotal : 0;
  metrics.heldOutMatchAccuracy = matchTotal > 0 ? static_cast<double>(matchCorrect) / matchTotal : 0;
  metrics.heldOutEdgeAuc = areaUnderCurve(positives, negatives);
  if (options.propertyWeight > 0 && propertyTotal > 0) metrics.heldOutPropertyR2 = 1.0 - propertyError / propertyTotal;
  if (options.contrastiveWeight > 0 && contrastiveTotal > 0) {
    metrics.heldOutContrastiveAccuracy = static_cast<double>(contrastiveCorrect) / static_cast<double>(contrastiveTotal);
  }
  return metrics;
}

struct TrainingState {
  int epoch = 0;
  std::size_t batch = 0;  ///< next batch of `epoch`
  std::size_t globalStep = 0;
  double seconds = 0;
  std::vector<EpochMetrics> finished;
  // Running sums of the current epoch.
  double lossSum = 0, maskedSum = 0, edgeSum = 0, matchSum = 0, propertySum = 0, contrastiveSum = 0;
  std::size_t epochSteps = 0;
  double epochSeconds = 0;
  std::int64_t epochTokens = 0;

  nlohmann::json toJson() const {
    nlohmann::json epochs = nlohmann::json::array();
    for (const EpochMetrics& m : finished) epochs.push_back(m.toJson());
    return {{"epoch", epoch},         {"batch", batch},          {"global_step", globalStep}, {"seconds", seconds},
            {"finished", epochs},     {"loss_sum", lossSum},     {"masked_sum", maskedSum},   {"edge_sum", edgeSum},
            {"match_sum", matchSum},  {"property_sum", propertySum}, {"contrastive_sum", contrastiveSum},
            {"epoch_steps", epochSteps}, {"epoch_seconds", epochSeconds},
            {"epoch_tokens", epochTokens}};
  }
};

EpochMetrics epochMetricsFromJson(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.value("epoch", 0);
  m.steps = j.value("steps", std::size_t{0});
  m.loss = j.value("loss", 0.0);
  m.maskedTokenLoss = j.value("masked_token_loss", 0.0);
  m.edgeLoss = j.value("edge_loss", 0.0);
  m.matchLoss = j.value("match_loss", 0.0);
  m.propertyLoss = j.value("property_loss", 0.0);
  m.contrastiveLoss = j.value("contrastive_loss", 0.0);
  m.heldOutPropertyR2 = j.value("held_out_property_r2", -1.0);
  m.heldOutContrastiveAccuracy = j.value("held_out_contrastive_accuracy", -1.0);
  m.heldOutMaskedTokenLoss = j.value("held_out_masked_token_loss", 0.0);
  m.heldOutMaskedTokenAccuracy = j.value("held_out_masked_token_accuracy", 0.0);
  m.heldOutEdgeAuc = j.value("held_out_edge_auc", 0.0);
  m.heldOutMatchAccuracy = j.value("held_out_match_accuracy", 0.0);
  m.seconds = j.value("seconds", 0.0);
  m.tokensPerSecond = j.value("tokens_per_second", 0.0);
  return m;
}

TrainingState trainingStateFromJson(const nlohmann::json& j) {
  TrainingState s;
  s.epoch = j.value("epoch", 0);
  s.batch = j.value("batch", std::size_t{0});
  s.globalStep = j.value("global_step", std::size_t{0});
  s.seconds = j.value("seconds", 0.0);
  for (const auto& m : j.value("finished", nlohmann::json::array())) s.finished.push_back(epochMetricsFromJson(m));
  s.lossSum = j.value("loss_sum", 0.0);
  s.maskedSum = j.value("masked_sum", 0.0);
  s.edgeSum = j.value("edge_sum", 0.0);
  s.matchSum = j.value("match_sum", 0.0);
  s.propertySum = j.value("property_sum", 0.0);
  s.contrastiveSum = j.value("contrastive_sum", 0.0);
  s.epochSteps = j.value("epoch_steps", std::size_t{0});
  s.epochSeconds = j.value("epoch_seconds", 0.0);
  s.epochTokens = j.value("epoch_tokens", std::int64_t{0});
  return s;
}

// A checkpoint is a folder written beside the old one and renamed over it, so a crash never leaves half of one.
Status saveCheckpoint(const fs::path& out, MirEncoder& model, torch::optim::AdamW& optimizer,
                      const TrainingState& state, const nlohmann::json& identity) {
  fs::path folder = out / "checkpoint";
  fs::path temporary = out / "checkpoint.tmp";
  std::error_code ec;
  fs::remove_all(temporary, ec);
  fs::create_directories(temporary, ec);
  try {
    torch::save(model, (temporary / "model.pt").string());
    torch::save(optimizer, (temporary / "optimizer.pt").string());
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kIo, "{}: cannot save checkpoint: {}", temporary.string(), e.what());
  }
  nlohmann::json stateJson = state.toJson();
  stateJson["identity"] = identity;
  if (auto written = writeFileAtomically(temporary / "state.json", stateJson.dump(1)); !written) return written;
  fs::remove_all(folder, ec);
  fs::rename(temporary, folder, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: {}", folder.string(), ec.message());
  return success();
}

void appendLog(const fs::path& file, const nlohmann::json& record) {
  if (file.empty()) return;
  std::ofstream out(file, std::ios::app);
  out << record.dump() << "\n";
}

}  // namespace

Expected<std::vector<EpochMetrics>> pretrain(const PretrainOptions& options) {
  try {
    torch::set_num_threads(std::max(1, options.threads));
    auto tokenizer = Tokenizer::loadOrDefault(options.tokenizerDirectory);
    if (!tokenizer) return tokenizer.error();
    fs::path tokenizerDirectory =
        options.tokenizerDirectory.empty() ? Tokenizer::defaultDirectory() : fs::path(options.tokenizerDirectory);
    auto loaded = loadModules(options, *tokenizer);
    if (!loaded) return loaded.error();
    std::vector<Module> modules = std::move(*loaded);

    std::vector<std::size_t> train, heldOut;
    for (std::size_t i = 0; i < modules.size(); ++i) {
      (isHeldOut(modules[i].program, options.heldOutFraction) ? heldOut : train).push_back(i);
    }
    if (train.empty()) return makeError(ErrorCode::kInvalidInput, "no training modules after the held-out split");
    if (options.propertyWeight > 0) setPropertyTargets(modules, train, *tokenizer);
    logInfo("{} training modules, {} held out (by program)", train.size(), heldOut.size());

    EncoderConfig config = options.config;
    config.vocabularySize = tokenizer->vocabularySize();
    config.maxTokens = static_cast<int>(options.limits.maxTokens);
    config.maxEdgePosition = static_cast<int>(options.limits.maxEdgePosition);
    config.propertyTargets = options.propertyWeight > 0 ? kModulePropertyCount : 0;
    config.contrastiveDim = options.contrastiveWeight > 0 ? options.contrastiveDim : 0;
    if (auto valid = config.validate(); !valid) return valid.error();

    torch::manual_seed(options.seed);
    MirEncoder model(config);
    model->train();
    torch::optim::AdamW optimizer(model->parameters(),
                                  torch::optim::AdamWOptions(options.learningRate).weight_decay(options.weightDecay));

    std::size_t batchesPerEpoch = (train.size() + options.batchSize - 1) / options.batchSize;
    if (options.maxStepsPerEpoch > 0) batchesPerEpoch = std::min(batchesPerEpoch, options.maxStepsPerEpoch);
    std::size_t totalSteps = batchesPerEpoch * static_cast<std::size_t>(options.epochs);

    // What a checkpoint must agree on to be resumed.
    nlohmann::json identity = {{"tokenizer", tokenizer->id()},   {"config", config.toJson()},
                               {"seed", options.seed},           {"batch_size", options.batchSize},
                               {"epochs", options.epochs},       {"modules", modules.size()},
                               {"learning_rate", options.learningRate}};
    TrainingState state;
    fs::create_directories(options.out);
    if (options.resume) {
      auto stateText = readFile(options.out / "checkpoint" / "state.json");
      if (!stateText) {
        return makeError(ErrorCode::kNotFound, "{}: no checkpoint to resume from", options.out.string());
      }
      nlohmann::json stateJson = nlohmann::json::parse(*stateText);
      if (stateJson.value("identity", nlohmann::json()) != identity) {
        return makeError(ErrorCode::kVersion,
                         "{}: the checkpoint was made with other options (tokenizer, sizes, seed, batch size, epochs or "
                         "corpus); resume with the same ones",
                         options.out.string());
      }
      state = trainingStateFromJson(stateJson);
      torch::load(model, (options.out / "checkpoint" / "model.pt").string());
      torch::load(optimizer, (options.out / "checkpoint" / "optimizer.pt").string());
      logInfo("resuming at epoch {}, batch {} (step {})", state.epoch + 1, state.batch, state.globalStep);
    }

    auto lastCheckpoint = std::chrono::steady_clock::now();
    for (; state.epoch < options.epochs; ++state.epoch) {
      auto batches = makeBatches(train, modules, options.batchSize, options.seed * 1000003ULL + static_cast<std::uint64_t>(state.epoch));
      if (batches.size() > batchesPerEpoch) batches.resize(batchesPerEpoch);
      ProgressLine progress(fmt::format("epoch {}/{}", state.epoch + 1, options.epochs), batches.size());
      if (state.batch > 0) progress.advance(state.batch);
      for (; state.batch < batches.size(); ++state.batch, ++state.globalStep) {
        auto start = std::chrono::steady_clock::now();
        torch::manual_seed(options.seed * 1000003ULL + state.globalStep);
        std::mt19937_64 random(options.seed * 999983ULL + state.globalStep);
        double rate = learningRateAt(options, state.globalStep, totalSteps);
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
        StepResult step = runStep(model, modules, batches[state.batch], options, random, false);
        optimizer.zero_grad();
        step.loss.backward();
        torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
        optimizer.step();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        state.seconds += seconds;
        state.epochSeconds += seconds;
        state.epochTokens += step.tokens;
        state.lossSum += step.loss.item<double>();
        state.maskedSum += step.maskedTokenLoss;
        state.edgeSum += step.edgeLoss;
        state.matchSum += step.matchLoss;
        state.propertySum += step.propertyLoss;
        state.contrastiveSum += step.contrastiveLoss;
        ++state.epochSteps;
        double n = static_cast<double>(state.epochSteps);
        progress.advance(1, fmt::format("mlm {:.3f} edge {:.3f} match {:.3f} | {:.0f} tok/s", state.maskedSum / n,
                                        state.edgeSum / n, state.matchSum / n, state.epochTokens / state.epochSeconds));
        if (state.globalStep % 10 == 0) {
          appendLog(options.logFile, {{"step", state.globalStep}, {"epoch", state.epoch + 1}, {"loss", step.loss.item<double>()},
                                      {"masked_token_loss", step.maskedTokenLoss}, {"edge_loss", step.edgeLoss},
                                      {"match_loss", step.matchLoss}, {"property_loss", step.propertyLoss},
                                      {"contrastive_loss", step.contrastiveLoss}, {"learning_rate", rate}});
        }
        bool stopping = options.stopAfterSteps > 0 && state.globalStep + 1 >= options.stopAfterSteps;
        if (stopping ||
            std::chrono::steady_clock::now() - lastCheckpoint > std::chrono::duration<double>(60.0 * options.checkpointMinutes)) {
          TrainingState next = state;
          ++next.batch;
          ++next.globalStep;
          if (auto saved = saveCheckpoint(options.out, model, optimizer, next, identity); !saved) return saved.error();
          lastCheckpoint = std::chrono::steady_clock::now();
          if (stopping) {
            progress.finish();
            logInfo("stopped after step {} as asked; `--resume` continues", state.globalStep + 1);
            return state.finished;
          }
        }
      }
      progress.finish();
      EpochMetrics metrics = evaluate(model, modules, heldOut, options);
      double n = std::max<double>(1.0, static_cast<double>(state.epochSteps));
      metrics.epoch = state.epoch + 1;
      metrics.steps = state.epochSteps;
      metrics.loss = state.lossSum / n;
      metrics.maskedTokenLoss = state.maskedSum / n;
      metrics.edgeLoss = state.edgeSum / n;
      metrics.matchLoss = state.matchSum / n;
      metrics.propertyLoss = state.propertySum / n;
      metrics.contrastiveLoss = state.contrastiveSum / n;
      metrics.seconds = state.epochSeconds;
      metrics.tokensPerSecond = state.epochSeconds > 0 ? state.epochTokens / state.epochSeconds : 0;
      state.finished.push_back(metrics);
      logInfo("epoch {}: loss {:.3f} (mlm {:.3f}, edge {:.3f}, match {:.3f}); held out: mlm accuracy {:.3f}, edge AUC "
              "{:.3f}, match accuracy {:.3f}; {:.0f} tokens/s",
              metrics.epoch, metrics.loss, metrics.maskedTokenLoss, metrics.edgeLoss, metrics.matchLoss,
              metrics.heldOutMaskedTokenAccuracy, metrics.heldOutEdgeAuc, metrics.heldOutMatchAccuracy,
              metrics.tokensPerSecond);
      if (options.propertyWeight > 0 || options.contrastiveWeight > 0) {
        logInfo("epoch {}: property loss {:.3f}, held-out R2 {:.3f}; contrastive loss {:.3f}, held-out accuracy {:.3f}",
                metrics.epoch, metrics.propertyLoss, metrics.heldOutPropertyR2, metrics.contrastiveLoss,
                metrics.heldOutContrastiveAccuracy);
      }
      nlohmann::json record = metrics.toJson();
      record["kind"] = "epoch";
      appendLog(options.logFile, record);
      state.batch = 0;
      state.lossSum = state.maskedSum = state.edgeSum = state.matchSum = state.propertySum = state.contrastiveSum = 0;
      state.epochSteps = 0;
      state.epochSeconds = 0;
      state.epochTokens = 0;
      TrainingState next = state;
      ++next.epoch;
      if (auto saved = saveCheckpoint(options.out, model, optimizer, next, identity); !saved) return saved.error();
      lastCheckpoint = std::chrono::steady_clock::now();
    }

    nlohmann::json epochs = nlohmann::json::array();
    for (const EpochMetrics& m : state.finished) epochs.push_back(m.toJson());
    auto summary = readCorpusSummary(options.corpus);
    nlohmann::json extra = {
        {"corpus",
         {{"path", fs::absolute(options.corpus).lexically_normal().string()},
          {"modules", modules.size()},
          {"training_modules", train.size()},
          {"held_out_modules", heldOut.size()},
          {"manifest_sha256", sha256File(options.corpus / kCorpusManifestFile).ok()
                                  ? *sha256File(options.corpus / kCorpusManifestFile)
                                  : std::string()}}},
        {"training",
         {{"command", options.command},
          {"epochs", options.epochs},
          {"seed", options.seed},
          {"threads", options.threads},
          {"batch_size", options.batchSize},
          {"learning_rate", options.learningRate},
          {"loss_weights",
           {{"masked_token", options.maskedTokenWeight},
            {"edge", options.edgeWeight},
            {"match", options.matchWeight},
            {"property", options.propertyWeight},
            {"contrastive", options.contrastiveWeight}}},
          {"seconds", state.seconds},
          {"mirtune_version", toolVersion()},
          {"git_commit", gitCommit()}}},
        {"metrics", epochs},
    };
    model->eval();
    if (auto written = writeModelFolder(model, config, options.limits, tokenizerDirectory, options.out, extra); !written) {
      return written.error();
    }
    return state.finished;
  } catch (const std::exception& e) {
    std::string what = e.what();
    return makeError(ErrorCode::kInternal, "pretraining failed: {}", what.substr(0, what.find('\n')));
  }
}

}  // namespace mirtune
