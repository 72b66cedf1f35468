// Outer folds (published, kernel or suite); inner cross-validation, grouped alike, picks the head; metrics
// over all held-out rows.
#include "tasks/devmap/Evaluate.h"

#include "tasks/devmap/Features.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace mirtune::devmap {

std::string_view weightingName(Weighting weighting) { return weighting == Weighting::kNone ? "none" : "runtime"; }

std::string_view splitName(Split split) {
  switch (split) {
    case Split::kPublished:
      return "published";
    case Split::kKernel:
      return "kernel";
    case Split::kSuite:
      return "suite";
  }
  return "published";
}

Expected<Split> parseSplit(std::string_view name) {
  for (Split split : {Split::kPublished, Split::kKernel, Split::kSuite}) {
    if (splitName(split) == name) return split;
  }
  return makeError(
      ErrorCode::kUsage,
      "unknown --split '{}' (published: the data set's folds; kernel: every input of a kernel in one "
      "fold; suite: leave one benchmark suite out; or a list such as published,kernel,suite)",
      name);
}

Expected<std::vector<Split>> parseSplits(std::string_view names) {
  std::vector<Split> splits;
  std::size_t start = 0;
  while (start <= names.size()) {
    std::size_t end = names.find(',', start);
    if (end == std::string_view::npos) end = names.size();
    auto split = parseSplit(names.substr(start, end - start));
    if (!split) return split.error();
    if (std::find(splits.begin(), splits.end(), *split) == splits.end()) splits.push_back(*split);
    start = end + 1;
  }
  return splits;
}

Expected<std::string> benchmarkSuite(std::string_view benchmark) {
  std::size_t start = 0;
  while (start < benchmark.size()) {
    std::size_t end = benchmark.find('-', start);
    if (end == std::string_view::npos) end = benchmark.size();
    if (std::isdigit(static_cast<unsigned char>(benchmark[start])) != 0)
      return std::string(benchmark.substr(0, end));
    start = end + 1;
  }
  return makeError(ErrorCode::kInvalidInput,
                   "benchmark '{}' names no suite version (expected <suite>-<version>-...)", benchmark);
}

std::vector<std::size_t> kernelGroups(const DevmapData& data) {
  std::map<std::string, std::size_t> idOf;
  std::vector<std::size_t> groups;
  for (const DevmapRow& row : data.rows)
    groups.push_back(idOf.emplace(row.benchmark, idOf.size()).first->second);
  return groups;
}

Expected<OuterSplit> outerSplit(const DevmapData& data, std::size_t platform, Split split, unsigned seed) {
  OuterSplit out;
  out.split = split;
  out.foldOfRow.assign(data.rows.size(), 0);
  if (split == Split::kPublished) {
    int folds = 0;
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      out.foldOfRow[r] = data.rows[r].fold[platform];
      folds = std::max(folds, out.foldOfRow[r] + 1);
    }
    for (int f = 0; f < folds; ++f) out.foldNames.push_back(std::to_string(f));
    return out;
  }
  out.innerGroups = kernelGroups(data);
  if (split == Split::kKernel) {
    auto folds = heads::groupedKFold(out.innerGroups, 10, seed);
    if (!folds) return folds.error().withContext("kernel split");
    for (std::size_t f = 0; f < folds->size(); ++f) {
      for (std::size_t r : (*folds)[f]) out.foldOfRow[r] = static_cast<int>(f);
      out.foldNames.push_back(std::to_string(f));
    }
    return out;
  }
  std::vector<std::string> suites;
  for (const DevmapRow& row : data.rows) {
    auto suite = benchmarkSuite(row.benchmark);
    if (!suite) return suite.error().withContext(fmt::format("{} row {}", data.directory.string(), row.row));
    suites.push_back(std::move(*suite));
  }
  std::set<std::string> names(suites.begin(), suites.end());
  out.foldNames.assign(names.begin(), names.end());
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    out.foldOfRow[r] = static_cast<int>(
        std::lower_bound(out.foldNames.begin(), out.foldNames.end(), suites[r]) - out.foldNames.begin());
  }
  return out;
}

Expected<std::vector<std::vector<std::size_t>>> innerFolds(const std::vector<int>& labels,
                                                           const std::vector<std::size_t>& groups, int folds,
                                                           unsigned seed) {
  if (groups.empty()) return heads::stratifiedKFold(labels, folds, seed);
  return heads::groupedKFold(groups, folds, seed);
}

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

