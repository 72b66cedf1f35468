// `mirtune tune SPEC.json` end to end on this machine's OpenCL device: every way a configuration can end is recorded
// and the search goes on, T4 and Kernel Tuner cache files are written, a session resumes from its cache file, the
// convergence plot is drawn, and bad specs are refused naming the file. Skips without an OpenCL device.
#include "common/OpenClDevices.h"
#include "common/RunMirtune.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace mirtune {
namespace {
namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TUNE_SESSION_INPUTS;

nlohmann::json readJson(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in, nullptr, false);
}

class TuneCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!hasOpenClDevice()) GTEST_SKIP() << "no OpenCL device (install pocl-opencl-icd)";
    folder_ = fs::temp_directory_path() /
              ("mirtune-tune-cli-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override {
    if (!folder_.empty()) fs::remove_all(folder_);
  }
  std::vector<std::string> withDatabase(std::vector<std::string> arguments) const {
    arguments.insert(arguments.begin(), {"--db", (folder_ / "tune.db").string(), "--quiet"});
    return arguments;
  }
  fs::path folder_;
};

TEST_F(TuneCli, EveryFailureIsRecordedAndTheSearchGoesOn) {
  const fs::path t4 = folder_ / "results.t4.json";
  const fs::path cache = folder_ / "cache.json";
  auto run = runMirtune(withDatabase({"tune", (kInputs / "faulty.json").string(), "--strategy", "exhaustive",
                                      "--budget", "0", "-o", t4.string(), "--cache", cache.string(), "--json"}),
                        300);
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  const auto summary = nlohmann::json::parse(run.standardOutput, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << run.standardOutput;
  EXPECT_EQ(summary["evaluations"], 10);
  EXPECT_EQ(summary["space_size"], 10);
  EXPECT_EQ(summary["stopped_by"], "space");
  EXPECT_EQ(summary["default"]["configuration"], (nlohmann::json{{"LOCAL", 16}, {"VARIANT", 0}}));
  ASSERT_TRUE(summary["best"].is_object());
  EXPECT_LE(summary["best"]["configuration"]["VARIANT"].get<int>(), 1);

  // T4: one entry per configuration, the default first, each failure with its kind.
  const auto results = readJson(t4);
  ASSERT_TRUE(results.is_object());
  EXPECT_EQ(results["schema_version"], "1.0.0");
  ASSERT_EQ(results["results"].size(), 10u);
  EXPECT_EQ(results["results"][0]["configuration"], summary["default"]["configuration"]);
  std::map<int, std::set<std::string>> invalidityByVariant;
  for (const auto& result : results["results"]) {
    for (const char* key : {"timestamp", "configuration", "objectives", "times", "invalidity", "correctness",
                            "measurements"}) {
      EXPECT_TRUE(result.contains(key)) << key << " missing in " << result.dump();
    }
    for (const char* key : {"compilation_time", "runtimes", "framework", "search_algorithm", "validation"}) {
      EXPECT_TRUE(result["times"].contains(key)) << key;
    }
    invalidityByVariant[result["configuration"]["VARIANT"].get<int>()].insert(result["invalidity"]);
    if (result["invalidity"] == "correct") {
      ASSERT_FALSE(result["measurements"].empty());
      EXPECT_EQ(result["measurements"][0]["name"], "time");
      EXPECT_EQ(result["measurements"][0]["unit"], "ms");
      EXPECT_GT(result["measurements"][0]["value"].get<double>(), 0.0);
      EXPECT_GE(result["times"]["runtimes"].size(), 5u);
    }
  }
  EXPECT_EQ(invalidityByVariant[0], std::set<std::string>{"correct"});
  EXPECT_EQ(invalidityByVariant[1], std::set<std::string>{"correct"});
  EXPECT_EQ(invalidityByVariant[2], std::set<std::string>{"compile"});
  EXPECT_EQ(invalidityByVariant[3], std::set<std::string>{"correctness"});
  EXPECT_EQ(invalidityByVariant[4], std::set<std::string>{"timeout"});

  // The cache file: Kernel Tuner's layout, failures as its failure words.
  const auto cached = readJson(cache);
  ASSERT_TRUE(cached.is_object());
  EXPECT_EQ(cached["kernel_name"], "scale");
  EXPECT_EQ(cached["tune_params_keys"], (nlohmann::json{"VARIANT", "LOCAL"}));
  ASSERT_EQ(cached["cache"].size(), 10u);
  EXPECT_EQ(cached["cache"]["2,1"]["time"], "CompilationFailedConfig");
  EXPECT_EQ(cached["cache"]["3,16"]["time"], "RuntimeFailedConfig");
  EXPECT_TRUE(cached["cache"]["0,16"]["time"].is_number());

  // An existing cache file is not continued by accident...
  auto refused = runMirtune(withDatabase({"tune", (kInputs / "faulty.json").string(), "--cache", cache.string()}));
  EXPECT_EQ(refused.exitCode, 2);
  EXPECT_NE(refused.standardError.find("--resume"), std::string::npos) << refused.standardError;
  // ...but resumed on request: only the default (every other run's reference) is measured again.
  auto resumed = runMirtune(withDatabase({"tune", (kInputs / "faulty.json").string(), "--strategy", "model",
                                          "--budget", "0", "--cache", cache.string(), "--resume", "--json"}),
                            300);
  ASSERT_EQ(resumed.exitCode, 0) << resumed.standardError;
  const auto again = nlohmann::json::parse(resumed.standardOutput, nullptr, false);
  EXPECT_EQ(again["evaluations"], 10);
  EXPECT_EQ(again["reused"], 9);

  // The convergence plot of the first session.
  const fs::path png = folder_ / "convergence.png";
  auto plot = runMirtune({"tune", "plot", t4.string(), "-o", png.string()});
  ASSERT_EQ(plot.exitCode, 0) << plot.standardError;
  auto bytes = readFile(png);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(TuneCli, TheModelStrategyKeepsToItsBudgetWithoutRepeats) {
  const fs::path t4 = folder_ / "model.t4.json";
  auto run = runMirtune(withDatabase({"tune", (kInputs / "faulty.json").string(), "--strategy", "model",
                                      "--budget", "4", "--seed", "3", "-o", t4.string()}),
                        300);
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  EXPECT_NE(run.standardOutput.find("4 of 10 configurations evaluated"), std::string::npos) << run.standardOutput;
  const auto results = readJson(t4);
  ASSERT_EQ(results["results"].size(), 4u);
  std::set<std::string> seen;
  for (const auto& result : results["results"]) EXPECT_TRUE(seen.insert(result["configuration"].dump()).second);
}

TEST_F(TuneCli, AnApplicationSpecIsBuiltAndRunThroughItsCommands) {
  // The OpenMP example of kernels/tune: parameters reach the build as -D flags and the run as OMP_* variables.
  const fs::path t4 = folder_ / "app.t4.json";
  auto run = runMirtune(withDatabase({"tune", fs::path(MIRTUNE_SOURCE_ROOT "/kernels/tune/omp_blur.json").string(),
                                      "--strategy", "random", "--budget", "3", "--seed", "1", "-o", t4.string(),
                                      "--json"}),
                        300);
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  const auto summary = nlohmann::json::parse(run.standardOutput, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << run.standardOutput;
  EXPECT_EQ(summary["evaluations"], 3);
  EXPECT_EQ(summary["default"]["configuration"],
            (nlohmann::json{{"block_rows", 1}, {"schedule", "static"}, {"threads", 1}}));
  const auto results = readJson(t4);
  ASSERT_EQ(results["results"].size(), 3u);
  for (const auto& result : results["results"]) EXPECT_EQ(result["invalidity"], "correct") << result.dump();
}

TEST_F(TuneCli, TransferReadsTheEarlierSessionsOfThisPlatform) {
  const std::string root = MIRTUNE_SOURCE_ROOT;
  // Nothing measured yet: transfer says so and searches alone.
  auto alone = runMirtune(withDatabase({"tune", root + "/kernels/tune/matmul_tiled.json", "--strategy", "transfer",
                                        "--budget", "2"}),
                          300);
  ASSERT_EQ(alone.exitCode, 0) << alone.standardError;
  EXPECT_NE(alone.standardError.find("no earlier session"), std::string::npos) << alone.standardError;
  // Another kernel's session on this platform, then transfer finds it (embedding both kernels).
  auto earlier = runMirtune(withDatabase({"tune", root + "/kernels/tune/matmul_wpt.json", "--strategy",
                                          "exhaustive", "--budget", "0"}),
                            300);
  ASSERT_EQ(earlier.exitCode, 0) << earlier.standardError;
  auto informed = runMirtune(withDatabase({"tune", root + "/kernels/tune/conv2d.json", "--strategy", "transfer",
                                           "--budget", "3", "--json"}),
                             300);
  ASSERT_EQ(informed.exitCode, 0) << informed.standardError;
  EXPECT_EQ(informed.standardError.find("no earlier session"), std::string::npos) << informed.standardError;
  const auto summary = nlohmann::json::parse(informed.standardOutput, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << informed.standardOutput;
  EXPECT_EQ(summary["strategy"], "transfer");
  EXPECT_EQ(summary["evaluations"], 3);
}

TEST_F(TuneCli, AnExportedSessionIsMeasuredByTheRunnerAloneAndIngestedChecked) {
  const fs::path exported = folder_ / "exported";
  const std::string spec = (kInputs / "faulty.json").string();
  auto adaptive = runMirtune(withDatabase({"tune", spec, "--strategy", "model", "--export", exported.string()}));
  EXPECT_EQ(adaptive.exitCode, 2);
  EXPECT_NE(adaptive.standardError.find("exhaustive or random"), std::string::npos) << adaptive.standardError;

  // The first 8 configurations: every kind of outcome but the hang.
  auto written = runMirtune(withDatabase({"tune", spec, "--strategy", "exhaustive", "--budget", "8", "--export",
                                          exported.string()}));
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  ASSERT_TRUE(fs::exists(exported / "run-all.sh"));
  SubprocessOptions run;
  run.argv = {"sh", (exported / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE};
  run.timeoutSeconds = 300;
  auto measured = runSubprocess(run);
  ASSERT_TRUE(measured.ok());

  // Ingested from another version of the spec: refused, nothing stored.
  const fs::path changed = folder_ / "changed.json";
  auto text = readFile(kInputs / "faulty.json");
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(writeFileAtomically(changed, *text + "\n").ok());
  ASSERT_TRUE(writeFileAtomically(folder_ / "faulty.cl", *readFile(kInputs / "faulty.cl")).ok());
  auto stale = runMirtune(withDatabase({"tune", changed.string(), "--ingest", exported.string()}));
  EXPECT_EQ(stale.exitCode, 1);
  EXPECT_NE(stale.standardError.find("tune.json"), std::string::npos) << stale.standardError;

  const fs::path t4 = folder_ / "ingested.t4.json";
  auto ingested = runMirtune(withDatabase({"tune", spec, "--ingest", exported.string(), "-o", t4.string(), "--json"}));
  ASSERT_EQ(ingested.exitCode, 0) << ingested.standardError;
  const auto summary = nlohmann::json::parse(ingested.standardOutput, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << ingested.standardOutput;
  EXPECT_EQ(summary["ingest"],
            (nlohmann::json{{"stored", 8}, {"already_stored", 0}, {"plan_folders", 8}, {"not_measured", 0}}));
  // Ingested again: the same report, nothing stored twice.
  auto again = runMirtune(withDatabase({"tune", spec, "--ingest", exported.string()}));
  ASSERT_EQ(again.exitCode, 0) << again.standardError;
  EXPECT_NE(again.standardOutput.find(
                exported.string() + ": 0 measurements stored, 8 already stored; all 8 plan folders are in\n"),
            std::string::npos)
      << again.standardOutput;
  const auto results = readJson(t4);
  ASSERT_EQ(results["results"].size(), 8u);
  std::map<int, std::set<std::string>> invalidityByVariant;
  for (const auto& result : results["results"]) {
    invalidityByVariant[result["configuration"]["VARIANT"].get<int>()].insert(result["invalidity"]);
  }
  EXPECT_EQ(invalidityByVariant[0], std::set<std::string>{"correct"});
  EXPECT_EQ(invalidityByVariant[1], std::set<std::string>{"correct"});
  EXPECT_EQ(invalidityByVariant[2], std::set<std::string>{"compile"});
  EXPECT_EQ(invalidityByVariant[3], std::set<std::string>{"correctness"});
}

TEST_F(TuneCli, BadSpecsAreRefusedNamingTheFile) {
  auto unknown = runMirtune(withDatabase({"tune", (kInputs / "unknown-name.json").string()}));
  EXPECT_EQ(unknown.exitCode, 1);
  EXPECT_NE(unknown.standardError.find("unknown-name.json"), std::string::npos) << unknown.standardError;
  EXPECT_NE(unknown.standardError.find("LANES"), std::string::npos) << unknown.standardError;

  auto empty = runMirtune(withDatabase({"tune", (kInputs / "empty-space.json").string()}));
  EXPECT_EQ(empty.exitCode, 1);
  EXPECT_NE(empty.standardError.find("empty-space.json"), std::string::npos) << empty.standardError;
  EXPECT_NE(empty.standardError.find("no configuration satisfies"), std::string::npos) << empty.standardError;

  auto missing = runMirtune(withDatabase({"tune", (folder_ / "absent.json").string()}));
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.standardError.find("absent.json"), std::string::npos) << missing.standardError;

  // A cache file of another space is refused rather than mixed in, even when resuming.
  const fs::path other = folder_ / "other-cache.json";
  ASSERT_TRUE(writeFileAtomically(other, R"({"device_name": "x", "kernel_name": "scale", "problem_size": [4096],
    "tune_params_keys": ["WIDTH"], "tune_params": {"WIDTH": [1, 2]}, "cache": {}})")
                  .ok());
  auto mixed = runMirtune(
      withDatabase({"tune", (kInputs / "faulty.json").string(), "--cache", other.string(), "--resume"}));
  EXPECT_EQ(mixed.exitCode, 1);
  EXPECT_NE(mixed.standardError.find("other-cache.json"), std::string::npos) << mixed.standardError;

  auto plot = runMirtune({"tune", "plot", (folder_ / "absent.t4.json").string(), "-o",
                          (folder_ / "p.png").string()});
  EXPECT_NE(plot.exitCode, 0);
  EXPECT_FALSE(fs::exists(folder_ / "p.png"));
}

}  // namespace
}  // namespace mirtune
