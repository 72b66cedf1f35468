// End-to-end tests of `mirtune coarsen FILE --run`, `coarsen collect` (here and exported, run by the runner
// alone through run-all.sh, ingested) and `coarsen train --platform local` on the local OpenCL devices.
#include "support/Subprocess.h"

#include "common/OpenClDevices.h"
#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;
const fs::path kSuite = kInputs / "devmap" / "suite";
const fs::path kKernels = fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "opencl";

struct TestFolder : TemporaryFolder {
  explicit TestFolder(const std::string& name) : TemporaryFolder("mirtune-coarsen-run", name) {}
};

/// The user data folder ($XDG_DATA_HOME) of every program this test process runs: trained heads go below it,
/// never into the tester's own.
const fs::path& userData() {
  static const TestFolder folder("user-data");
  return folder.path();
}

SubprocessResult run(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& environment = {},
                     double timeoutSeconds = 240) {
  SubprocessOptions options;
  options.argv = argv;
  options.environment = environment;
  options.environment.emplace("XDG_DATA_HOME", userData().string());
  options.environment["OMP_WAIT_POLICY"] = "passive";
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

SubprocessResult mirtune(std::vector<std::string> arguments,
                         const std::map<std::string, std::string>& environment = {}) {
  arguments.insert(arguments.begin(), MIRTUNE_EXECUTABLE);
  return run(arguments, environment);
}

nlohmann::json exportTable(const std::string& db, const std::string& table) {
  auto exported = mirtune({"--db", db, "db", "export", "--table", table, "--format", "json"});
  EXPECT_EQ(exported.exitCode, 0) << exported.standardError;
  auto rows = nlohmann::json::parse(exported.standardOutput, nullptr, false);
  EXPECT_TRUE(rows.is_array()) << exported.standardOutput;
  for (auto& row : rows) {
    if (row.contains("configuration") && row["configuration"].is_string())
      row["configuration"] = nlohmann::json::parse(row["configuration"].get<std::string>());
  }
  return rows;
}

/// The factor entries of the first device of the first kernel in a --json report, by factor.
std::map<int, nlohmann::json> factorsOf(const nlohmann::json& report) {
  std::map<int, nlohmann::json> factors;
  for (const auto& entry : report.at(0).at("devices").at(0).at("factors"))
    factors[entry["factor"].get<int>()] = entry;
  return factors;
}

TEST(CoarsenRun, UsageErrors) {
  TestFolder folder("usage");
  const std::string file = (kKernels / "vector_add.cl").string();
  auto result = mirtune({"--db", folder.db(), "coarsen", file, "--run"});
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.standardError.find("--run needs --global"), std::string::npos) << result.standardError;
  result = mirtune({"--db", folder.db(), "coarsen", file, "--run", "--global", "1024", "--dim", "1"});
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.standardError.find("--dim 1"), std::string::npos) << result.standardError;
  result = mirtune({"--db", folder.db(), "coarsen", file, "--platform", "local"});
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.standardError.find("--run"), std::string::npos) << result.standardError;
  result = mirtune({"--db", folder.db(), "coarsen", "train", "--platform", "local"});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.standardError.find("coarsen collect"), std::string::npos) << result.standardError;
}

