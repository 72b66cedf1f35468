// tuner/Comparison: a speedup is claimed only beyond the run-to-run spread.
#include "tuner/Comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace mirtune {
namespace {

std::vector<double> around(double centre, double wiggle, int n) {
  std::vector<double> values;
  for (int i = 0; i < n; ++i) values.push_back(centre + wiggle * ((i * 7) % n - n / 2) / static_cast<double>(n));
  return values;
}

TEST(Comparison, ExactMannWhitneyOfCompletelySeparatedSamples) {
  // Every ordering of 3 + 4 values is equally likely under equality; only the two extreme ones are as far out.
  EXPECT_NEAR(mannWhitneyPValue({1, 2, 3}, {4, 5, 6, 7}), 2.0 / 35.0, 1e-12);
  EXPECT_NEAR(mannWhitneyPValue({4, 5, 6, 7}, {1, 2, 3}), 2.0 / 35.0, 1e-12);
  // One swap at the boundary: U = 1, so P(U <= 1) = 2 / 35 and the two-sided value doubles it.
  EXPECT_NEAR(mannWhitneyPValue({1, 2, 4}, {3, 5, 6, 7}), 4.0 / 35.0, 1e-12);
}

TEST(Comparison, TiedSamplesUseTheCorrectedNormalApproximation) {
  const std::vector<double> a = {1, 2, 2, 3, 4, 4, 4, 5};
  const std::vector<double> b = {3, 4, 5, 5, 6, 6, 7, 8, 9};
  const double p = mannWhitneyPValue(a, b);
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 0.05);
  EXPECT_DOUBLE_EQ(p, mannWhitneyPValue(b, a));
  EXPECT_DOUBLE_EQ(mannWhitneyPValue({1, 1, 1}, {1, 1, 1}), 1.0);
}

TEST(Comparison, ClearlyFasterCandidateIsFaster) {
  const auto baseline = around(2.0, 0.05, 10);
  const auto candidate = around(1.0, 0.05, 10);
  const Comparison c = compareSamples(baseline, candidate);
  EXPECT_EQ(c.verdict, ComparisonVerdict::kFaster);
  EXPECT_NEAR(c.speedup, 2.0, 0.1);
  EXPECT_GT(c.low, 1.5);
  EXPECT_LT(c.high, 2.5);
  EXPECT_LE(c.low, c.speedup);
  EXPECT_GE(c.high, c.speedup);
  EXPECT_LT(c.pValue, 0.001);
  EXPECT_NE(comparisonText(c).find("faster than the default"), std::string::npos) << comparisonText(c);
}

TEST(Comparison, ASpreadLargerThanTheMedianIsWithinNoise) {
  // The candidate's median is a third of the baseline's, but its repetitions range over an order of magnitude.
  const std::vector<double> baseline = {1.0, 1.1, 0.9, 1.05, 0.95, 1.02};
  const std::vector<double> candidate = {0.2, 3.0, 0.3, 2.5, 0.29, 0.31};
  const Comparison c = compareSamples(baseline, candidate);
  EXPECT_EQ(c.verdict, ComparisonVerdict::kWithinNoise);
  EXPECT_GT(c.speedup, 2.0);
  EXPECT_LT(c.low, 1.0);
  EXPECT_NE(comparisonText(c).find("within noise"), std::string::npos);
}

TEST(Comparison, SlowerAndEqualCandidates) {
  const Comparison slower = compareSamples(around(1.0, 0.02, 8), around(1.5, 0.02, 8));
  EXPECT_EQ(slower.verdict, ComparisonVerdict::kSlower);
  EXPECT_NE(comparisonText(slower).find("1.50x slower"), std::string::npos) << comparisonText(slower);
  const Comparison same = compareSamples(around(1.0, 0.1, 9), around(1.0, 0.1, 9));
  EXPECT_EQ(same.verdict, ComparisonVerdict::kWithinNoise);
}

TEST(Comparison, TooFewRepetitionsCannotDecide) {
  // 3 against 3: the smallest two-sided p-value is 0.1, so no difference can be significant at 0.05.
  const Comparison c = compareSamples({2.0, 2.0, 2.0}, {1.0, 1.0, 1.0});
  EXPECT_EQ(c.verdict, ComparisonVerdict::kTooFewSamples);
  EXPECT_DOUBLE_EQ(c.speedup, 2.0);
  EXPECT_NE(comparisonText(c).find("too few repetitions"), std::string::npos);
  EXPECT_EQ(compareSamples({}, {1.0}).verdict, ComparisonVerdict::kTooFewSamples);
}

TEST(Comparison, TheBootstrapIsDeterministicPerSeed) {
  const auto baseline = around(2.0, 0.5, 12);
  const auto candidate = around(1.7, 0.5, 12);
  ComparisonSettings settings;
  settings.seed = 7;
  const Comparison first = compareSamples(baseline, candidate, settings);
  const Comparison second = compareSamples(baseline, candidate, settings);
  EXPECT_DOUBLE_EQ(first.low, second.low);
  EXPECT_DOUBLE_EQ(first.high, second.high);
}

}  // namespace
}  // namespace mirtune
