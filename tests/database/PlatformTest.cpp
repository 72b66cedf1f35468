// Tests of the platform probe and of `mirtune-run probe`, and of storing a probed platform.
#include "database/Database.h"
#include "support/Platform.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

PlatformProbeOptions probeOptions() {
  PlatformProbeOptions options;
  options.runnerPath = MIRTUNE_RUNNER_EXECUTABLE;
  return options;
}

Expected<SubprocessResult> runRunner(std::vector<std::string> arguments,
                                     std::map<std::string, std::string> environment = {}) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_RUNNER_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.environment = std::move(environment);
  options.timeoutSeconds = 60;
  return runSubprocess(options);
}

TEST(PlatformTest, ProbeReturnsSaneValues) {
  PlatformInfo info = probePlatform(probeOptions());
  EXPECT_GE(info.logicalCores, 1);
  EXPECT_GT(info.memoryBytes, 0u);
  EXPECT_FALSE(info.cpuModel.empty());
  EXPECT_FALSE(info.architecture.empty());
  EXPECT_NE(info.kernel.find(' '), std::string::npos) << info.kernel;  // "Linux 6.1..."
  EXPECT_EQ(info.fingerprint.size(), 64u);
  EXPECT_EQ(info.fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(info.compilers.is_object());
  for (const auto& [name, version] : info.compilers.items()) {
    EXPECT_TRUE(version.is_string()) << name;
    EXPECT_FALSE(version.get<std::string>().empty()) << name;
  }
  if (info.compilers.contains("nvcc")) {
    EXPECT_NE(info.compilers["nvcc"].get<std::string>().find("release"), std::string::npos);
  }
  EXPECT_TRUE(info.gpus.is_array());
  EXPECT_EQ(info.opencl["status"], "ok") << info.opencl.dump();
  nlohmann::json json = info.toJson();
  EXPECT_EQ(json["fingerprint"], info.fingerprint);
  EXPECT_EQ(json["logical_cores"], info.logicalCores);
}

TEST(PlatformTest, FingerprintIsStableAndCoversIdentifyingFieldsOnly) {
  PlatformInfo first = probePlatform(probeOptions());
  PlatformInfo second = probePlatform(probeOptions());
  EXPECT_EQ(first.fingerprint, second.fingerprint);
  EXPECT_EQ(platformFingerprint(first), first.fingerprint);

  PlatformInfo noted = first;
  noted.notes.push_back("something odd");
  noted.opencl["runner"] = "/elsewhere/mirtune-run";
  EXPECT_EQ(platformFingerprint(noted), first.fingerprint);
  PlatformInfo otherCpu = first;
  otherCpu.cpuModel += " v2";
  EXPECT_NE(platformFingerprint(otherCpu), first.fingerprint);
  PlatformInfo otherCompiler = first;
  otherCompiler.compilers["g++"] = "g++ 99.0";
  EXPECT_NE(platformFingerprint(otherCompiler), first.fingerprint);
}

TEST(PlatformTest, AMissingRunnerIsRecordedNotAnError) {
  PlatformProbeOptions options;
  options.runnerPath = "/nonexistent/mirtune-run";
  PlatformInfo info = probePlatform(options);
  EXPECT_EQ(info.opencl["status"], "runner_not_found");
  EXPECT_NE(info.opencl["detail"].get<std::string>().find("/nonexistent/mirtune-run"), std::string::npos);
  EXPECT_TRUE(info.opencl["platforms"].empty());
  EXPECT_GE(info.logicalCores, 1);
  EXPECT_EQ(info.fingerprint.size(), 64u);
}

TEST(PlatformTest, RunnerProbeEmitsValidJson) {
  auto result = runRunner({"probe", "--json"});
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_TRUE(result->succeeded()) << result->describe() << ": " << result->standardError;
  nlohmann::json listing = nlohmann::json::parse(result->standardOutput, nullptr, false);
  ASSERT_FALSE(listing.is_discarded()) << result->standardOutput;
  ASSERT_TRUE(listing["platforms"].is_array());
  if (listing["platforms"].empty()) GTEST_SKIP() << "the OpenCL ICD loader reports no platform";

  const std::set<std::string> kTypes = {"CPU", "GPU", "ACCEL", "CUSTOM", "OTHER"};
  bool sawPocl = false;
  bool sawCpu = false;
  for (const auto& platform : listing["platforms"]) {
    EXPECT_FALSE(platform["name"].get<std::string>().empty());
    EXPECT_FALSE(platform["version"].get<std::string>().empty());
    if (platform["name"] == "Portable Computing Language") sawPocl = true;
    for (const auto& device : platform["devices"]) {
      EXPECT_FALSE(device.contains("error")) << device.dump();
      EXPECT_FALSE(device["name"].get<std::string>().empty());
      EXPECT_TRUE(kTypes.count(device["type"].get<std::string>())) << device.dump();
      EXPECT_FALSE(device["driver_version"].get<std::string>().empty());
      EXPECT_NE(device["opencl_c_version"].get<std::string>().find("OpenCL C"), std::string::npos);
      EXPECT_GE(device["compute_units"].get<std::uint64_t>(), 1u);
      EXPECT_GT(device["global_memory_bytes"].get<std::uint64_t>(), 0u);
      EXPECT_GE(device["max_work_group_size"].get<std::uint64_t>(), 1u);
      if (device["type"] == "CPU") sawCpu = true;
    }
  }
  if (sawPocl) {
    EXPECT_TRUE(sawCpu) << "PoCL is installed but no CPU device was listed";
  }

  // The probe embeds the same listing.
  PlatformInfo info = probePlatform(probeOptions());
  EXPECT_EQ(info.opencl["platforms"].size(), listing["platforms"].size());
}

TEST(PlatformTest, RunnerWithoutAnyPlatformPrintsAnEmptyList) {
  std::random_device random;
  fs::path empty = fs::temp_directory_path() / fmt::format("mirtune-no-icd-{}-{:08x}", getpid(), random());
  fs::create_directories(empty);
  auto result = runRunner({"probe", "--json"}, {{"OCL_ICD_VENDORS", empty.string()}});
  fs::remove_all(empty);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->exitCode, 0) << result->standardError;
  nlohmann::json listing = nlohmann::json::parse(result->standardOutput, nullptr, false);
  ASSERT_FALSE(listing.is_discarded()) << result->standardOutput;
  EXPECT_EQ(listing["platforms"], nlohmann::json::array());
}

