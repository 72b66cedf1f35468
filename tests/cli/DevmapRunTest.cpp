// End-to-end tests of `mirtune devmap --run`, `devmap collect` and `devmap train --platform local` on the
// local OpenCL devices (PoCL here) and, for a CPU-and-GPU machine, through a fake runner that reports two
// devices.
#include "database/Database.h"
#include "support/Subprocess.h"
#include "tasks/devmap/LocalData.h"

#include "common/RunMirtune.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = fs::path(MIRTUNE_TEST_INPUTS) / "devmap";
const fs::path kSuite = kInputs / "suite";

/// A temporary folder named after the test.
struct TestFolder : TemporaryFolder {
  explicit TestFolder(const std::string& name) : TemporaryFolder("mirtune-devmap-run", name) {}
};

/// The user data folder ($XDG_DATA_HOME) of every mirtune this test process runs: trained heads go below it,
/// never into the tester's own.
const fs::path& userData() {
  static const TestFolder folder("user-data");
  return folder.path();
}

/// Runs mirtune with extra environment; training heads stays single-threaded and waits passively, so the
/// tests keep their pace while other work shares the cores.
SubprocessResult mirtune(const std::vector<std::string>& arguments,
                         const std::map<std::string, std::string>& environment = {},
                         double timeoutSeconds = 120) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.environment = environment;
  options.environment.emplace("XDG_DATA_HOME", userData().string());
  options.environment["OMP_WAIT_POLICY"] = "passive";
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

/// Types of the OpenCL devices the real runner lists ("CPU", "GPU", ...); empty without OpenCL.
const std::vector<std::string>& deviceTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> found;
    SubprocessOptions options;
    options.argv = {MIRTUNE_RUN_EXECUTABLE, "probe", "--json"};
    options.timeoutSeconds = 60;
    auto run = runSubprocess(options);
    if (!run || !run->succeeded()) return found;
    auto listing = nlohmann::json::parse(run->standardOutput, nullptr, false);
    if (!listing.is_object()) return found;
    for (const auto& platform : listing.value("platforms", nlohmann::json::array())) {
      for (const auto& device : platform.value("devices", nlohmann::json::array()))
        found.push_back(device.value("type", ""));
    }
    return found;
  }();
  return types;
}

bool hasType(const std::string& type) {
  return std::find(deviceTypes().begin(), deviceTypes().end(), type) != deviceTypes().end();
}

#define SKIP_WITHOUT_OPENCL()                                                        \
  do {                                                                               \
    if (deviceTypes().empty())                                                       \
      GTEST_SKIP() << "no OpenCL device (install pocl-opencl-icd to run this test)"; \
  } while (false)

