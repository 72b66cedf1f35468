// Replay (simulation mode): a strategy searches a brute-forced space read from a Kernel Tuner cache, without the
// hardware, and is scored by the fraction of the optimum it reaches within a budget, over seeded repeats.
#pragma once

#include "support/Error.h"
#include "tasks/tune/KernelTunerCache.h"
#include "tasks/tune/Search.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::tune {

struct ReplayRequest {
  StrategyKind strategy = StrategyKind::kModel;
  std::size_t budget = 50;  ///< evaluations per repeat
  std::size_t repeats = 20;
  std::uint64_t seed = 0;  ///< repeat r uses seed + r
  const TransferData* transfer = nullptr;
};

/// Quartiles of a sample.
struct Distribution {
  double median = 0, mean = 0, q1 = 0, q3 = 0, min = 0, max = 0;
};

struct ReplayReport {
  std::string strategy;
  std::size_t budget = 0;
  std::size_t repeats = 0;
  std::size_t spaceSize = 0;  ///< valid configurations
  double optimum = 0;         ///< best time of the space, ms
  /// Best time of the space / best time found within the budget, per repeat.
  std::vector<double> fractions;
  Distribution fractionOfOptimum;
  /// Median over repeats of the best fraction reached after 1, 2, ..., budget evaluations (the convergence curve).
  std::vector<double> medianCurve;
  double secondsPerEvaluation = 0;  ///< the strategy's own time per proposal, wall clock
};

/// An earlier session read from a cache, for TransferData: its timed records with the features candidateSetFrom
/// gives them, and no embedding (a cache does not carry one).
TransferSession transferSessionFromCache(const KernelTunerCache& cache);

Expected<ReplayReport> replay(const KernelTunerCache& cache, const ReplayRequest& request);

/// {"strategy", "budget", "repeats", "space_size", "optimum_ms", "fraction_of_optimum": {"median", "mean", "q1",
/// "q3", "min", "max"}, "fractions": [...], "median_curve": [...], "seconds_per_evaluation"}
nlohmann::json replayReportJson(const ReplayReport& report);
/// A few lines for the terminal.
std::string replayReportText(const ReplayReport& report);

}  // namespace mirtune::tune
