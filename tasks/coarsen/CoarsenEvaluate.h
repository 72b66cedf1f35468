// The published thread-coarsening protocol: leave-one-kernel-out over the 17 kernels (a kernel that is the same
// program as another is held out together with it), the head chosen by inner cross-validation over the training
// kernels only, scored by the mean speedup of the factors it picks.
#pragma once

#include "tasks/coarsen/CoarsenData.h"
#include "tasks/coarsen/CoarsenMetrics.h"
#include "tasks/common/Dataset.h"
#include "tasks/common/ModelSelection.h"
#include "support/Progress.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace mirtune::coarsen {

/// How a head turns a kernel into a factor.
enum class HeadForm {
  kClass,   ///< one row per (kernel, platform); the classes are the factors; the most probable one wins
  kFactor,  ///< one row per (kernel, platform, factor), log2(factor) an input; the label says whether the factor
            ///< is within kNearOracle of the best one; the factor with the highest probability wins
};
std::string_view headFormName(HeadForm form);  ///< "class" | "factor"
Expected<HeadForm> parseHeadForm(std::string_view name);

/// Which rows a head learns from: one head over the rows of all four GPUs (the platform one-hot tells them
/// apart), or one head per GPU over its own rows.
enum class Pooling { kPooled, kPerPlatform };
std::string_view poolingName(Pooling pooling);  ///< "pooled" | "per-platform"
Expected<Pooling> parsePooling(std::string_view name);

/// Under HeadForm::kFactor a factor counts as good when its speedup is at least this fraction of the oracle's.
inline constexpr double kNearOracle = 0.95;

/// Name of the head of Pooling::kPooled (per-platform heads are named like kPlatforms).
inline constexpr const char* kPooledHead = "all";

struct EvalOptions {
  std::vector<heads::Candidate> candidates = heads::defaultGrid();
  HeadForm form = HeadForm::kClass;
  Pooling pooling = Pooling::kPooled;
  int innerFolds = 4;  ///< folds of training programs (heads::groupedKFold); fewer programs: one per program
  unsigned seed = 204;  ///< shuffles the programs into inner folds
  unsigned threads = 1;  ///< outer folds trained at once (each head fit itself uses one thread then)
};

/// Inputs of a head for one kernel on one platform: the embedding, then the platform one-hot (kPlatforms order),
/// then for HeadForm::kFactor log2(factor).
std::vector<float> headFeatures(const std::vector<float>& embedding, std::size_t platform, HeadForm form,
                                int factor = 1);
/// Input count of a head over embeddings of `dimension` values.
std::size_t headFeatureCount(std::size_t dimension, HeadForm form);

/// Training rows of a head over `kernels` x `platforms`, and which (kernel, platform, factor) each row is.
struct HeadRows {
  heads::Dataset dataset;
  std::vector<std::size_t> kernel;
  std::vector<std::size_t> platform;
  std::vector<int> factor;  ///< HeadForm::kFactor: the row's factor; kClass: the oracle factor
};
HeadRows headRows(const CoarsenData& data, const std::vector<std::vector<float>>& embeddings,
                  const std::vector<std::size_t>& kernels, const std::vector<std::size_t>& platforms,
                  HeadForm form);

/// The factor a trained head picks for one kernel on one platform (not clipped: the caller knows the largest
/// factor, if anyone does), and the head's probability for it.
struct FactorChoice {
  int factor = 1;
  double probability = 0;
};
Expected<FactorChoice> chooseFactor(const heads::Classifier& head, HeadForm form,
                                    const std::vector<float>& embedding, std::size_t platform);

/// A head chosen by inner cross-validation and refitted on all its training rows.
struct TrainedHead {
  std::unique_ptr<heads::Classifier> model;
  heads::Candidate candidate;
  double innerSpeedup = 0;  ///< mean speedup of the chosen candidate over the inner folds
  std::size_t rows = 0;
};

/// Inner cross-validation over options.candidates on the rows of `kernels` x `platforms`, with folds made of
/// whole programs (group[k] as programGroups gives), scored by the mean speedup of the factors picked.
Expected<TrainedHead> trainHead(const CoarsenData& data, const std::vector<std::vector<float>>& embeddings,
                                const std::vector<std::size_t>& group, const std::vector<std::size_t>& kernels,
                                const std::vector<std::size_t>& platforms, const EvalOptions& options);

/// What one outer fold chose.
struct FoldChoice {
  std::size_t kernel = 0;        ///< the held-out kernel
  std::vector<std::size_t> held; ///< every kernel left out of training with it (the same program)
  std::string head;              ///< kPooledHead or a platform name
  heads::Candidate candidate;
  double innerSpeedup = 0;
};

struct EvalResult {
  std::vector<std::size_t> platforms;          ///< evaluated, kPlatforms indices
  std::vector<std::vector<int>> predicted;     ///< [platform position][kernel]: the factor before clipping
  std::vector<std::vector<double>> probability;
  std::vector<Score> scores;                   ///< per evaluated platform
  double meanSpeedup = 0;                      ///< meanOverPlatforms(scores)
  double oracleMeanSpeedup = 0;
  std::vector<FoldChoice> folds;
  nlohmann::json toJson(const CoarsenData& data) const;
};

/// Leave-one-kernel-out over every kernel: the held-out kernel and every kernel of its program group leave the
/// training rows; pooled heads learn from all four GPUs' rows, but only `platforms` are scored.
Expected<EvalResult> crossValidate(const CoarsenData& data, const std::vector<std::vector<float>>& embeddings,
                                   const std::vector<std::size_t>& group, const std::vector<std::size_t>& platforms,
                                   const EvalOptions& options, ProgressLine* progress = nullptr);

}  // namespace mirtune::coarsen
