// Outer folds over the published split; inner cross-validation picks the head; metrics over all held-out rows.
#include "tasks/devmap/Evaluate.h"

#include "tasks/devmap/Features.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace mirtune::devmap {

std::string_view weightingName(Weighting weighting) { return weighting == Weighting::kNone ? "none" : "runtime"; }

heads::FeatureMatrix rowFeatureMatrix(const DevmapData& data, std::size_t platform,
                                      const std::vector<std::vector<float>>* embeddings) {
  static const std::vector<float> kNoEmbedding;
  std::size_t dimension = embeddings != nullptr && !embeddings->empty() ? embeddings->front().size() : 0;
  heads::FeatureMatrix matrix(data.rows.size(), dimension + kAuxFeatures.size());
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    std::vector<float> features = rowFeatures(embeddings != nullptr ? (*embeddings)[r] : kNoEmbedding,
                                              data.rows[r].transfer[platform], data.rows[r].wgsize[platform]);
    std::copy(features.begin(), features.end(), matrix.row(r));
  }
  return matrix;
}

heads::Dataset platformDataset(const DevmapData& data, std::size_t platform, heads::FeatureMatrix features,
                               Weighting weighting) {
  heads::Dataset dataset;
  dataset.features = std::move(features);
  dataset.classes = 2;
  for (const DevmapRow& row : data.rows) {
    dataset.labels.push_back(row.oracle[platform] == Device::kGpu ? 1 : 0);
    if (weighting == Weighting::kRuntime) {
      dataset.weights.push_back(runtimeWeight(row.runtimeCpu, row.runtimeGpu[platform]));
    }
  }
  return dataset;
}

float runtimeWeight(double cpuTime, double gpuTime) {
  return static_cast<float>(1.0 + std::fabs(std::log2(cpuTime / gpuTime)));
}

Expected<TrainedHead> selectHead(const std::function<heads::Dataset(Weighting)>& datasetFor, const EvalOptions& options,
                                 int innerFolds) {
  TrainedHead best;
  double bestScore = -std::numeric_limits<double>::infinity();
  std::optional<Error> lastError;
  for (Weighting weighting : options.weightings) {
    heads::Dataset dataset = datasetFor(weighting);
    auto selection = heads::selectByInnerCv(dataset, options.candidates, innerFolds, options.seed,
                                            heads::accuracyScorer(dataset.labels));
    if (!selection) {
      lastError = selection.error();
      continue;
    }
    double score = selection->candidates[selection->bestIndex].meanScore;
    if (score > bestScore) {
      bestScore = score;
      best.model = std::move(selection->model);
      best.candidate = selection->best;
      best.weighting = weighting;
      best.innerAccuracy = score;
    }
  }
  if (!best.model) {
    return lastError ? *lastError : makeError(ErrorCode::kUsage, "no head candidate or weighting to train");
  }
  return best;
}

Expected<TrainedHead> trainHead(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& train,
                                const heads::FeatureMatrix& features, const EvalOptions& options) {
  return selectHead([&](Weighting weighting) { return platformDataset(data, platform, features, weighting).subset(train); },
                    options, options.innerFolds);
}

Expected<EvalResult> crossValidate(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                                   const heads::FeatureMatrix& features, const EvalOptions& options) {
  EvalResult result;
  result.rows = rows;
  result.predicted.assign(rows.size(), Device::kCpu);
  result.gpuProbability.assign(rows.size(), 0.0f);
  for (int fold = 0; fold < 10; ++fold) {
    std::vector<std::size_t> train, test, testPositions;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (data.rows[rows[i]].fold[platform] == fold) {
        test.push_back(rows[i]);
        testPositions.push_back(i);
      } else {
        train.push_back(rows[i]);
      }
    }
    if (test.empty()) continue;
    auto head = trainHead(data, platform, train, features, options);
    if (!head) return head.error().withContext(fmt::format("{} fold {}", kPlatforms[platform].name, fold));
    heads::FeatureMatrix testFeatures(test.size(), features.cols);
    for (std::size_t t = 0; t < test.size(); ++t) {
      std::copy(features.row(test[t]), features.row(test[t]) + features.cols, testFeatures.row(t));
    }
    auto probabilities = head->model->predictProbabilities(testFeatures.values.data(), test.size(), features.cols);
    if (!probabilities) return probabilities.error();
    for (std::size_t t = 0; t < test.size(); ++t) {
      float gpu = (*probabilities)[2 * t + 1];
      result.gpuProbability[testPositions[t]] = gpu;
      result.predicted[testPositions[t]] = gpu > 0.5f ? Device::kGpu : Device::kCpu;
    }
    result.folds.push_back({fold, head->candidate, head->weighting, head->innerAccuracy});
  }
  result.score = scoreMapping(data, platform, rows, result.predicted);
  return result;
}

nlohmann::json EvalResult::toJson() const {
  nlohmann::json choices = nlohmann::json::array();
  for (const FoldChoice& fold : folds) {
    choices.push_back({{"fold", fold.fold},
                      {"head", fold.candidate.kind},
                      {"params", fold.candidate.params},
                      {"weighting", weightingName(fold.weighting)},
                      {"inner_accuracy", fold.innerAccuracy}});
  }
  return {{"rows", score.rows},
          {"accuracy", score.accuracy},
          {"speedup", score.meanSpeedup},
          {"geomean_speedup", score.geomeanSpeedup},
          {"folds", choices}};
}

}  // namespace mirtune::devmap
