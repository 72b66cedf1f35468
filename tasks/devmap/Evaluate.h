// The device-mapping protocols: cross-validation over the published folds, over folds that keep every input
// of a kernel together, or leaving one benchmark suite out, with the head (kind, hyper-parameters, row
// weighting) chosen by inner cross-validation on the training folds only, grouped as the outer folds are.
#pragma once

#include "tasks/common/Dataset.h"
#include "tasks/common/ModelSelection.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Metrics.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::devmap {

/// How training rows are weighted: equally, or by the runtime at stake (1 + |log2(cpu/gpu runtime)|), which
/// favours the rows where a wrong device costs most. Inner cross-validation picks one per outer fold.
enum class Weighting { kNone, kRuntime };
std::string_view weightingName(Weighting weighting);

/// How rows are split into outer folds.
enum class Split {
  kPublished,  ///< the data set's 10 published folds (folds_pact17_seed204.csv), stratified by row
  kKernel,     ///< 10 folds that never split a kernel: all its inputs are held out together
  kSuite,      ///< one fold per benchmark suite (leave one suite out)
};
std::string_view splitName(Split split);
/// "published", "kernel" or "suite"; kUsage naming the valid values otherwise.
Expected<Split> parseSplit(std::string_view name);
/// A comma-separated list of splits ("published,kernel,suite"), in the order given, without repeats.
Expected<std::vector<Split>> parseSplits(std::string_view names);

/// The benchmark suite of a `benchmark` name: the words up to and including the first that starts with a
/// digit (the suite's version), e.g. "npb-3.3-BT-exact_rhs1" -> "npb-3.3". kInvalidInput when there is no
/// version word.
Expected<std::string> benchmarkSuite(std::string_view benchmark);

/// The kernel of every data row as a group id (rows with the same `benchmark` name, the inputs of one kernel,
/// share one id), indexed like data.rows.
std::vector<std::size_t> kernelGroups(const DevmapData& data);

/// The outer folds of one platform under a split.
struct OuterSplit {
  Split split = Split::kPublished;
  std::vector<int> foldOfRow;          ///< fold of every data row (indexed like data.rows)
  std::vector<std::string> foldNames;  ///< "0".."9", or the held-out suite's name
  /// Group id per data row that inner folds must not split: kernelGroups() for kernel and suite; empty for
  /// published (inner folds stratified by row, as the published protocol).
  std::vector<std::size_t> innerGroups;
};

/// The folds of `split` on `platform`: published reads the data set's folds; kernel deals kernel groups over
/// 10 folds with groupedKFold (seed); suite makes one fold per suite, in name order.
Expected<OuterSplit> outerSplit(const DevmapData& data, std::size_t platform, Split split, unsigned seed);

struct EvalOptions {
  std::vector<heads::Candidate> candidates = heads::defaultGrid();
  std::vector<Weighting> weightings{Weighting::kNone, Weighting::kRuntime};
  int innerFolds = 5;
  unsigned seed = 204;
  /// Group id per data row that the inner folds keep together (OuterSplit::innerGroups); empty: stratified.
  std::vector<std::size_t> innerGroups;
};

/// What the inner cross-validation chose in one outer fold.
struct FoldChoice {
  int fold = 0;
  std::string name;  ///< OuterSplit::foldNames: the fold number, or the held-out suite
  heads::Candidate candidate;
  Weighting weighting = Weighting::kNone;
  double innerAccuracy = 0;
};

struct EvalResult {
  std::vector<std::size_t> rows;       ///< the evaluated rows (indices into data.rows)
  std::vector<int> rowFold;            ///< outer fold of each row, lines up with rows
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

/// Fits a head per outer fold of `split` on the other folds' rows of `rows` and predicts the fold's rows, the
/// inner folds grouped by options.innerGroups. `features` has one row per data row.
Expected<EvalResult> crossValidate(const DevmapData& data, std::size_t platform,
                                   const std::vector<std::size_t>& rows, const heads::FeatureMatrix& features,
                                   const OuterSplit& split, const EvalOptions& options);

/// The inner folds selectHead uses on `count` training rows: stratified by `labels` (stratifiedKFold) when
/// `groups` is empty, else groupedKFold over groups (one id per training row), so no group sits on both
/// sides.
Expected<std::vector<std::vector<std::size_t>>> innerFolds(const std::vector<int>& labels,
                                                           const std::vector<std::size_t>& groups, int folds,
                                                           unsigned seed);

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
/// `groups` (one id per row of the data set, or empty for stratified folds) keeps groups within one inner
/// fold.
Expected<TrainedHead> selectHead(const std::function<heads::Dataset(Weighting)>& datasetFor,
                                 const EvalOptions& options, int innerFolds,
                                 const std::vector<std::size_t>& groups = {});

/// selectHead on the `train` rows, with inner folds grouped by options.innerGroups (when given).
Expected<TrainedHead> trainHead(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& train,
                                const heads::FeatureMatrix& features, const EvalOptions& options);

}  // namespace mirtune::devmap