TEST(PlatformTest, RunnerRejectsUnknownCommandsAndOptions) {
  auto command = runRunner({"fly"});
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->exitCode, 2);
  auto option = runRunner({"probe", "--yaml"});
  ASSERT_TRUE(option.ok());
  EXPECT_EQ(option->exitCode, 2);
  EXPECT_NE(option->standardError.find("--yaml"), std::string::npos);
}

TEST(PlatformTest, ProbedPlatformIsStoredOnce) {
  std::random_device random;
  fs::path folder =
      fs::temp_directory_path() / fmt::format("mirtune-platform-test-{}-{:08x}", getpid(), random());
  {
    auto database = Database::open(folder / "mirtune.db");
    ASSERT_TRUE(database.ok()) << database.error().message();
    PlatformInfo info = probePlatform(probeOptions());
    PlatformRecord record = platformRecordFromProbe(info);
    auto id = database->upsertPlatform(record);
    ASSERT_TRUE(id.ok()) << id.error().message();
    EXPECT_EQ(database->upsertPlatform(platformRecordFromProbe(probePlatform(probeOptions()))).value(), *id);
    auto stored = database->getPlatform(*id).value();
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->fingerprint, info.fingerprint);
    EXPECT_EQ(stored->cores, info.logicalCores);
    EXPECT_EQ(stored->memoryBytes, static_cast<std::int64_t>(info.memoryBytes));
    EXPECT_EQ(stored->openclDevices, info.opencl);
    EXPECT_EQ(stored->compilers, info.compilers);
    EXPECT_EQ(stored->gpu.is_null(), info.gpus.empty());
  }
  fs::remove_all(folder);
}

}  // namespace
}  // namespace mirtune