/// A runner that shows two devices, a CPU (platform 0) and a GPU (platform 1), both the real device 0:0
/// underneath, and reports their times with transfers as: vector_add 4 ms on the CPU and 1 ms on the GPU,
/// everything else 1 ms on the CPU and 4 ms on the GPU.
fs::path writeFakeRunner(const fs::path& folder) {
  const fs::path script = folder / "fake-runner.sh";
  std::ofstream(script)
      << "#!/bin/sh\n"
         "real='" MIRTUNE_RUN_EXECUTABLE
         "'\n"
         "if [ \"$1\" = probe ]; then\n"
         "  echo '{\"platforms\": [{\"name\": \"Fake CPU platform\", \"devices\": [{\"name\": "
         "\"fake-cpu\", \"type\": \"CPU\"}]}, {\"name\": \"Fake GPU platform\", \"devices\": "
         "[{\"name\": \"fake-gpu\", \"type\": \"GPU\"}]}]}'\n"
         "  exit 0\n"
         "fi\n"
         "[ \"$1\" = opencl ] || exec \"$real\" \"$@\"\n"
         "plan=; device=; out=; prev=\n"
         "for a do\n"
         "  case \"$prev\" in --plan) plan=$a;; --device) device=$a;; --out) out=$a;; esac\n"
         "  prev=$a\n"
         "done\n"
         "\"$real\" opencl --plan \"$plan\" --device 0:0 --out \"$out\" || exit $?\n"
         "if grep -q '\"kernel\": \"vector_add\"' \"$plan\"; then gpu=0.001; cpu=0.004; "
         "else gpu=0.004; cpu=0.001; fi\n"
         "if [ \"$device\" = 1:0 ]; then t=$gpu; else t=$cpu; fi\n"
         // The probe's names and types stand: the real device description is renamed away.
         "sed -i -e \"s/\\\"median_total_s\\\": [^,]*/\\\"median_total_s\\\": $t/\" "
         "-e 's/\"device\": {/\"real_device\": {/' \"$out\"\n";
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

/// Measurements (or predictions) of a database as JSON rows.
nlohmann::json exportTable(const std::string& db, const std::string& table) {
  auto run = mirtune({"--db", db, "db", "export", "--table", table, "--format", "json"});
  EXPECT_EQ(run.exitCode, 0) << run.standardError;
  auto rows = nlohmann::json::parse(run.standardOutput, nullptr, false);
  EXPECT_TRUE(rows.is_array()) << run.standardOutput;
  for (auto& row : rows) {
    if (row.contains("configuration") && row["configuration"].is_string()) {
      row["configuration"] = nlohmann::json::parse(row["configuration"].get<std::string>());
    }
  }
  return rows;
}

/// Heads for platform "local" trained once per test process from fake-runner measurements (collect -> train),
/// so the --run tests have a prediction without depending on the shipped heads.
struct LocalHeads {
  TestFolder folder{"heads"};
  fs::path runner;
  fs::path heads;
  SubprocessResult collect, train;
};

const LocalHeads& localHeads() {
  static LocalHeads* made = [] {
    auto* local = new LocalHeads;
    local->runner = writeFakeRunner(local->folder.path());
    std::map<std::string, std::string> env = {{"MIRTUNE_RUNNER", local->runner.string()}};
    local->collect = mirtune(
        {"--db", local->folder.db(), "devmap", "collect", "--kernels", kSuite.string(), "--min-time", "0"},
        env);
    local->train = mirtune(
        {"--db", local->folder.db(), "devmap", "train", "--platform", "local", "--threads", "1"}, env);
    local->heads = userData() / "mirtune" / "models" / "devmap" / "devmap-local";
    return local;
  }();
  return *made;
}

// ---------------------------------------------------------------------------------------------------------

TEST(DevmapRun, RunWithoutGlobalIsAUsageError) {
  TestFolder folder("usage");
  auto run = mirtune({"--db", folder.db(), "devmap", (kSuite / "vector_add.cl").string(), "--run"});
  EXPECT_EQ(run.exitCode, 2) << run.standardError;
  EXPECT_NE(run.standardError.find("--run needs --global"), std::string::npos) << run.standardError;
  EXPECT_TRUE(run.standardOutput.empty()) << run.standardOutput;

  run = mirtune({"--db", folder.db(), "devmap", (kSuite / "vector_add.cl").string(), "--run", "--global",
                 "1000", "--local", "64"});
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.standardError.find("not a multiple"), std::string::npos) << run.standardError;

  run = mirtune({"--db", folder.db(), "devmap", (kSuite / "vector_add.cl").string(), "--run", "--global",
                 "1024", "--arg", "n"});
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.standardError.find("NAME=VALUE"), std::string::npos) << run.standardError;
}

