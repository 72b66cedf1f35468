// The OpenMP head: ranks configurations of a program by how likely each is within 5% of the best, from the
// program's inputs (embedding of its parallel regions, problem size, default run time, cores) and the
// configuration's features; leave-one-application-out evaluation against the exhaustive oracle and random
// search.
#pragma once

#include "support/Error.h"
#include "tasks/common/Dataset.h"
#include "tasks/common/XgbClassifier.h"
#include "tasks/common/XgbRegressor.h"
#include "tasks/omp/OmpData.h"
#include "tuner/SearchSpace.h"
#include "tuner/Strategy.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mirtune::omp {

/// A configuration is labelled "near best" when its median is within this fraction of the best median.
inline constexpr double kNearBestTolerance = 0.05;

/// What the head knows about a program run before it picks a configuration.
struct ProgramInputs {
  std::vector<float> embedding;  ///< fused embedding of the parallel regions
  std::vector<std::string> arguments;
  double defaultSeconds = 0;  ///< the default configuration's median, measured first
  int cores = 1;
};

/// embedding ⊕ size features ⊕ log2(default seconds) ⊕ log2(cores).
std::vector<float> programFeatures(const ProgramInputs& inputs);

/// The head's fixed hyper-parameters (trees are few and shallow: the training rows are a few thousand).
heads::XgbParams defaultOmpHeadParams();

/// What the head learns: whether a configuration is within kNearBestTolerance of the best (a classifier,
/// scored by its probability), or how much slower than the best it is, log2(median / best) (a regressor,
/// scored by the negated prediction).
enum class OmpHeadForm { kNearBest, kRegression };
std::string_view headFormName(OmpHeadForm form);
Expected<OmpHeadForm> parseHeadForm(std::string_view name);

/// Rows for every ok measurement of every sample: programFeatures ⊕ configFeatures, label near-best; `gaps`
/// (when given) receives each row's log2(median / best median). `embeddings` maps app name to its embedding;
/// samples whose default did not run are skipped.
Expected<heads::Dataset> ompTrainingRows(const std::vector<OmpSample>& samples,
                                         const std::map<std::string, std::vector<float>>& embeddings,
                                         std::vector<float>* gaps = nullptr);

/// Scores n rows of features (higher = better configuration).
using ConfigurationScorer =
    std::function<Expected<std::vector<float>>(const float* rows, std::size_t n, std::size_t cols)>;
ConfigurationScorer scorerOf(const heads::Classifier& head);
ConfigurationScorer scorerOf(const heads::XgbRegressor& head);

/// The configurations of `candidates` ordered best first by score (ties keep candidate order), with the
/// score.
Expected<std::vector<RankedConfiguration>> rankConfigurations(const ConfigurationScorer& scorer,
                                                              const std::vector<float>& program,
                                                              const std::vector<Configuration>& candidates,
                                                              int cores);

/// The ranking reordered for measuring several configurations: the best-scored configuration of each distinct
/// (threads, schedule) first, in score order, then the rest; a top-k budget then covers k different
/// thread/schedule choices instead of k chunk sizes of one.
std::vector<RankedConfiguration> diversify(const std::vector<RankedConfiguration>& ranked);

/// What the topk strategy measures after the default, in order: rankedBesides the default, diversified when
/// `diverse`.
std::vector<RankedConfiguration> topKOrder(const std::vector<RankedConfiguration>& ranked,
                                           const Configuration& defaultConfiguration, bool diverse);

/// Leave-one-application-out evaluation.
struct OmpEvalOptions {
  std::size_t topK = 3;
  std::size_t randomDraws = 1000;  ///< random search is averaged over this many seeded draws
  std::uint64_t seed = 1;
  heads::XgbParams params = defaultOmpHeadParams();
  OmpHeadForm form = OmpHeadForm::kNearBest;
  bool diverseTopK = true;  ///< top-k measures topKOrder(ranking, default, diverseTopK)'s first k
};

struct OmpSampleResult {
  std::string app;
  std::string size;
  std::string platform;
  double defaultSeconds = 0;
  double oracleSpeedup = 1;
  double predictSpeedup = 1;     ///< best of the default and the predicted configuration
  double predictRawSpeedup = 1;  ///< the predicted configuration alone (below 1 when it is slower)
  double topkSpeedup = 1;
  double random1Speedup = 1;  ///< expected, budget 1 (same as predict)
  double randomKSpeedup = 1;  ///< expected, budget topK
  Configuration oracle;
  Configuration predicted;
};

struct OmpEvalSummary {
  std::size_t samples = 0;
  double meanPredictRaw = 0;  ///< the predicted configuration alone, without keeping the default
  double meanOracle = 0, meanPredict = 0, meanTopk = 0, meanRandom1 = 0,
         meanRandomK = 0;  ///< speedup over default
  double geomeanOracle = 0, geomeanPredict = 0, geomeanTopk = 0, geomeanRandom1 = 0, geomeanRandomK = 0;
  /// Mean over samples of strategy speedup / oracle speedup, in percent (the default alone: 100 / oracle).
  double percentDefault = 0;
  double percentPredict = 0, percentTopk = 0, percentRandom1 = 0, percentRandomK = 0;
};

struct OmpEvalResult {
  std::vector<OmpSampleResult> samples;
  OmpEvalSummary summary;
  nlohmann::json toJson() const;
};

/// Every strategy measures the default too and keeps it when its own pick is slower or fails, as a tuning
/// session does; predictRawSpeedup reports the pick alone.
Expected<OmpEvalResult> evaluateLeaveOneAppOut(const std::vector<OmpSample>& samples,
                                               const std::map<std::string, std::vector<float>>& embeddings,
                                               const OmpEvalOptions& options);

}  // namespace mirtune::omp