Expected<TrainedHead> selectHead(const std::function<heads::Dataset(Weighting)>& datasetFor,
                                 const EvalOptions& options, int innerFoldCount,
                                 const std::vector<std::size_t>& groups) {
  TrainedHead best;
  double bestScore = -std::numeric_limits<double>::infinity();
  std::optional<Error> lastError;
  for (Weighting weighting : options.weightings) {
    heads::Dataset dataset = datasetFor(weighting);
    Expected<heads::Selection> selection = makeError(ErrorCode::kInternal, "no selection");
    if (groups.empty()) {
      selection = heads::selectByInnerCv(dataset, options.candidates, innerFoldCount, options.seed,
                                         heads::accuracyScorer(dataset.labels));
    } else {
      auto folds = innerFolds(dataset.labels, groups, innerFoldCount, options.seed);
      if (!folds) return folds.error().withContext("inner folds");
      // Accuracy of the most probable class (the lowest index on ties), as selectByInnerCv scores.
      selection = heads::selectByFolds(
          dataset, options.candidates, *folds,
          [&labels = dataset.labels](const std::vector<std::size_t>& rows,
                                     const std::vector<float>& probabilities) {
            std::size_t k = rows.empty() ? 1 : probabilities.size() / rows.size();
            std::size_t correct = 0;
            for (std::size_t r = 0; r < rows.size(); ++r) {
              const float* row = probabilities.data() + r * k;
              correct += static_cast<int>(std::max_element(row, row + k) - row) == labels[rows[r]] ? 1 : 0;
            }
            return rows.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(rows.size());
          });
    }
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
  std::vector<std::size_t> groups;
  if (!options.innerGroups.empty()) {
    for (std::size_t r : train) groups.push_back(options.innerGroups[r]);
  }
  return selectHead(
      [&](Weighting weighting) { return platformDataset(data, platform, features, weighting).subset(train); },
      options, options.innerFolds, groups);
}

Expected<EvalResult> crossValidate(const DevmapData& data, std::size_t platform,
                                   const std::vector<std::size_t>& rows, const heads::FeatureMatrix& features,
                                   const OuterSplit& split, const EvalOptions& options) {
  EvalResult result;
  result.rows = rows;
  result.predicted.assign(rows.size(), Device::kCpu);
  result.gpuProbability.assign(rows.size(), 0.0f);
  for (std::size_t r : rows) result.rowFold.push_back(split.foldOfRow[r]);
  EvalOptions foldOptions = options;
  foldOptions.innerGroups = split.innerGroups;
  for (int fold = 0; fold < static_cast<int>(split.foldNames.size()); ++fold) {
    std::vector<std::size_t> train, test, testPositions;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (split.foldOfRow[rows[i]] == fold) {
        test.push_back(rows[i]);
        testPositions.push_back(i);
      } else {
        train.push_back(rows[i]);
      }
    }
    if (test.empty()) continue;
    auto head = trainHead(data, platform, train, features, foldOptions);
    if (!head) {
      return head.error().withContext(fmt::format("{} {} fold {}", kPlatforms[platform].name,
                                                  splitName(split.split), split.foldNames[fold]));
    }
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
    result.folds.push_back(
        {fold, split.foldNames[fold], head->candidate, head->weighting, head->innerAccuracy});
  }
  result.score = scoreMapping(data, platform, rows, result.predicted);
  return result;
}

nlohmann::json EvalResult::toJson() const {
  nlohmann::json choices = nlohmann::json::array();
  for (const FoldChoice& fold : folds) {
    choices.push_back({{"fold", fold.fold},
                       {"held_out", fold.name},
                       {"head", fold.candidate.kind},
                       {"params", fold.candidate.params},
                       {"weighting", weightingName(fold.weighting)},
                       {"inner_accuracy", fold.innerAccuracy}});
  }
  return {{"rows", score.rows},
          {"accuracy", score.accuracy},
          {"speedup", score.meanSpeedup},
          {"geomean_speedup", score.geomeanSpeedup},
          {"oracle_speedup", score.oracleMeanSpeedup},
          {"oracle_fraction", score.oracleFraction},
          {"folds", choices}};
}

}  // namespace mirtune::devmap
