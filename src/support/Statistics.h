// Small numeric helpers shared by evaluations and samplers: means and a portable seeded random stream.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace mirtune {

/// Arithmetic mean; 0 for no values.
inline double mean(const std::vector<double>& values) {
  return values.empty()
             ? 0
             : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

/// Geometric mean of positive values; 0 for no values.
inline double geomean(const std::vector<double>& values) {
  double logSum = 0;
  for (double v : values) logSum += std::log(v);
  return values.empty() ? 0 : std::exp(logSum / static_cast<double>(values.size()));
}

/// splitmix64: the next value of a tiny generator that draws the same stream on every machine and compiler
/// (std distributions do not), advancing `state`.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Expected best speedup over `defaultSeconds` when `budget` of `seconds` (one entry per configuration) are
/// drawn uniformly without replacement, averaged over `draws` seeded draws; with keepDefault the default's
/// own time is among the candidates (a tuning session measures it first). 1 when there is nothing to draw.
inline double expectedRandomSpeedup(const std::vector<double>& seconds, double defaultSeconds,
                                    std::size_t budget, bool keepDefault, std::size_t draws,
                                    std::uint64_t seed) {
  if (seconds.empty() || draws == 0) return 1.0;
  std::uint64_t state = seed;
  double total = 0;
  std::vector<std::size_t> order(seconds.size());
  for (std::size_t d = 0; d < draws; ++d) {
    std::iota(order.begin(), order.end(), 0);
    double best = keepDefault ? defaultSeconds : INFINITY;
    for (std::size_t i = 0; i < budget && i < order.size(); ++i) {
      const std::size_t j = i + static_cast<std::size_t>(splitmix64(state) % (order.size() - i));
      std::swap(order[i], order[j]);
      best = std::min(best, seconds[order[i]]);
    }
    total += defaultSeconds / best;
  }
  return total / static_cast<double>(draws);
}

}  // namespace mirtune
