// Deciding safely where the head is unsure: its P(GPU faster) calibrated on out-of-fold predictions grouped
// by kernel, the device chosen for the highest expected speedup, and a code-free policy answering instead for
// a kernel whose embedding lies far from every training kernel. Also the kernel-grouped evaluation of these
// policies.
#pragma once

#include "tasks/common/Calibration.h"
#include "tasks/common/Novelty.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Evaluate.h"
#include "tasks/devmap/Metrics.h"

#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::devmap {

/// Who answers a question.
enum class Policy {
  kHead,             ///< the head's P(GPU faster) > 0.5 (heads without calibration)
  kExpectedSpeedup,  ///< the device of higher expected speedup under the calibrated probability
  kAuxHead,          ///< a head over the launch alone (transfer and work-group size): code-free
  kCpu,              ///< always the CPU
  kGpu,              ///< always the GPU
};
std::string_view policyName(Policy policy);
Expected<Policy> parsePolicy(std::string_view name);

/// How a class's gains are summarised: the arithmetic mean (the expected speedup itself, dominated by the few
/// rows where one device wins by 10x or more) or the geometric mean (the expected log speedup, i.e. the
/// geometric mean speedup).
enum class GainStatistic { kMean, kGeometricMean };
std::string_view gainStatisticName(GainStatistic statistic);

/// Speedup over the platform's static device of choosing each device, summarised over the training rows where
/// the CPU, then the GPU, was the faster: gain[oracle][chosen].
struct SpeedupTable {
  std::array<std::array<double, 2>, 2> gain{{{1, 1}, {1, 1}}};
  GainStatistic statistic = GainStatistic::kMean;
  /// kMean: p * gain[GPU][device] + (1 - p) * gain[CPU][device]; kGeometricMean: exp of the same over log
  /// gains.
  double expected(double gpuProbability, Device device) const;
};
SpeedupTable speedupTable(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                          GainStatistic statistic = GainStatistic::kMean);

/// What a platform's heads folder stores to decide safely.
struct SafePolicy {
  heads::Calibrator calibrator;
  SpeedupTable gains;
  Policy fallback = Policy::kCpu;  ///< kAuxHead, kCpu or kGpu
  double noveltyThreshold = 1;  ///< the fallback answers when the kernel's novelty percentile is above this

  nlohmann::json toJson() const;
  /// kInvalidInput naming the bad key (the caller adds the file).
  static Expected<SafePolicy> fromJson(const nlohmann::json& json);
};

/// One answer and why.
struct SafeAnswer {
  Device device = Device::kCpu;
  double gpuProbability = 0;   ///< calibrated
  double expectedSpeedup = 1;  ///< of `device`, over the platform's static device, under gpuProbability
  bool fallback = false;
  Policy policy = Policy::kExpectedSpeedup;
};

/// The decision for one question: the fallback when novelty > policy.noveltyThreshold (the aux head needs
/// auxGpuProbability; without it the fallback answers `staticDevice`), else the device of highest expected
/// speedup
/// (`staticDevice` on a tie).
SafeAnswer decideSafely(const SafePolicy& policy, Device staticDevice, double headGpuProbability,
                        double novelty, std::optional<double> auxGpuProbability);

/// Kernels of the data set: the benchmark+kernel name of each row (all its input sizes share one) and each
/// kernel's embedding (the mean of its rows').
struct KernelTable {
  std::vector<std::size_t> kernelOfRow;  ///< lines up with data.rows
  std::vector<std::string> names;
  std::vector<std::vector<float>> vectors;  ///< empty without embeddings
};
KernelTable kernelTable(const DevmapData& data, const std::vector<std::vector<float>>* embeddings);

/// Out-of-fold evidence over training rows, each row predicted by models that never saw its kernel.
struct PolicyEvidence {
  std::vector<std::size_t> rows;        ///< data rows
  std::vector<double> headProbability;  ///< the embedding head's P(GPU faster)
  std::vector<double> auxProbability;   ///< the launch-only head's
  std::vector<double> novelty;          ///< percentile of the row's kernel against the other folds' kernels
};

/// Novelty percentile of each of `test` kernels against an index of the `train` kernels.
Expected<std::vector<double>> kernelNovelty(const KernelTable& kernels, const std::vector<std::size_t>& train,
                                            const std::vector<std::size_t>& test);

