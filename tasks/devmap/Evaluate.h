// The published device-mapping protocol: 10-fold cross-validation over the fixed folds, with the head (kind,
// hyper-parameters, row weighting) chosen by inner cross-validation on the training folds only.
#pragma once

#include "tasks/common/Dataset.h"
#include "tasks/common/ModelSelection.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Metrics.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string_view>
#include <vector>

namespace mirtune::devmap {

/// How training rows are weighted: equally, or by the runtime at stake (1 + |log2(cpu/gpu runtime)|), which
/// favours the rows where a wrong device costs most. Inner cross-validation picks one per outer fold.
enum class Weighting { kNone, kRuntime };
std::string_view weightingName(Weighting weighting);

struct EvalOptions {
  std::vector<heads::Candidate> candidates = heads::defaultGrid();
  std::vector<Weighting> weightings{Weighting::kNone, Weighting::kRuntime};
  int innerFolds = 5;
  unsigned seed = 204;
};

/// What the inner cross-validation chose in one outer fold.
struct FoldChoice {
  int fold = 0;
  heads::Candidate candidate;
  Weighting weighting = Weighting::kNone;
  double innerAccuracy = 0;
};

struct EvalResult {
  std::vector<std::size_t> rows;       ///< the evaluated rows (indices into data.rows)
  std::vector<Device> predicted;       ///< lines up with rows
  std::vector<float> gpuProbability;   ///< lines up with rows
  Score score;
  std::vector<FoldChoice> folds;
  nlohmann::json toJson() const;       ///< score and per-fold choices
};

/// Features of every data row on a platform: the row's embedding (if `embeddings` is not null) followed by
/// kAuxFeatures of that platform's launch.
heads::FeatureMatrix rowFeatureMatrix(const DevmapData& data, std::size_t platform,
                                      const std::vector<std::vector<float>>* embeddings);

/// Labels (1 = GPU) and weights of every data row for one platform.
heads::Dataset platformDataset(const DevmapData& data, std::size_t platform, heads::FeatureMatrix features,
                               Weighting weighting);

/// Fits a head per outer fold on the other folds' rows of `rows` and predicts the fold's rows. `features` has
/// one row per data row.
Expected<EvalResult> crossValidate(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                                   const heads::FeatureMatrix& features, const EvalOptions& options);

/// Inner cross-validation over candidates and weightings on `train`, refitted on all of it.
struct TrainedHead {
  std::unique_ptr<heads::Classifier> model;
  heads::Candidate candidate;
  Weighting weighting = Weighting::kNone;
  double innerAccuracy = 0;
};
/// Row weight under Weighting::kRuntime: 1 + |log2(cpu runtime / gpu runtime)| (any one time unit).
float runtimeWeight(double cpuTime, double gpuTime);

/// For each of options.weightings, inner cross-validation (innerFolds folds) over options.candidates on
/// datasetFor(weighting), scored by accuracy so weightings compare on one scale; the best pair is refitted.
Expected<TrainedHead> selectHead(const std::function<heads::Dataset(Weighting)>& datasetFor, const EvalOptions& options,
                                 int innerFolds);

Expected<TrainedHead> trainHead(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& train,
                                const heads::FeatureMatrix& features, const EvalOptions& options);

}  // namespace mirtune::devmap
