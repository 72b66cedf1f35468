// The unroll head: ranks a loop's configurations by how likely each is within a few percent of the loop's
// best, from the embeddings of the loop's IR slice and of its function plus the configuration's features;
// k-fold cross-validation (folds of programs, or of whole program families) against the per-loop oracle, the
// compiler default and random choice.
#pragma once

#include "support/Error.h"
#include "tasks/common/Dataset.h"
#include "tasks/common/XgbClassifier.h"
#include "tasks/unroll/UnrollData.h"
#include "tuner/SearchSpace.h"
#include "tuner/Strategy.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace mirtune::unroll {

/// A configuration is labelled "near best" when its median is within this fraction of the loop's best median
/// (`--tolerance` on train and eval overrides it).
inline constexpr double kNearBestTolerance = 0.03;

/// Embeddings of one loop: its IR slice and its enclosing function.
struct LoopEmbedding {
  std::vector<float> loop;
  std::vector<float> function;
};

/// "suite/program:line": how samples find their embeddings.
std::string loopKey(const std::string& suite, const std::string& program, int line);

/// loop ⊕ function embedding.
std::vector<float> loopFeatures(const LoopEmbedding& embedding);

heads::XgbParams defaultUnrollHeadParams();

/// Rows for every ok measurement of every sample whose default ran: loopFeatures ⊕ configFeatures, label
/// near-best.
Expected<heads::Dataset> unrollTrainingRows(const std::vector<LoopSample>& samples,
                                            const std::map<std::string, LoopEmbedding>& embeddings,
                                            double tolerance = kNearBestTolerance);

/// The candidates best first by the head's near-best probability, the score (ties keep candidate order).
Expected<std::vector<RankedConfiguration>> rankConfigurations(const heads::Classifier& head, Knob knob,
                                                              const std::vector<float>& loop,
                                                              const std::vector<Configuration>& candidates);

struct UnrollEvalOptions {
  std::size_t folds = 5;
  std::size_t topK = 3;
  std::size_t randomDraws = 1000;
  std::uint64_t seed = 1;
  double tolerance = kNearBestTolerance;
  /// false: folds hold single programs (the published protocol: variants of a held-out program's kernel may
  /// train the head); true: folds hold whole program families, so a kernel is never seen in training.
  bool groupByFamily = false;
  heads::XgbParams params = defaultUnrollHeadParams();
};

struct LoopResult {
  std::string program;
  std::string family;
  int line = 0;
  std::size_t fold = 0;
  double defaultSeconds = 0;
  double oracleSpeedup = 1;  ///< default / best (>= 1: the default is a candidate)
  /// The predicted configuration alone, as `--apply` would build it; a pick that failed (wrong output, crash)
  /// counts as the default's time and is counted in failedPicks.
  double predictSpeedup = 1;
  double predictKeepSpeedup = 1;  ///< best of the default and the pick (what `--run` keeps)
  double topkSpeedup = 1;         ///< best of the default and the top k
  double random1Speedup = 1;      ///< expected, one uniformly drawn configuration alone
  double randomKSpeedup = 1;      ///< expected, best of the default and k drawn configurations
  /// The one configuration with the best mean speedup over the training folds' loops, applied to every loop
  /// (a baseline without program features).
  double fixedSpeedup = 1;
  bool pickFailed = false;
  Configuration oracle;
  Configuration predicted;
};

struct UnrollEvalSummary {
  std::size_t loops = 0;
  std::size_t programs = 0;
  std::size_t families = 0;
  std::size_t failedPicks = 0;
  std::size_t loopsWhereDefaultIsBest = 0;
  double meanOracle = 0, meanPredict = 0, meanPredictKeep = 0, meanTopk = 0, meanRandom1 = 0, meanRandomK = 0,
         meanFixed = 0;
  double geomeanOracle = 0, geomeanPredict = 0, geomeanPredictKeep = 0, geomeanTopk = 0, geomeanRandom1 = 0,
         geomeanRandomK = 0, geomeanFixed = 0;
  /// Mean over loops of the strategy's speedup / the oracle's speedup, in percent.
  double percentPredict = 0, percentPredictKeep = 0, percentTopk = 0, percentRandom1 = 0, percentRandomK = 0,
         percentFixed = 0;
};

struct UnrollEvalResult {
  std::vector<LoopResult> loops;
  UnrollEvalSummary summary;
  std::vector<std::vector<std::string>> foldFamilies;  ///< which families each fold held out
  std::vector<Configuration> foldFixed;                ///< each fold's best fixed configuration
  nlohmann::json toJson(Knob knob) const;
};

/// Programs (or families) are shuffled with the seed and dealt round-robin into `folds` folds; each fold's
/// loops are predicted by a head trained on the other folds only. kInvalidInput for fewer groups than folds.
Expected<UnrollEvalResult> evaluateGroupedFolds(const std::vector<LoopSample>& samples,
                                                const std::map<std::string, LoopEmbedding>& embeddings,
                                                const UnrollEvalOptions& options);

}  // namespace mirtune::unroll