TEST(DevmapRun, VectorAddRunsOkAndIsRecorded) {
  SKIP_WITHOUT_OPENCL();
  const LocalHeads& local = localHeads();
  ASSERT_EQ(local.train.exitCode, 0) << local.train.standardError;
  TestFolder folder("vadd");
  auto run = mirtune({"--db", folder.db(), "devmap", (kSuite / "vector_add.cl").string(), "--run", "--global",
                      "4096", "--local", "64", "--min-time", "0", "--platform", "local", "--heads",
                      local.heads.string(), "--json"});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto result = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(result.size(), 1u);
  const auto& kernel = result[0];
  EXPECT_EQ(kernel["kernel"], "vector_add");
  // a and b uploaded; c, not const, is inout in a default plan: uploaded and read back.
  EXPECT_EQ(kernel["launch"]["transfer"], 4 * 4096 * 4);
  ASSERT_TRUE(kernel["prediction"].is_object()) << kernel.dump(2);
  EXPECT_EQ(kernel["prediction"]["platform"], "local");
  ASSERT_EQ(kernel["devices"].size(), deviceTypes().size());
  for (const auto& device : kernel["devices"]) {
    EXPECT_EQ(device["status"], "ok") << device.dump();
    EXPECT_GT(device["median_kernel_s"].get<double>(), 0);
    EXPECT_GE(device["median_total_s"].get<double>(), device["median_kernel_s"].get<double>());
    EXPECT_GE(device["iqr_total_s"].get<double>(), 0);
    EXPECT_GE(device["repetitions"].get<int>(), 2);
  }
  if (!(hasType("CPU") && hasType("GPU"))) {
    EXPECT_TRUE(kernel["prediction_correct"].is_null());
    EXPECT_TRUE(kernel["measured_best"].is_null());
    EXPECT_NE(kernel["check"].get<std::string>().find("cannot be checked here"), std::string::npos)
        << kernel["check"];
  }

  auto measurements = exportTable(folder.db(), "measurements");
  ASSERT_EQ(measurements.size(), deviceTypes().size());
  for (const auto& row : measurements) {
    EXPECT_EQ(row["task"], "devmap");
    EXPECT_EQ(row["status"], "ok");
    EXPECT_GT(row["median_seconds"].get<double>(), 0);
    EXPECT_EQ(row["configuration"]["kernel"], "vector_add");
    EXPECT_EQ(row["configuration"]["global"], nlohmann::json({4096}));
    EXPECT_EQ(row["configuration"]["local"], nlohmann::json({64}));
    EXPECT_FALSE(row["configuration"]["device"].get<std::string>().empty());
  }
  auto predictions = exportTable(folder.db(), "predictions");
  ASSERT_EQ(predictions.size(), 1u);
  EXPECT_EQ(predictions[0]["task"], "devmap");
  EXPECT_EQ(predictions[0]["configuration"]["platform"], "local");
  EXPECT_TRUE(predictions[0]["configuration"].contains("correct"));
  EXPECT_GE(predictions[0]["score"].get<double>(), 0.5);
  EXPECT_EQ(exportTable(folder.db(), "platforms").size(), 1u);

  // The text form names each device with its times and says whether the prediction can be checked.
  run = mirtune({"--db", folder.db(), "devmap", (kSuite / "vector_add.cl").string(), "--run", "--global",
                 "4096", "--min-time", "0", "--platform", "local", "--heads", local.heads.string()});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  EXPECT_NE(run.standardOutput.find("with transfers"), std::string::npos) << run.standardOutput;
  EXPECT_NE(run.standardOutput.find("prediction  "), std::string::npos) << run.standardOutput;
  EXPECT_NE(run.standardOutput.find("measured    "), std::string::npos) << run.standardOutput;
}