TEST(CoarsenRun, VectorAddEveryFactorAgreesWithTheOriginalAndIsRecorded) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("vadd");
  auto result = mirtune({"--db", folder.db(), "coarsen", (kKernels / "vector_add.cl").string(), "--run",
                         "--global", "4096", "--local", "64", "--min-time", "0", "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  auto report = nlohmann::json::parse(result.standardOutput);
  ASSERT_EQ(report.size(), 1u);
  ASSERT_EQ(report[0]["devices"].size(), openClDeviceCount());
  auto factors = factorsOf(report);
  ASSERT_EQ(factors.size(), 6u);
  for (const auto& [factor, entry] : factors) {
    EXPECT_EQ(entry["status"], "ok") << entry.dump();
    EXPECT_GT(entry["median_kernel_s"].get<double>(), 0);
    EXPECT_GT(entry["speedup"].get<double>(), 0);
    // keep_local_size: the global size shrinks by the factor, the local size stays.
    EXPECT_EQ(entry["global"][0].get<int>(), 4096 / factor) << entry.dump();
    EXPECT_EQ(entry["local"][0].get<int>(), 64);
    EXPECT_EQ(entry["kernel"], factor == 1 ? "vector_add" : "vector_add_cf" + std::to_string(factor));
  }
  EXPECT_DOUBLE_EQ(factors[1]["speedup"].get<double>(), 1.0);
  const auto& device = report[0]["devices"][0];
  ASSERT_TRUE(device["predicted_factor"].is_number()) << device.dump();  // the shipped heads predicted
  EXPECT_TRUE(device["best_factor"].is_number());
  EXPECT_EQ(device["predicted_best"].get<bool>(), device["predicted_factor"] == device["best_factor"]);

  auto measurements = exportTable(folder.db(), "measurements");
  ASSERT_EQ(measurements.size(), 6 * openClDeviceCount());
  std::set<int> recorded;
  for (const auto& row : measurements) {
    EXPECT_EQ(row["task"], "coarsen");
    EXPECT_EQ(row["status"], "ok");
    EXPECT_EQ(row["configuration"]["dimension"], 0);
    EXPECT_EQ(row["configuration"]["mode"], "consecutive");
    recorded.insert(row["configuration"]["factor"].get<int>());
  }
  EXPECT_EQ(recorded, (std::set<int>{1, 2, 4, 8, 16, 32}));
  auto predictions = exportTable(folder.db(), "predictions");
  ASSERT_EQ(predictions.size(), 1u);
  EXPECT_EQ(predictions[0]["task"], "coarsen");
  EXPECT_EQ(predictions[0]["configuration"]["factor"], device["predicted_factor"]);
  EXPECT_EQ(predictions[0]["configuration"]["measured_best"], device["best_factor"]);

  // Text: a table per device and the verdict.
  result = mirtune({"--db", folder.db(), "coarsen", (kKernels / "vector_add.cl").string(), "--run",
                    "--global", "4096", "--local", "64", "--min-time", "0", "--budget", "1", "--no-cache"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  EXPECT_NE(result.standardOutput.find("best factor"), std::string::npos) << result.standardOutput;
  EXPECT_NE(result.standardOutput.find("not measured (--budget)"), std::string::npos)
      << result.standardOutput;
}

TEST(CoarsenRun, RefusedAndDisallowedFactorsAreReportedNotMeasured) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("refused");
  // A barrier inside the reduction loop: the transform refuses every factor.
  auto result =
      mirtune({"--db", folder.db(), "coarsen", (kKernels / "dot_product.cl").string(), "--run", "--global",
               "1024", "--local", "64", "--arg", "n=1024", "--min-time", "0", "--json", "--no-cache"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  auto factors = factorsOf(nlohmann::json::parse(result.standardOutput));
  EXPECT_EQ(factors[1]["status"], "ok");
  for (int factor : {2, 4, 8, 16, 32}) {
    EXPECT_EQ(factors[factor]["status"], "refused");
    EXPECT_EQ(factors[factor]["refusal"], "barrier_in_control_flow");
    EXPECT_NE(factors[factor]["message"].get<std::string>().find("dot_product.cl:"), std::string::npos);
  }
  EXPECT_EQ(exportTable(folder.db(), "measurements").size(), openClDeviceCount());  // factor 1 only

  // 1024 / 32 = 32 is not a multiple of the local size 64: the NDRange check refuses 32 (and only 32).
  result = mirtune({"--db", folder.db(), "coarsen", (kKernels / "vector_add.cl").string(), "--run",
                    "--global", "1024", "--local", "64", "--min-time", "0", "--json", "--no-cache"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  factors = factorsOf(nlohmann::json::parse(result.standardOutput));
  EXPECT_EQ(factors[16]["status"], "ok");
  EXPECT_EQ(factors[32]["status"], "refused");
  EXPECT_EQ(factors[32]["refusal"], "ndrange");
}

TEST(CoarsenRun, AnOutputThatDiffersFromTheOriginalIsWrongOutput) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("wrong");
  // A runner that gives coarsened kernels other inputs (another seed for a): their outputs must differ.
  const fs::path script = folder.path() / "fake-runner.sh";
  std::ofstream(script) << "#!/bin/sh\n"
                           "real='" MIRTUNE_RUN_EXECUTABLE
                           "'\n"
                           "if [ \"$1\" = opencl ]; then\n"
                           "  prev=; for a do [ \"$prev\" = --plan ] && plan=$a; prev=$a; done\n"
                           "  if grep -q '\"kernel\": \"vector_add_cf' \"$plan\"; then\n"
                           "    sed -i 's/\"seed\": 1,/\"seed\": 77,/' \"$plan\"\n"
                           "  fi\n"
                           "fi\n"
                           "exec \"$real\" \"$@\"\n";
  fs::permissions(script, fs::perms::owner_all);
  auto result =
      mirtune({"--db", folder.db(), "coarsen", (kKernels / "vector_add.cl").string(), "--run", "--global",
               "1024", "--local", "64", "--min-time", "0", "--budget", "2", "--json", "--no-cache"},
              {{"MIRTUNE_RUNNER", script.string()}});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  auto factors = factorsOf(nlohmann::json::parse(result.standardOutput));
  EXPECT_EQ(factors[1]["status"], "ok");
  std::size_t wrong = 0;
  for (const auto& [factor, entry] : factors) {
    if (factor == 1 || entry["status"] == "skipped" || entry["status"] == "refused") continue;
    EXPECT_EQ(entry["status"], "wrong_output") << entry.dump();
    EXPECT_NE(entry["message"].get<std::string>().find("at factor 1"), std::string::npos) << entry.dump();
    ++wrong;
  }
  EXPECT_EQ(wrong, 2u);  // --budget 2
}

TEST(CoarsenRun, CollectTrainLocalAndPredictWithTheLocalHeads) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("local");
  auto collect = mirtune({"--db", folder.db(), "coarsen", "collect", "--kernels", kSuite.string(), "--sizes",
                          "0,1", "--min-time", "0"});
  ASSERT_EQ(collect.exitCode, 0) << collect.standardError;
  EXPECT_NE(collect.standardOutput.find("saxpy"), std::string::npos) << collect.standardOutput;
  auto measurements = exportTable(folder.db(), "measurements");
  // 2 kernels x 2 sizes x 6 factors (1024 / 32 = 32 < 64: factor 32 fails the NDRange check at N=1024).
  std::size_t ok = 0;
  for (const auto& row : measurements) {
    EXPECT_EQ(row["task"], "coarsen-collect");
    ok += row["status"] == "ok" ? 1 : 0;
  }
  EXPECT_EQ(measurements.size(), 22 * openClDeviceCount()) << collect.standardOutput;
  EXPECT_EQ(ok, measurements.size());

  auto train = mirtune({"--db", folder.db(), "coarsen", "train", "--platform", "local", "--threads", "1"});
  ASSERT_EQ(train.exitCode, 0) << train.standardError;
  EXPECT_EQ(train.standardOutput, (userData() / "mirtune" / "models" / "coarsen" / "coarsen-local").string() + "\n");
  const fs::path heads = userData() / "mirtune" / "models" / "coarsen" / "coarsen-local";
  std::ifstream manifestFile(heads / "manifest.json");
  ASSERT_TRUE(manifestFile.good());
  auto manifest = nlohmann::json::parse(manifestFile);
  EXPECT_EQ(manifest["form"], "factor");
  EXPECT_EQ(manifest["heads"]["all"]["data"]["devices"].size(), openClDeviceCount());
  EXPECT_EQ(manifest["heads"]["all"]["data"]["launches"], 4);

  auto predicted =
      mirtune({"--db", folder.db(), "coarsen", (kSuite / "saxpy.cl").string(), "--run", "--global", "4096",
               "--local", "64", "--min-time", "0", "--platform", "local", "--json"});
  ASSERT_EQ(predicted.exitCode, 0) << predicted.standardError;
  auto report = nlohmann::json::parse(predicted.standardOutput);
  EXPECT_NE(report[0]["prediction"]["model"].get<std::string>().find("coarsen-local/local"),
            std::string::npos);
  EXPECT_TRUE(report[0]["devices"][0]["predicted_factor"].is_number());
}

TEST(CoarsenRun, ExportRunWithTheRunnerAloneAndIngest) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("export");
  const fs::path out = folder.path() / "plans";
  auto exported = mirtune({"--db", folder.db(), "coarsen", "collect", "--kernels", kSuite.string(), "--sizes",
                           "1", "--min-time", "0", "--export", out.string()});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  ASSERT_TRUE(fs::exists(out / "run-all.sh"));
  ASSERT_TRUE(fs::exists(out / "vector_add-N4096" / "f4.plan.json"));
  ASSERT_TRUE(fs::exists(out / "vector_add-N4096" / "vector_add_cf4.cl"));
  // Ingesting before the run is an error naming what to do.
  auto early = mirtune({"--db", folder.db(), "coarsen", "collect", "--ingest", out.string()});
  EXPECT_NE(early.exitCode, 0);
  EXPECT_NE(early.standardError.find("run-all.sh"), std::string::npos) << early.standardError;

  // The runner alone, from another folder, as on a GPU node.
  auto script = run({"sh", (out / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(script.exitCode, 0) << script.standardError;
  EXPECT_TRUE(fs::exists(out / "vector_add-N4096" / "f4.device-0-0" / "result.json"));

  auto ingest = mirtune({"--db", folder.db(), "coarsen", "collect", "--ingest", out.string()});
  ASSERT_EQ(ingest.exitCode, 0) << ingest.standardError;
  const std::size_t all = 2 * 6 * openClDeviceCount();  // N=4096: every factor fits
  EXPECT_NE(ingest.standardOutput.find("# " + out.string() + ": " + std::to_string(all) +
                                       " measurements stored, 0 already stored; all 2 plan folders are in\n"),
            std::string::npos)
      << ingest.standardOutput;
  // Ingested again: nothing is stored twice.
  auto again = mirtune({"--db", folder.db(), "coarsen", "collect", "--ingest", out.string()});
  ASSERT_EQ(again.exitCode, 0) << again.standardError;
  EXPECT_NE(again.standardOutput.find(": 0 measurements stored, " + std::to_string(all) + " already stored"),
            std::string::npos)
      << again.standardOutput;
  auto measurements = exportTable(folder.db(), "measurements");
  ASSERT_EQ(measurements.size(), all);
  for (const auto& row : measurements) {
    EXPECT_EQ(row["task"], "coarsen-collect");
    EXPECT_EQ(row["status"], "ok") << row.dump();
  }
  // The ingested platform is the other machine's: its fingerprint trains a head from those rows.
  auto fingerprint = ingest.standardOutput.substr(ingest.standardOutput.rfind("platform ") + 9);
  fingerprint = fingerprint.substr(0, fingerprint.find(')'));
  auto train = mirtune({"--db", folder.db(), "coarsen", "train", "--platform", "local", "--fingerprint",
                        fingerprint, "--threads", "1", "--out", (folder.path() / "heads").string()});
  EXPECT_EQ(train.exitCode, 0) << train.standardError;
}

}  // namespace
}  // namespace mirtune
