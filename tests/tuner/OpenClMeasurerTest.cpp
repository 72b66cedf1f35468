// OpenClMeasurer (tuner/OpenClMeasurer.h): a launch measured on every device of this machine and recorded as
// it arrives; a batch exported, measured by run-all.sh with the runner alone, and ingested (all or nothing).
#include "database/Database.h"
#include "support/Subprocess.h"
#include "tuner/KernelManifest.h"
#include "tuner/OpenClMeasurer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(MIRTUNE_TEST_INPUTS) / "devmap" / "suite";

class OpenClMeasurerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("MIRTUNE_RUNNER", MIRTUNE_RUN_EXECUTABLE, 1);
    auto devices = probeOpenClDevices(MIRTUNE_RUN_EXECUTABLE);
    if (!devices || devices->empty()) GTEST_SKIP() << "no OpenCL device (install pocl-opencl-icd to run this test)";
    devices_ = *devices;
    folder_ = fs::temp_directory_path() / ("mirtune-measurer-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override {
    if (!folder_.empty()) fs::remove_all(folder_);
  }

  /// vector_add of the test suite at N = 1024, two repetitions at most.
  MeasureInput vectorAdd() {
    auto manifest = loadKernelManifest(kSuite / "vector_add.json");
    EXPECT_TRUE(manifest.ok()) << manifest.error().message();
    auto request = makeRunRequest(*manifest, 1024);
    EXPECT_TRUE(request.ok()) << request.error().message();
    request->plan.minTimeSeconds = 0;
    request->devices = devices_;
    MeasureInput input;
    input.configuration = {{"kernel", "vector_add"}, {"n", 1024}};
    input.workload = manifest->source;
    input.plan = std::move(*request);
    return input;
  }

  std::size_t measurementRows(const fs::path& db) {
    auto database = Database::open(db, Database::OpenMode::kExisting);
    EXPECT_TRUE(database.ok());
    auto rows = database->listMeasurements();
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows->size() : 0;
  }

  std::vector<OpenClDevice> devices_;
  fs::path folder_;
};

TEST_F(OpenClMeasurerTest, MeasuresOnEveryDeviceAndRecordsEachResult) {
  const fs::path db = folder_ / "here.db";
  OpenClRecorder recorder;
  ASSERT_TRUE(recorder.open(db, "test", nlohmann::json::object(), {}).ok());
  OpenClMeasurer measurer(recorder, {MIRTUNE_RUN_EXECUTABLE, devices_, "test-task", TimeBasis::kKernel, false});
  EXPECT_EQ(measurer.kind(), "opencl");
  auto results = measurer.measure({vectorAdd()});
  ASSERT_TRUE(results.ok()) << results.error().message();
  ASSERT_EQ(results->size(), devices_.size());
  for (const MeasureResult& result : *results) {
    EXPECT_EQ(result.input, 0u);
    EXPECT_EQ(result.status, MeasureStatus::kOk) << result.message;
    ASSERT_TRUE(result.median.has_value());
    EXPECT_GT(*result.median, 0);
    ASSERT_TRUE(std::holds_alternative<DeviceRunResult>(result.detail));
    // The kernel-time basis: the median is the kernel's, not the one with transfers.
    EXPECT_DOUBLE_EQ(*result.median, std::get<DeviceRunResult>(result.detail).medianKernelSeconds);
  }
  // A process plan is not an OpenCL launch: a failure on every device, measured nowhere.
  MeasureInput process;
  process.plan = CandidateCommands{};
  process.workload = kSuite / "vector_add.cl";
  auto refused = measurer.measure({process});
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->size(), devices_.size());
  EXPECT_EQ(refused->front().status, MeasureStatus::kRunFailed);
  EXPECT_TRUE(recorder.end());
  EXPECT_EQ(measurementRows(db), 2 * devices_.size());
}

