// The published device-mapping metrics: accuracy, and speedup of the predicted device over the static mapping.
#pragma once

#include "tasks/devmap/DevmapData.h"

#include <cstddef>
#include <vector>

namespace mirtune::devmap {

struct Score {
  std::size_t rows = 0;
  std::size_t correct = 0;
  double accuracy = 0;        ///< correct / rows
  double meanSpeedup = 0;     ///< arithmetic mean over rows (the published metric)
  double geomeanSpeedup = 0;  ///< geometric mean over rows
  /// Mean speedup of the oracle (the faster device on every row) over the same rows; 0 when not known
  /// (scoreRows).
  double oracleMeanSpeedup = 0;
  /// meanSpeedup / oracleMeanSpeedup: the fraction of the oracle's mean speedup reached (a ratio of the two
  /// arithmetic means, not a mean of per-row fractions); 0 when the oracle is not known.
  double oracleFraction = 0;
};

/// runtime(static device) / runtime(predicted device) on `platform` (index into kPlatforms).
double speedupOverStatic(const DevmapRow& row, std::size_t platform, Device predicted);

/// Scores predictions that line up with `rows` (indices into data.rows), the oracle's mean speedup included.
Score scoreMapping(const DevmapData& data, std::size_t platform, const std::vector<std::size_t>& rows,
                   const std::vector<Device>& predicted);

/// Scores per-row correctness flags and speedups computed elsewhere (e.g. a published per-row result file).
Score scoreRows(const std::vector<bool>& correct, const std::vector<double>& speedups);

}  // namespace mirtune::devmap
