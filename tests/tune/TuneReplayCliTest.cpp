// `mirtune tune --replay`: the JSON report of a replay, and refusals of bad input with their exit codes.
#include "common/RunMirtune.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace mirtune {
namespace {

const std::filesystem::path kInputs = MIRTUNE_TUNE_SEARCH_INPUTS;
const std::string kToy = (kInputs / "toy-cache.json").string();

TEST(CliTuneReplay, JsonReportOfAnExhaustiveReplay) {
  auto result = runMirtune(
      {"tune", "--replay", kToy, "--strategy", "exhaustive", "--budget", "14", "--repeats", "2", "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  auto report = nlohmann::json::parse(result.standardOutput);
  EXPECT_EQ(report["strategy"], "exhaustive");
  EXPECT_EQ(report["budget"], 14);
  EXPECT_EQ(report["repeats"], 2);
  EXPECT_EQ(report["space_size"], 14);
  EXPECT_DOUBLE_EQ(report["optimum_ms"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(report["fraction_of_optimum"]["median"].get<double>(), 1.0);
  EXPECT_EQ(report["fractions"].size(), 2u);
  EXPECT_EQ(report["median_curve"].size(), 14u);
  EXPECT_TRUE(report.contains("seconds_per_evaluation"));
}

TEST(CliTuneReplay, TextReportAndTransferWithHistory) {
  auto text =
      runMirtune({"tune", "--replay", kToy, "--strategy", "random", "--budget", "4", "--repeats", "3"});
  ASSERT_EQ(text.exitCode, 0) << text.standardError;
  EXPECT_NE(
      text.standardOutput.find("strategy random: 4 evaluations x 3 repeats over 14 valid configurations"),
      std::string::npos)
      << text.standardOutput;
  auto transfer = runMirtune({"tune", "--replay", kToy, "--strategy", "transfer", "--history", kToy,
                              "--budget", "1", "--repeats", "2", "--json"});
  ASSERT_EQ(transfer.exitCode, 0) << transfer.standardError;
  // The history is the same space: the first proposal is its optimum.
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(transfer.standardOutput)["fraction_of_optimum"]["min"].get<double>(),
                   1.0);
}

TEST(CliTuneReplay, BadInputIsRefusedWithItsName) {
  const std::string bad = (kInputs / "bad-key-mismatch.json").string();
  auto badCache = runMirtune({"tune", "--replay", bad, "--budget", "5", "--repeats", "1"});
  EXPECT_EQ(badCache.exitCode, 1);
  EXPECT_NE(badCache.standardError.find("bad-key-mismatch.json"), std::string::npos)
      << badCache.standardError;
  EXPECT_NE(badCache.standardError.find("2,1,row"), std::string::npos) << badCache.standardError;
  EXPECT_TRUE(badCache.standardOutput.empty());

  auto missing = runMirtune({"tune", "--replay", (kInputs / "absent.json").string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find("absent.json"), std::string::npos) << missing.standardError;

  auto zero = runMirtune({"tune", "--replay", kToy, "--budget", "0"});
  EXPECT_EQ(zero.exitCode, 2);
  EXPECT_NE(zero.standardError.find("--budget"), std::string::npos) << zero.standardError;

  auto strategy = runMirtune({"tune", "--replay", kToy, "--strategy", "annealing"});
  EXPECT_EQ(strategy.exitCode, 2);
  EXPECT_NE(strategy.standardError.find("annealing"), std::string::npos) << strategy.standardError;

  auto noHistory = runMirtune({"tune", "--replay", kToy, "--strategy", "transfer"});
  EXPECT_EQ(noHistory.exitCode, 2);
  EXPECT_NE(noHistory.standardError.find("--history"), std::string::npos) << noHistory.standardError;

  // A SPEC is the live mode: a missing one is named.
  auto spec = runMirtune({"tune", (kInputs / "spec.json").string()});
  EXPECT_EQ(spec.exitCode, 1);
  EXPECT_NE(spec.standardError.find("spec.json"), std::string::npos) << spec.standardError;

  auto both = runMirtune({"tune", (kInputs / "spec.json").string(), "--replay", kToy});
  EXPECT_EQ(both.exitCode, 2);
  EXPECT_NE(both.standardError.find("not both"), std::string::npos) << both.standardError;

  auto nothing = runMirtune({"tune"});
  EXPECT_EQ(nothing.exitCode, 2);
  EXPECT_NE(nothing.standardError.find("--replay"), std::string::npos) << nothing.standardError;
}

}  // namespace
}  // namespace mirtune
