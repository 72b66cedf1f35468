// Mann-Whitney U test and bootstrap interval of a ratio of medians (tuner/Comparison.h).
#include "tuner/Comparison.h"

#include "support/Statistics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <utility>

namespace mirtune {
namespace {

double medianOf(std::vector<double> values) {
  const std::size_t n = values.size();
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n / 2), values.end());
  const double upper = values[n / 2];
  if (n % 2 == 1) return upper;
  return (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n / 2)) + upper) / 2;
}

/// Number of ways each U value arises for samples of sizes m and n without ties (counts as doubles: exact up to
/// 2^53, far beyond the sizes this is used for).
std::vector<double> exactUDistribution(std::size_t m, std::size_t n) {
  // counts[i][j][u]: rolling over i with a table indexed by (j, u).
  const std::size_t maxU = m * n;
  std::vector<std::vector<double>> previous(n + 1, std::vector<double>(maxU + 1, 0.0));
  for (std::size_t j = 0; j <= n; ++j) previous[j][0] = 1;  // i = 0: U = 0 only
  for (std::size_t i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> current(n + 1, std::vector<double>(maxU + 1, 0.0));
    current[0][0] = 1;
    for (std::size_t j = 1; j <= n; ++j) {
      for (std::size_t u = 0; u <= i * j; ++u) {
        // The largest of the i + j values is from the first sample (it beats all j others) or from the second.
        double ways = current[j - 1][u];
        if (u >= j) ways += previous[j][u - j];
        current[j][u] = ways;
      }
    }
    previous = std::move(current);
  }
  return previous[n];
}

double smallestPossiblePValue(std::size_t m, std::size_t n) {
  // Both extreme orderings: 2 / C(m + n, m).
  double combinations = 1;
  for (std::size_t k = 1; k <= m; ++k) combinations = combinations * static_cast<double>(n + k) / static_cast<double>(k);
  return std::min(1.0, 2.0 / combinations);
}

}  // namespace

std::string_view comparisonVerdictName(ComparisonVerdict verdict) {
  switch (verdict) {
    case ComparisonVerdict::kFaster: return "faster";
    case ComparisonVerdict::kSlower: return "slower";
    case ComparisonVerdict::kWithinNoise: return "within_noise";
    case ComparisonVerdict::kTooFewSamples: return "too_few_samples";
  }
  return "too_few_samples";
}

double mannWhitneyPValue(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t m = a.size();
  const std::size_t n = b.size();
  if (m == 0 || n == 0) return 1;
  // Ranks of the pooled sample, ties sharing their mean rank.
  std::vector<std::pair<double, int>> pooled;
  pooled.reserve(m + n);
  for (double v : a) pooled.emplace_back(v, 0);
  for (double v : b) pooled.emplace_back(v, 1);
  std::sort(pooled.begin(), pooled.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  double rankSumA = 0;
  double tieTerm = 0;  // sum of t^3 - t over tied groups
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double meanRank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (pooled[k].second == 0) rankSumA += meanRank;
    }
    const double t = static_cast<double>(j - i);
    tieTerm += t * t * t - t;
    i = j;
  }
  const double md = static_cast<double>(m);
  const double nd = static_cast<double>(n);
  const double u = rankSumA - md * (md + 1) / 2;
  const double meanU = md * nd / 2;
  if (tieTerm == 0 && m * n <= 2500) {
    // Exact: P(U <= min(u, mn - u)) doubled.
    const std::vector<double> counts = exactUDistribution(m, n);
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const double lowU = std::min(u, md * nd - u);
    double tail = 0;
    for (std::size_t k = 0; k < counts.size() && static_cast<double>(k) <= lowU + 1e-9; ++k) tail += counts[k];
    return std::min(1.0, 2 * tail / total);
  }
  const double total = md + nd;
  const double variance = md * nd / 12 * ((total + 1) - tieTerm / (total * (total - 1)));
  if (variance <= 0) return 1;  // every value equal
  // Continuity correction of one half toward the mean.
  const double z = (std::abs(u - meanU) - 0.5) / std::sqrt(variance);
  if (z <= 0) return 1;
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

Comparison compareSamples(const std::vector<double>& baseline, const std::vector<double>& candidate,
                          const ComparisonSettings& settings) {
  Comparison result;
  if (baseline.empty() || candidate.empty()) return result;
  result.speedup = medianOf(baseline) / medianOf(candidate);
  result.low = result.high = result.speedup;
  if (baseline.size() < 2 || candidate.size() < 2 ||
      smallestPossiblePValue(baseline.size(), candidate.size()) >= settings.alpha) {
    return result;
  }
  result.pValue = mannWhitneyPValue(baseline, candidate);

  // The bootstrap draws the same indices on every machine and standard library.
  std::uint64_t state = settings.seed ^ 0x6d69727475e65ULL;
  const auto below = [&state](std::size_t n) { return static_cast<std::size_t>(splitmix64(state) % n); };
  std::vector<double> ratios;
  ratios.reserve(static_cast<std::size_t>(std::max(settings.resamples, 1)));
  std::vector<double> resampledBaseline(baseline.size());
  std::vector<double> resampledCandidate(candidate.size());
  for (int r = 0; r < std::max(settings.resamples, 1); ++r) {
    for (double& v : resampledBaseline) v = baseline[below(baseline.size())];
    for (double& v : resampledCandidate) v = candidate[below(candidate.size())];
    const double candidateMedian = medianOf(resampledCandidate);
    if (candidateMedian > 0) ratios.push_back(medianOf(resampledBaseline) / candidateMedian);
  }
  if (ratios.empty()) return result;
  std::sort(ratios.begin(), ratios.end());
  const auto quantile = [&](double q) {
    const double position = q * static_cast<double>(ratios.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(position));
    const std::size_t upper = std::min(lower + 1, ratios.size() - 1);
    return ratios[lower] + (position - static_cast<double>(lower)) * (ratios[upper] - ratios[lower]);
  };
  result.low = quantile(settings.alpha / 2);
  result.high = quantile(1 - settings.alpha / 2);
  const bool significant = result.pValue < settings.alpha;
  if (significant && result.low > 1) {
    result.verdict = ComparisonVerdict::kFaster;
  } else if (significant && result.high < 1) {
    result.verdict = ComparisonVerdict::kSlower;
  } else {
    result.verdict = ComparisonVerdict::kWithinNoise;
  }
  return result;
}

std::string comparisonText(const Comparison& comparison, std::string_view baselineName, double alpha) {
  const int level = static_cast<int>(std::lround((1 - alpha) * 100));
  switch (comparison.verdict) {
    case ComparisonVerdict::kFaster:
      return fmt::format("{:.2f}x faster than {} ({}% interval {:.2f}-{:.2f})", comparison.speedup, baselineName,
                         level, comparison.low, comparison.high);
    case ComparisonVerdict::kSlower:
      return fmt::format("{:.2f}x slower than {} ({}% interval {:.2f}-{:.2f})", 1 / comparison.speedup,
                         baselineName, level, 1 / comparison.high, 1 / comparison.low);
    case ComparisonVerdict::kWithinNoise:
      return fmt::format("within noise of {} ({:.2f}x, {}% interval {:.2f}-{:.2f})", baselineName,
                         comparison.speedup, level, comparison.low, comparison.high);
    case ComparisonVerdict::kTooFewSamples:
      break;
  }
  return fmt::format("too few repetitions to compare with {} ({:.2f}x)", baselineName, comparison.speedup);
}

}  // namespace mirtune
