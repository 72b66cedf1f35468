// The published thread-coarsening metric: speedup over factor 1 of the predicted factor (clipped to the
// largest measured one), averaged arithmetically over the kernels of a platform, next to the oracle's.
#pragma once

#include "tasks/coarsen/CoarsenData.h"

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace mirtune::coarsen {

struct Score {
  std::size_t kernels = 0;
  std::size_t optimal = 0;      ///< kernels whose (clipped) prediction is as fast as the oracle factor
  double meanSpeedup = 0;       ///< arithmetic mean over kernels (the published metric)
  double geomeanSpeedup = 0;    ///< geometric mean over kernels
  double oracleSpeedup = 0;     ///< arithmetic mean of the oracle's speedups over the same kernels
  double fractionOfOracle = 0;  ///< mean over kernels of runtime(oracle) / runtime(prediction)
  /// Arithmetic mean of max(1, speedup): the prediction with factor 1 wherever it slows the kernel down, i.e.
  /// what a perfect detector of harmful coarsening on top of these predictions would reach (an upper bound).
  double guardedSpeedup = 0;
};

/// Scores predicted factors that line up with `kernels` (indices into data.kernels) on one platform.
Score scoreFactors(const CoarsenData& data, std::size_t platform, const std::vector<std::size_t>& kernels,
                   const std::vector<int>& factors);

/// Scores per-kernel speedups and oracle speedups computed elsewhere (e.g. a published per-kernel result
/// file).
Score scoreSpeedups(const std::vector<double>& speedups, const std::vector<double>& oracleSpeedups);

/// The arithmetic mean of per-platform mean speedups: the "mean" column of the published table.
double meanOverPlatforms(const std::vector<Score>& perPlatform);

/// A published result: mean speedup over factor 1 per platform (kPlatforms order) and their mean, as the
/// papers print them (so with their rounding).
struct PublishedRow {
  std::string_view method;
  std::array<double, 4> speedup;
  double mean;
};
/// The published table (shared/docs/baselines.md: Magni PACT'14 and DeepTune PACT'17 as reported in PACT'17,
/// inst2vec/NCC NeurIPS'18, IR2Vec TACO'20), and the oracle computed from the data set.
inline constexpr std::array<PublishedRow, 6> kPublished = {{
    {"Magni et al. (PACT'14)", {1.21, 1.01, 0.86, 0.94}, 1.005},
    {"DeepTune (PACT'17)", {1.10, 1.05, 1.10, 0.99}, 1.06},
    {"DeepTune transfer-learned", {1.17, 1.23, 1.14, 0.93}, 1.12},
    {"inst2vec / NCC (NeurIPS'18)", {1.25, 1.07, 1.02, 1.03}, 1.09},
    {"IR2Vec flow-aware (TACO'20)", {1.240, 1.301, 1.257, 1.155}, 1.238},
    {"oracle", {1.498, 1.404, 1.339, 1.184}, 1.356},
}};

}  // namespace mirtune::coarsen