TEST_F(OpenClMeasurerTest, ExportRunAllAndIngest) {
  const fs::path exported = folder_ / "batch";
  const fs::path db = folder_ / "ingested.db";
  const std::vector<MeasureInput> batch = {vectorAdd()};
  {
    OpenClRecorder recorder;
    ASSERT_TRUE(recorder.open(folder_ / "export.db", "export", nlohmann::json::object(), {}).ok());
    OpenClMeasurer measurer(recorder, {MIRTUNE_RUN_EXECUTABLE, devices_, "test-task", TimeBasis::kWithTransfers, false});
    ASSERT_TRUE(measurer.exportBatch(batch, exported).ok());
    EXPECT_TRUE(recorder.end());
  }
  ASSERT_TRUE(fs::exists(exported / "run-all.sh"));
  ASSERT_TRUE(fs::exists(exported / "0" / "plan.json"));
  ASSERT_TRUE(fs::exists(exported / "0" / "vector_add.cl"));

  // Not run yet: nothing to ingest.
  auto platform = exportedOpenClPlatform(exported);
  EXPECT_FALSE(platform.ok());

  SubprocessOptions script;
  script.argv = {"sh", (exported / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE};
  script.timeoutSeconds = 300;
  auto ran = runSubprocess(script);
  ASSERT_TRUE(ran.ok());
  ASSERT_EQ(ran->exitCode, 0) << ran->standardError;

  platform = exportedOpenClPlatform(exported);
  ASSERT_TRUE(platform.ok()) << platform.error().message();
  {
    // A damaged result rejects the whole folder, and nothing is stored.
    const fs::path result = exported / "0" / "device-0-0" / "result.json";
    const std::string good = [&] {
      std::ifstream in(result);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    std::ofstream(result) << "{\"status\": \"ok\"}";
    OpenClRecorder recorder;
    ASSERT_TRUE(recorder.openFor(*platform, db, "ingest", nlohmann::json::object(), {}).ok());
    OpenClMeasurer measurer(recorder, {MIRTUNE_RUN_EXECUTABLE, {}, "test-task", TimeBasis::kWithTransfers, false});
    auto rejected = measurer.ingest(batch, exported);
    ASSERT_FALSE(rejected.ok());
    EXPECT_EQ(rejected.error().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(rejected.error().message().find("result.json"), std::string::npos) << rejected.error().message();
    EXPECT_TRUE(recorder.end());
    EXPECT_EQ(measurementRows(db), 0u);
    std::ofstream(result) << good;
  }
  OpenClRecorder recorder;
  ASSERT_TRUE(recorder.openFor(*platform, db, "ingest", nlohmann::json::object(), {}).ok());
  OpenClMeasurer measurer(recorder, {MIRTUNE_RUN_EXECUTABLE, {}, "test-task", TimeBasis::kWithTransfers, false});
  auto results = measurer.ingest(batch, exported);
  ASSERT_TRUE(results.ok()) << results.error().message();
  ASSERT_EQ(results->size(), devices_.size());
  for (const MeasureResult& result : *results) EXPECT_EQ(result.status, MeasureStatus::kOk) << result.message;
  EXPECT_TRUE(recorder.end());
  EXPECT_EQ(measurementRows(db), devices_.size());
  auto database = Database::open(db, Database::OpenMode::kExisting);
  ASSERT_TRUE(database.ok());
  auto stored = database->getPlatform(recorder.platformId());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->fingerprint, platform->fingerprint);
}

TEST(OpenClLaunchHelpers, ParseTheCommandLineForms) {
  auto sizes = parseSizeIndices("0,2");
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, (std::vector<std::size_t>{0, 2}));
  EXPECT_TRUE(parseSizeIndices("all")->empty());
  EXPECT_EQ(parseSizeIndices("1,,2").error().code(), ErrorCode::kUsage);
  auto scalars = parseScalarArguments({"n=4", "alpha=0.5"});
  ASSERT_TRUE(scalars.ok());
  EXPECT_EQ(scalars->at("alpha"), "0.5");
  EXPECT_EQ(parseScalarArguments({"=4"}).error().code(), ErrorCode::kUsage);
  EXPECT_EQ(runnerBuildOptions({"N=4", "FAST"}, {"inc"}), "-DN=4 -DFAST -Iinc");
  EXPECT_EQ(nameTheSource("/tmp/kcache/tempfile_Ab12.cl:3:1: error", "k.cl"), "k.cl:3:1: error");
}

}  // namespace
}  // namespace mirtune
