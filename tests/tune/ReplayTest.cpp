// Replay of a brute-forced cache: exhaustive with the full budget finds the optimum, seeds are reproducible,
// and the report's JSON has its documented keys.
#include "tasks/tune/Replay.h"

#include <gtest/gtest.h>

namespace mirtune::tune {
namespace {

const std::filesystem::path kInputs = MIRTUNE_TUNE_SEARCH_INPUTS;

KernelTunerCache toyCache() {
  auto cache = readKernelTunerCache(kInputs / "toy-cache.json");
  EXPECT_TRUE(cache.ok()) << cache.error().message();
  return cache.ok() ? *cache : KernelTunerCache{};
}

TEST(Replay, ExhaustiveWithTheFullBudgetReachesTheOptimum) {
  ReplayRequest request;
  request.strategy = StrategyKind::kExhaustive;
  request.budget = 14;
  request.repeats = 2;
  auto report = replay(toyCache(), request);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->spaceSize, 14u);
  EXPECT_DOUBLE_EQ(report->optimum, 2.5);
  EXPECT_EQ(report->fractions, (std::vector<double>{1.0, 1.0}));
  EXPECT_DOUBLE_EQ(report->fractionOfOptimum.median, 1.0);
  ASSERT_EQ(report->medianCurve.size(), 14u);
  // Enumeration order starts with block 1 (1,0,col: 11.5 ms; 1,0,row failed and is not in the space).
  EXPECT_DOUBLE_EQ(report->medianCurve.front(), 2.5 / 11.5);
  EXPECT_DOUBLE_EQ(report->medianCurve.back(), 1.0);
  for (std::size_t k = 1; k < report->medianCurve.size(); ++k)
    EXPECT_GE(report->medianCurve[k], report->medianCurve[k - 1]);
}

TEST(Replay, ABudgetBeyondTheSpaceStopsAtItsSize) {
  ReplayRequest request;
  request.strategy = StrategyKind::kModel;
  request.budget = 30;
  request.repeats = 1;
  auto report = replay(toyCache(), request);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_DOUBLE_EQ(report->fractions.front(), 1.0);
  EXPECT_EQ(report->medianCurve.size(), 30u);
}

TEST(Replay, RandomRepeatsAreSeededAndTheReportHasItsKeys) {
  ReplayRequest request;
  request.strategy = StrategyKind::kRandom;
  request.budget = 3;
  request.repeats = 5;
  request.seed = 11;
  auto a = replay(toyCache(), request);
  auto b = replay(toyCache(), request);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->fractions, b->fractions);
  EXPECT_EQ(a->fractions.size(), 5u);
  auto json = replayReportJson(*a);
  for (const char* key : {"strategy", "budget", "repeats", "space_size", "optimum_ms", "fraction_of_optimum",
                          "fractions", "median_curve", "seconds_per_evaluation"})
    EXPECT_TRUE(json.contains(key)) << key;
  for (const char* key : {"median", "mean", "q1", "q3", "min", "max"})
    EXPECT_TRUE(json["fraction_of_optimum"].contains(key)) << key;
  EXPECT_EQ(json["strategy"], "random");
  EXPECT_NE(replayReportText(*a).find("strategy random: 3 evaluations x 5 repeats"), std::string::npos);
}

TEST(Replay, RefusesAZeroBudgetAndTransferWithoutHistory) {
  ReplayRequest request;
  request.budget = 0;
  auto zero = replay(toyCache(), request);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code(), ErrorCode::kUsage);
  request.budget = 5;
  request.strategy = StrategyKind::kTransfer;
  EXPECT_FALSE(replay(toyCache(), request).ok());
}

}  // namespace
}  // namespace mirtune::tune
