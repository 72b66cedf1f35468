// Whether one configuration is really faster than another: a Mann-Whitney U test on the raw repetitions and a
// bootstrap interval of the ratio of medians, so a speedup smaller than the run-to-run spread reads "within noise".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

enum class ComparisonVerdict {
  kFaster,         ///< faster than the baseline beyond the spread of both
  kSlower,         ///< slower beyond the spread
  kWithinNoise,    ///< the difference does not exceed the spread
  kTooFewSamples,  ///< fewer repetitions than any test at this level can decide on
};
std::string_view comparisonVerdictName(ComparisonVerdict verdict);  ///< "faster", "slower", "within_noise", ...

struct Comparison {
  ComparisonVerdict verdict = ComparisonVerdict::kTooFewSamples;
  double speedup = 1;  ///< median(baseline) / median(candidate)
  double low = 1;      ///< the bootstrap interval of the speedup (percentile method)
  double high = 1;
  double pValue = 1;   ///< two-sided Mann-Whitney U (exact without ties for small samples, else normal with ties)
};

struct ComparisonSettings {
  double alpha = 0.05;        ///< significance level of the test; the interval is (1 - alpha)
  int resamples = 2000;       ///< bootstrap resamples
  std::uint64_t seed = 0;     ///< of the bootstrap's own random stream (same result on every machine)
};

/// Compares a candidate's repetitions with the baseline's (times, any unit, the same for both). Faster (slower)
/// only when the test rejects equality at alpha and the whole interval lies above (below) 1. Too few samples when
/// a side has fewer than 2 repetitions or the smallest p-value the test could give is not below alpha.
Comparison compareSamples(const std::vector<double>& baseline, const std::vector<double>& candidate,
                          const ComparisonSettings& settings = {});

/// Two-sided p-value of the Mann-Whitney U test of a against b.
double mannWhitneyPValue(const std::vector<double>& a, const std::vector<double>& b);

/// "1.42x faster than the default (95% interval 1.38-1.47)", "within noise of the default (1.03x, 95% interval
/// 0.91-1.12)", "too few repetitions to compare with the default (1.10x)"; `baselineName` replaces "the default".
std::string comparisonText(const Comparison& comparison, std::string_view baselineName = "the default",
                           double alpha = 0.05);

}  // namespace mirtune