TEST(DevmapRun, EndlessKernelTimesOut) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("spin");
  const auto start = std::chrono::steady_clock::now();
  auto run =
      mirtune({"--db", folder.db(), "devmap", (kInputs / "spin.cl").string(), "--run", "--global", "64",
               "--timeout", "2", "--no-cache", "--heads", (folder.path() / "no-heads").string(), "--json"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(run.exitCode, 1) << run.standardError;  // nothing ran ok
  EXPECT_LT(seconds, 2.0 * static_cast<double>(deviceTypes().size()) + 20.0);
  auto result = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_TRUE(result[0]["prediction"].is_null());
  EXPECT_TRUE(result[0].contains("prediction_error"));
  for (const auto& device : result[0]["devices"]) {
    EXPECT_EQ(device["status"], "run_timeout") << device.dump();
    EXPECT_NE(device["message"].get<std::string>().find("timed out"), std::string::npos);
  }
  auto measurements = exportTable(folder.db(), "measurements");
  ASSERT_EQ(measurements.size(), deviceTypes().size());
  for (const auto& row : measurements) {
    EXPECT_EQ(row["status"], "run_timeout");
    EXPECT_TRUE(row["median_seconds"].is_null());
    EXPECT_NE(row["stderr_excerpt"].get<std::string>().find("timed out"), std::string::npos);
  }
}

TEST(DevmapRun, BuildFailureNamesTheLine) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("broken");
  auto run = mirtune({"--db", folder.db(), "devmap", (kInputs / "broken.cl").string(), "--run", "--global",
                      "64", "--no-cache", "--heads", (folder.path() / "no-heads").string()});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.standardOutput.find("build_failed"), std::string::npos) << run.standardOutput;
  EXPECT_NE(run.standardOutput.find("broken.cl:5:"), std::string::npos) << run.standardOutput;
  auto measurements = exportTable(folder.db(), "measurements");
  ASSERT_EQ(measurements.size(), deviceTypes().size());
  for (const auto& row : measurements) {
    EXPECT_EQ(row["status"], "build_failed");
    EXPECT_NE(row["stderr_excerpt"].get<std::string>().find(":5:"), std::string::npos)
        << row["stderr_excerpt"];
  }
}

TEST(DevmapRun, ImageArgumentsAreRefusedClearly) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("image");
  auto run = mirtune({"--db", folder.db(), "devmap", (kInputs / "image.cl").string(), "--run", "--global",
                      "64", "--no-cache", "--heads", (folder.path() / "no-heads").string()});
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.standardOutput.find("image/sampler argument 'image'"), std::string::npos)
      << run.standardOutput;
}

TEST(DevmapCollect, RecordsEveryKernelAndSize) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("collect");
  auto run = mirtune({"--db", folder.db(), "devmap", "collect", "--kernels", kSuite.string(), "--sizes",
                      "0,1", "--min-time", "0"});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  EXPECT_NE(run.standardOutput.find("vector_add"), std::string::npos) << run.standardOutput;
  EXPECT_NE(run.standardOutput.find("saxpy"), std::string::npos) << run.standardOutput;
  auto measurements = exportTable(folder.db(), "measurements");
  ASSERT_EQ(measurements.size(), 2 * 2 * deviceTypes().size());  // 2 kernels x 2 sizes x devices
  for (const auto& row : measurements) {
    EXPECT_EQ(row["task"], "devmap-collect");
    EXPECT_EQ(row["status"], "ok") << row.dump();
    const auto& config = row["configuration"];
    const std::int64_t n = config["n"].get<std::int64_t>();
    EXPECT_TRUE(n == 1024 || n == 4096) << n;
    EXPECT_EQ(config["transfer"], 12 * n);  // three float buffers' worth each way in total
    EXPECT_EQ(config["local"], nlohmann::json({64}));
    EXPECT_TRUE(config["manifest"] == "vector_add" || config["manifest"] == "saxpy");
  }

  // This machine's devices are not a CPU and a GPU: training a local head says what is missing.
  if (!(hasType("CPU") && hasType("GPU"))) {
    auto train = mirtune({"--db", folder.db(), "devmap", "train", "--platform", "local"});
    EXPECT_EQ(train.exitCode, 1);
    EXPECT_NE(train.standardError.find("needs both a CPU and a GPU OpenCL device; this machine has only"),
              std::string::npos)
        << train.standardError;
  }
}

