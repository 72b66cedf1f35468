// Accuracy and speedup over the static mapping.
#include "tasks/devmap/Metrics.h"

#include <cmath>

namespace mirtune::devmap {

double speedupOverStatic(const DevmapRow& row, std::size_t platform, Device predicted) {
  return row.runtime(platform, kPlatforms[platform].staticDevice) / row.runtime(platform, predicted);
}

Score scoreRows(const std::vector<bool>& correct, const std::vector<double>& speedups) {
  Score score;
  score.rows = correct.size();
  double sum = 0, logSum = 0;
  for (std::size_t i = 0; i < correct.size(); ++i) {
    score.correct += correct[i] ? 1 : 0;
    sum += speedups[i];
    logSum += std::log(speedups[i]);
  }
  if (score.rows > 0) {
    double n = static_cast<double>(score.rows);
    score.accuracy = static_cast<double>(score.correct) / n;
    score.meanSpeedup = sum / n;
    score.geomeanSpeedup = std::exp(logSum / n);
  }
  return score;
}

Score scoreMapping(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                   const std::vector<Device>& predicted) {
  std::vector<bool> correct;
  std::vector<double> speedups;
  double oracleSum = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const DevmapRow& row = data.rows[rows[i]];
    correct.push_back(predicted[i] == row.oracle[platform]);
    speedups.push_back(speedupOverStatic(row, platform, predicted[i]));
    oracleSum += speedupOverStatic(row, platform, row.oracle[platform]);
  }
  Score score = scoreRows(correct, speedups);
  if (!rows.empty()) {
    score.oracleMeanSpeedup = oracleSum / static_cast<double>(rows.size());
    score.oracleFraction = score.meanSpeedup / score.oracleMeanSpeedup;
  }
  return score;
}

}  // namespace mirtune::devmap