/// Grouped folds over `rows` (folds keep a kernel's rows together): the two heads refitted with their chosen
/// candidate and weighting on the other folds, and the novelty of each fold's kernels.
Expected<PolicyEvidence> collectEvidence(const DevmapData& data, std::size_t platform,
                                         const std::vector<std::size_t>& rows,
                                         const heads::FeatureMatrix& features,
                                         const heads::FeatureMatrix& auxFeatures, const KernelTable& kernels,
                                         const TrainedHead& head, const TrainedHead& auxHead, int folds,
                                         unsigned seed);

/// The thresholds fitSafePolicy tries (fallback when novelty > t; 0 nearly always, 1 never falls back).
inline constexpr std::array<double, 11> kNoveltyThresholds = {0,    0.25, 0.5,  0.6,  0.7, 0.8,
                                                              0.85, 0.9,  0.95, 0.99, 1};

struct FittedPolicy {
  SafePolicy policy;
  nlohmann::json diagnostics;  ///< calibration scores, code-free scores, every setting tried
};

/// From out-of-fold evidence: the calibrator (none, Platt or isotonic by grouped cross-validation, lowest
/// Brier score), then jointly the gain statistic, the code-free fallback (aux head, CPU or GPU) and the
/// novelty threshold. A setting is safe when its accuracy and its mean speedup on the evidence rows both
/// reach the best code-free policy's (each metric's best of aux head, CPU and GPU); the safe setting of
/// highest mean speedup wins (ties: the higher threshold, so the head keeps answering), and when none is safe
/// the one closest to it (highest min(accuracy / best code-free accuracy, speedup / best code-free speedup)).
Expected<FittedPolicy> fitSafePolicy(const DevmapData& data, std::size_t platform,
                                     const PolicyEvidence& evidence, const KernelTable& kernels, int folds,
                                     unsigned seed);

/// Accuracy, speedups and the fraction of the oracle's mean speedup reached.
struct PolicyScore {
  std::string name;
  Score score;
  double oracleFraction = 0;
};
PolicyScore scorePolicy(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                        const std::vector<Device>& predicted, std::string name);

struct SafeEvalOptions {
  EvalOptions head;  ///< candidates of the embedding head
  EvalOptions aux;   ///< candidates of the launch-only head
  int outerFolds = 10;
  int innerFolds = 5;
  unsigned seed = 204;
};

/// One platform under kernel-grouped folds.
struct SafePlatformEvaluation {
  std::size_t platform = 0;
  std::size_t rows = 0, kernels = 0;
  double eceBefore = 0, eceAfter = 0;  ///< of the pooled held-out P(GPU faster), raw and calibrated (10 bins)
  std::size_t fallbackRows = 0;        ///< held-out rows the safe policy handed to its fallback
  /// head, expected-speedup, safe, aux-head, cpu, gpu, best-code-free (the best of the three on these rows)
  std::vector<PolicyScore> policies;
  nlohmann::json folds = nlohmann::json::array();  ///< per outer fold: what its training rows chose
};

/// Outer folds grouped by kernel; in each, both heads are chosen and fitted on the training kernels, the
/// policy is fitted on inner grouped out-of-fold evidence of those kernels only, and the held-out rows are
/// decided by every policy. `features` and `auxFeatures` have one row per data row.
Expected<SafePlatformEvaluation> evaluateSafePlatform(const DevmapData& data, std::size_t platform,
                                                      const heads::FeatureMatrix& features,
                                                      const heads::FeatureMatrix& auxFeatures,
                                                      const KernelTable& kernels,
                                                      const SafeEvalOptions& options);

/// The evaluation as a request with the command line's values.
struct SafeEvalRequest {
  std::string platform = "all";  ///< amd, nvidia or all
  std::string ir = "source";     ///< source or dataset
  std::string headKind =
      "auto";                ///< auto, xgboost or mlp (the embedding head; the launch-only head is XGBoost)
  std::string data;          ///< devmap folder; empty: defaultDevmapDirectory()
  std::string encoder;       ///< empty: the shipped encoder
  std::string databasePath;  ///< the embedding cache
  bool noCache = false;
  int threads = 2;
  unsigned seed = 204;
  int outerFolds = 10;
  int innerFolds = 5;
};

struct SafeEvalReport {
  SafeEvalRequest request;
  std::string encoderId;
  std::vector<SafePlatformEvaluation> platforms;
  nlohmann::json toJson() const;
  /// Markdown: per platform the ECE line and one table row per policy.
  std::string toMarkdown() const;
};

/// Loads the data set, embeds its rows and evaluates each platform (a log line per outer fold).
Expected<SafeEvalReport> evaluateSafeDecisions(const SafeEvalRequest& request);

}  // namespace mirtune::devmap