TEST(DevmapCollect, JsonListsEveryKernelSizeAndDevice) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("collect-json");
  const fs::path runner = writeFakeRunner(folder.path());
  auto collect = mirtune({"--db", folder.db(), "devmap", "collect", "--kernels", kSuite.string(), "--min-time", "0",
                          "--sizes", "0", "--json"},
                         {{"MIRTUNE_RUNNER", runner.string()}});
  ASSERT_EQ(collect.exitCode, 0) << collect.standardError;
  auto json = nlohmann::json::parse(collect.standardOutput);  // stdout is the JSON alone
  ASSERT_EQ(json["devices"].size(), 2u);
  EXPECT_EQ(json["devices"][1]["type"], "GPU");
  ASSERT_EQ(json["rows"].size(), 2u);  // 2 kernels at their first size
  for (const auto& row : json["rows"]) {
    ASSERT_EQ(row["devices"].size(), 2u) << row.dump();
    EXPECT_EQ(row["devices"][0]["status"], "ok") << row.dump();
    EXPECT_GT(row["devices"][0]["median_total_s"].get<double>(), 0.0) << row.dump();
  }
  EXPECT_EQ(json["ok"], 4);
  EXPECT_EQ(json["total"], 4);
  EXPECT_EQ(json["database"], folder.db());
}

TEST(DevmapTrainLocal, WithoutCollectDataSaysWhatToRun) {
  TestFolder folder("nodata");
  auto train = mirtune({"--db", folder.db(), "devmap", "train", "--platform", "local"});
  EXPECT_EQ(train.exitCode, 1);
  EXPECT_NE(train.standardError.find("run `mirtune devmap collect` first"), std::string::npos)
      << train.standardError;

  // A database with other rows but no collect measurements.
  ASSERT_TRUE(Database::open(folder.db()).ok());
  train = mirtune({"--db", folder.db(), "devmap", "train", "--platform", "local"});
  EXPECT_EQ(train.exitCode, 1);
  EXPECT_NE(train.standardError.find("run `mirtune devmap collect` first"), std::string::npos)
      << train.standardError;
}

TEST(DevmapTrainLocal, FakeCpuAndGpuEndToEnd) {
  SKIP_WITHOUT_OPENCL();
  const LocalHeads& local = localHeads();
  ASSERT_EQ(local.collect.exitCode, 0) << local.collect.standardError;
  EXPECT_NE(local.collect.standardOutput.find("1:0 GPU"), std::string::npos) << local.collect.standardOutput;
  ASSERT_EQ(local.train.exitCode, 0) << local.train.standardError;
  EXPECT_EQ(local.train.standardOutput, local.heads.string() + "\n");
  ASSERT_TRUE(fs::exists(local.heads / "manifest.json"));
  ASSERT_TRUE(fs::exists(local.heads / "local"));

  // LocalData: one row per (kernel, N) with both device types, labelled by the faster one.
  auto database = Database::open(local.folder.db(), Database::OpenMode::kExisting);
  ASSERT_TRUE(database.ok()) << database.error().message();
  auto platform = database->getPlatform(1);
  ASSERT_TRUE(platform.ok() && platform->has_value());
  auto data = devmap::loadLocalData(*database, (*platform)->fingerprint);
  ASSERT_TRUE(data.ok()) << data.error().message();
  EXPECT_TRUE(devmap::checkLocalData(*data).ok());
  ASSERT_EQ(data->rows.size(), 6u);  // 2 kernels x 3 sizes
  EXPECT_EQ(data->measurements, 12u);
  for (const devmap::LocalRow& row : data->rows) {
    EXPECT_EQ(row.source.filename(), row.kernel + ".cl");
    EXPECT_DOUBLE_EQ(row.transferBytes, 12.0 * static_cast<double>(row.n));
    EXPECT_DOUBLE_EQ(row.wgsize, 64);
    EXPECT_EQ(row.cpuDevice, "fake-cpu");
    EXPECT_EQ(row.gpuDevice, "fake-gpu");
    EXPECT_EQ(row.oracle(), row.kernel == "vector_add" ? devmap::Device::kGpu : devmap::Device::kCpu)
        << row.kernel;
  }
  auto other = devmap::loadLocalData(*database, "another machine");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->measurements, 0u);
  EXPECT_EQ(devmap::checkLocalData(*other).error().code(), ErrorCode::kNotFound);

  // The trained head answers for the platform "local" from the user's data folder by default.
  auto predict = mirtune({"--db", local.folder.db(), "devmap", (kSuite / "vector_add.cl").string(),
                          (kSuite / "saxpy.cl").string(), "--platform", "local", "--transfer", "49152",
                          "--wgsize", "64", "--json"});
  ASSERT_EQ(predict.exitCode, 0) << predict.standardError;
  auto predictions = nlohmann::json::parse(predict.standardOutput);
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions[0]["kernel"], "vector_add");
  EXPECT_EQ(predictions[0]["device"], "GPU");
  EXPECT_EQ(predictions[1]["kernel"], "saxpy");
  EXPECT_EQ(predictions[1]["device"], "CPU");

  // --run through the fake runner: both device types ran, so the prediction is checked and recorded.
  auto run =
      mirtune({"--db", local.folder.db(), "devmap", (kSuite / "vector_add.cl").string(), "--run", "--global",
               "4096", "--local", "64", "--min-time", "0", "--platform", "local", "--json"},
              {{"MIRTUNE_RUNNER", local.runner.string()}});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto result = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0]["measured_best"], "GPU");
  EXPECT_EQ(result[0]["outputs_agree"], true);
  EXPECT_EQ(result[0]["prediction"]["device"], "GPU");
  EXPECT_EQ(result[0]["prediction_correct"], true);
  auto recorded = exportTable(local.folder.db(), "predictions");
  ASSERT_FALSE(recorded.empty());
  EXPECT_EQ(recorded.back()["configuration"]["correct"], true);
  EXPECT_EQ(recorded.back()["configuration"]["measured_best"], "GPU");
}

