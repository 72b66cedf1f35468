// Coarsening heads that predict a kernel's whole speedup curve over the factors and take its best factor: the
// per-GPU prior, nearest neighbours in feature space, XGBoost regression of log speedup, and the classifier
// heads viewed the same way; all chosen among by program-grouped inner cross-validation.
#pragma once

#include "tasks/coarsen/CoarsenData.h"
#include "tasks/coarsen/CoarsenEvaluate.h"
#include "tasks/common/Head.h"

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::coarsen {

/// One value per factor of kFactors.
using FactorCurve = std::array<double, kFactors.size()>;

/// runtime(factor 1) / runtime(factor) for every factor on one platform, clipped as the metric clips (a
/// factor above the kernel's largest measured one counts as that one).
FactorCurve speedupCurve(const CoarsenKernel& kernel, std::size_t platform);

/// Magni et al.'s features of each kernel (data.kernels order): PCA1..PCA7 of its factor-1 row in
/// pact-2014-runtimes.csv. Errors name the file and line.
Expected<std::vector<std::vector<float>>> loadMagniFeatures(const CoarsenData& data);

/// The curve heads, declared once: name, what it learns, and whether it has a fitted model file.
enum class CurveMethod {
  kPrior,       ///< per GPU, the mean training speedup at each factor (no kernel features at all)
  kNeighbours,  ///< similarity-weighted mean of the k most similar training kernels' curves (cosine)
  kRegression,  ///< XGBoost regression of log speedup over (features, GPU one-hot, log2 factor, prior)
  kHead,        ///< a classifier head of HeadForm::kFactor: P(near-best) per factor
};
std::string_view curveMethodName(CurveMethod method);  ///< "prior" | "knn" | "regression" | "factor-head"
/// kUsage naming the known methods otherwise.
Expected<CurveMethod> parseCurveMethod(std::string_view name);

/// A method with its parameters. Shared by every method: "pca" (0: none; else the number of principal
/// components of the standardised training features to keep). kNeighbours: "k" (neighbours; 0: every training
/// kernel), "prior_weight" (in [0, 1], mixed with the prior curve). kRegression: XgbParams keys and "prior"
/// (bool: the prior curve's value at the row's factor is an input). kHead: "kind" and "params" of a
/// classifier.
struct CurveCandidate {
  CurveMethod method = CurveMethod::kPrior;
  nlohmann::json params = nlohmann::json::object();
  /// {"kind": method name, "params": params}, as fold reports print candidates.
  heads::Candidate asCandidate() const;
};

/// A candidate from {"kind": method name, "params": {...}}; kInvalidInput naming an unknown method or
/// parameter, or a value out of range.
Expected<CurveCandidate> parseCurveCandidate(const heads::Candidate& candidate);

/// The candidates of one method (empty list for none), or of every method for "auto", in the order inner
/// cross-validation breaks ties (simplest first, so the prior wins unless something beats it).
std::vector<CurveCandidate> defaultCurveCandidates(std::string_view method);

/// A fitted curve head. Scores are predicted speedups (prior, knn, regression) or probabilities (head): only
/// their order matters for the choice.
class CurveModel {
 public:
  virtual ~CurveModel() = default;
  virtual const CurveCandidate& candidate() const = 0;
  /// Score of every factor for a kernel with these features on `platform`.
  virtual Expected<FactorCurve> scores(const std::vector<float>& features, std::size_t platform) const = 0;
  /// The highest-scoring factor, and how sure the head is: for heads, its probability; otherwise the share
  /// (neighbour weights for knn, all training kernels for prior and regression) of training kernels for which
  /// that factor was within kNearOracle of their best on the platform.
  Expected<FactorChoice> choose(const std::vector<float>& features, std::size_t platform) const;
  /// Writes the fitted state into `directory` (curves.json, plus a head folder for regression and head).
  virtual Status save(const std::filesystem::path& directory) const = 0;

 protected:
  virtual double support(const std::vector<float>& features, std::size_t platform, std::size_t factor,
                         double score) const = 0;
};

/// Fits a candidate on the rows of `kernels` x every platform; features[k] are kernel k's inputs.
Expected<std::unique_ptr<CurveModel>> fitCurveModel(const CurveCandidate& candidate, const CoarsenData& data,
                                                    const std::vector<std::vector<float>>& features,
                                                    const std::vector<std::size_t>& kernels, unsigned seed);

/// Reads what CurveModel::save wrote for a candidate of `method` with `featureCount` inputs per kernel.
Expected<std::unique_ptr<CurveModel>> loadCurveModel(const std::filesystem::path& directory,
                                                     CurveMethod method, std::size_t featureCount);

/// What inner cross-validation chose, refitted on all the kernels it saw.
struct TrainedCurve {
  std::unique_ptr<CurveModel> model;
  CurveCandidate candidate;
  double innerSpeedup =
      0;  ///< mean speedup of its picks over every held-out (kernel, platform) of the inner folds
  std::vector<double> candidateSpeedups;  ///< the same for every candidate, in the order given
};

/// Program-grouped inner cross-validation (heads::groupedKFold over group[k], `folds` folds, `seed`) over the
/// candidates on the training `kernels`, scored by the mean speedup of the factors picked on every platform;
/// the best (earliest on ties) refitted on all of `kernels`.
Expected<TrainedCurve> selectCurveModel(const std::vector<CurveCandidate>& candidates,
                                        const CoarsenData& data,
                                        const std::vector<std::vector<float>>& features,
                                        const std::vector<std::size_t>& group,
                                        const std::vector<std::size_t>& kernels, int folds, unsigned seed);

/// Leave-one-kernel-out over every kernel with selectCurveModel inside each outer fold (the held-out kernel's
/// program group leaves training); `threads` outer folds at once.
Expected<EvalResult> crossValidateCurves(const std::vector<CurveCandidate>& candidates,
                                         const CoarsenData& data,
                                         const std::vector<std::vector<float>>& features,
                                         const std::vector<std::size_t>& group,
                                         const std::vector<std::size_t>& platforms, int folds, unsigned seed,
                                         unsigned threads, ProgressLine* progress = nullptr);

}  // namespace mirtune::coarsen
