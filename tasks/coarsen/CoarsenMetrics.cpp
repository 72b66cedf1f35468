// Speedup over factor 1 per platform, arithmetic and geometric means, fraction of the oracle.
#include "tasks/coarsen/CoarsenMetrics.h"

#include <algorithm>
#include <cmath>

namespace mirtune::coarsen {

Score scoreSpeedups(const std::vector<double>& speedups, const std::vector<double>& oracleSpeedups) {
  Score score;
  score.kernels = speedups.size();
  if (speedups.empty()) return score;
  double sum = 0, logSum = 0, oracleSum = 0, fractionSum = 0, guardedSum = 0;
  for (std::size_t i = 0; i < speedups.size(); ++i) {
    sum += speedups[i];
    guardedSum += std::max(1.0, speedups[i]);
    logSum += std::log(speedups[i]);
    oracleSum += oracleSpeedups[i];
    fractionSum += speedups[i] / oracleSpeedups[i];
    // Equal speedups up to rounding: a clipped prediction can reach the oracle by another factor label.
    score.optimal += speedups[i] >= oracleSpeedups[i] * (1 - 1e-12) ? 1 : 0;
  }
  double n = static_cast<double>(speedups.size());
  score.meanSpeedup = sum / n;
  score.geomeanSpeedup = std::exp(logSum / n);
  score.oracleSpeedup = oracleSum / n;
  score.fractionOfOracle = fractionSum / n;
  score.guardedSpeedup = guardedSum / n;
  return score;
}

Score scoreFactors(const CoarsenData& data, std::size_t platform, const std::vector<std::size_t>& kernels,
                   const std::vector<int>& factors) {
  std::vector<double> speedups, oracle;
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const CoarsenKernel& kernel = data.kernels[kernels[i]];
    speedups.push_back(kernel.speedup(platform, factors[i]));
    oracle.push_back(kernel.oracleSpeedup(platform));
  }
  return scoreSpeedups(speedups, oracle);
}

double meanOverPlatforms(const std::vector<Score>& perPlatform) {
  if (perPlatform.empty()) return 0;
  double sum = 0;
  for (const Score& score : perPlatform) sum += score.meanSpeedup;
  return sum / static_cast<double>(perPlatform.size());
}

}  // namespace mirtune::coarsen