TEST(DevmapRun, ShippedHeadsPredictForTheRun) {
  SKIP_WITHOUT_OPENCL();
  const fs::path shipped = fs::path(MIRTUNE_SOURCE_ROOT) / "tasks" / "devmap" / "models" / "devmap-1.0";
  if (!fs::exists(shipped / "manifest.json")) GTEST_SKIP() << "no shipped heads at " << shipped.string();
  TestFolder folder("shipped");
  auto run = mirtune({"--db", folder.db(), "devmap", (kSuite / "saxpy.cl").string(), "--run", "--global",
                      "4096", "--min-time", "0", "--platform", "nvidia", "--json"});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto result = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(result.size(), 1u);
  ASSERT_TRUE(result[0]["prediction"].is_object()) << result[0].dump(2);
  EXPECT_EQ(result[0]["prediction"]["platform"], "nvidia");
  EXPECT_EQ(result[0]["prediction"]["wgsize"], 64);  // the default work-group when --local is not given
}

TEST(DevmapPredictAndRecord, FailedPredictionsAreRecordedToo) {
  TestFolder folder("record-failures");
  const fs::path rows = folder.path() / "rows.csv";
  std::ofstream(rows) << "file,kernel,transfer,wgsize\n"
                      << (kSuite / "vector_add.cl").string() << ",vector_add,4096,64\n"
                      << (kSuite / "saxpy.cl").string() << ",no_such_kernel,4096,64\n";
  auto predicted = mirtune({"--db", folder.db(), "devmap", "predict", "--input", rows.string()});
  EXPECT_EQ(predicted.exitCode, 1) << predicted.standardError;  // one input failed
  EXPECT_NE(predicted.standardOutput.find("no kernel named 'no_such_kernel'"), std::string::npos)
      << predicted.standardOutput;
  auto predictions = exportTable(folder.db(), "predictions");
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions[0]["configuration"]["kernel"], "vector_add");
  EXPECT_TRUE(predictions[0]["configuration"].contains("device"));
  EXPECT_FALSE(predictions[0]["configuration"].contains("error"));
  EXPECT_EQ(predictions[1]["configuration"]["kernel"], "no_such_kernel");
  EXPECT_FALSE(predictions[1]["configuration"].contains("device"));
  EXPECT_NE(predictions[1]["configuration"]["error"].get<std::string>().find("no_such_kernel"), std::string::npos);
  EXPECT_TRUE(predictions[1]["score"].is_null()) << predictions[1].dump();
}

}  // namespace
}  // namespace mirtune
