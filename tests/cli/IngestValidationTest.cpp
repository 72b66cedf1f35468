// End-to-end tests of --ingest on damaged or edited exports: `omp collect`, `coarsen collect` (OpenCL) and
// `coarsen FILE.cu` folders are measured once by their run-all.sh, then copies are damaged one way each.
// Every damage is refused with a non-zero exit naming the file and the field or record, and nothing reaches
// the database; run-all.sh records the machine's memory without saturating.
#include "common/RunMirtune.h"
#include "common/FakeNvcc.h"
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

SubprocessResult run(const std::vector<std::string>& argv, double timeoutSeconds = 240) {
  return runProgram(argv, timeoutSeconds, {{"OMP_WAIT_POLICY", "passive"}});
}

SubprocessResult mirtune(const std::string& db, std::vector<std::string> arguments) {
  return runMirtuneOn(db, std::move(arguments), {{"OMP_WAIT_POLICY", "passive"}});
}

/// Measurements in a database (0 when it was never created).
std::size_t measurements(const std::string& db) {
  if (!fs::exists(db)) return 0;
  auto database = Database::open(db, Database::OpenMode::kExisting);
  EXPECT_TRUE(database.ok());
  auto all = database.ok() ? database->listMeasurements() : Expected<std::vector<MeasurementRecord>>({});
  return all.ok() ? all->size() : 0;
}

/// Whether a database holds a session (ids start at 1).
bool anySession(const std::string& db) {
  if (!fs::exists(db)) return false;
  auto database = Database::open(db, Database::OpenMode::kExisting);
  EXPECT_TRUE(database.ok());
  auto first = database.ok() ? database->getSession(1) : Expected<std::optional<SessionRecord>>(std::nullopt);
  return first.ok() && first->has_value();
}

nlohmann::json readJson(const fs::path& file) {
  auto text = readFile(file);
  EXPECT_TRUE(text.ok()) << file;
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
}

void writeJson(const fs::path& file, const nlohmann::json& json) {
  ASSERT_TRUE(writeFileAtomically(file, json.dump(2) + "\n").ok());
}

/// Rewrites the first run line of a results-1.jsonl.
void editFirstRun(const fs::path& results, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(results);
  std::string text;
  bool edited = false;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json json = nlohmann::json::parse(line);
    if (!edited && json["kind"] == "run") {
      edit(json);
      edited = true;
    }
    text += json.dump() + "\n";
  }
  ASSERT_TRUE(edited);
  ASSERT_TRUE(writeFileAtomically(results, text).ok());
}

/// MemTotal of this machine in bytes.
std::int64_t memoryBytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemTotal:", 0) == 0) return std::stoll(line.substr(9)) * 1024;
  }
  return 0;
}

/// One measured export and copies of it to damage, each ingested into its own database.
class MeasuredExport {
 public:
  explicit MeasuredExport(const std::string& name) : folder_("mirtune-ingest-cli", name) {}

  const fs::path& root() const { return folder_.path(); }
  fs::path pristine() const { return folder_.path() / "export"; }

  /// A fresh copy of the measured export; `db` receives the database path of the case.
  fs::path copy(const std::string& name, std::string& db) const {
    const fs::path target = folder_.path() / name;
    fs::copy(pristine(), target, fs::copy_options::recursive);
    db = (folder_.path() / (name + ".db")).string();
    return target;
  }

 private:
  TemporaryFolder folder_;
};

void expectRefused(const SubprocessResult& ingest, const std::string& db,
                   const std::vector<std::string>& mentions) {
  EXPECT_NE(ingest.exitCode, 0) << ingest.standardOutput;
  EXPECT_EQ(ingest.termSignal, 0) << ingest.standardError;
  for (const std::string& text : mentions)
    EXPECT_NE(ingest.standardError.find(text), std::string::npos) << ingest.standardError;
  EXPECT_EQ(measurements(db), 0u);
  EXPECT_FALSE(anySession(db));
}

// --- omp collect --ingest ---

class OmpIngest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    measured_ = new MeasuredExport("omp");
    const std::string db = (measured_->root() / "export.db").string();
    auto exported = mirtune(db, {"omp", "collect", "--only", "dot", "--sizes", "test", "--space", "small",
                                 "--min-time", "0", "--min-repetitions", "1", "--max-repetitions", "1",
                                 "--cores", "1", "--export", measured_->pristine().string()});
    ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
    auto ran = run({"sh", (measured_->pristine() / "run-all.sh").string(),
                    (fs::path(MIRTUNE_EXECUTABLE).parent_path() / "mirtune-run").string()});
    ASSERT_EQ(ran.exitCode, 0) << ran.standardError;
  }
  static void TearDownTestSuite() {
    delete measured_;
    measured_ = nullptr;
  }

  static SubprocessResult ingest(const fs::path& folder, const std::string& db) {
    return mirtune(db, {"omp", "collect", "--ingest", folder.string(), "-o", db + ".csv"});
  }

  static MeasuredExport* measured_;
};

MeasuredExport* OmpIngest::measured_ = nullptr;

TEST_F(OmpIngest, AnUntouchedExportIsStored) {
  std::string db;
  const fs::path folder = measured_->copy("untouched", db);
  auto ingested = ingest(folder, db);
  ASSERT_EQ(ingested.exitCode, 0) << ingested.standardError;
  EXPECT_EQ(measurements(db), 12u);
}

TEST_F(OmpIngest, RunAllRecordsTheWholeMemory) {
  auto platform = readJson(measured_->pristine() / "platform.json");
  ASSERT_TRUE(platform["memory_bytes"].is_number_integer()) << platform.dump();
  EXPECT_EQ(platform["memory_bytes"].get<std::int64_t>(), memoryBytes());
}

TEST_F(OmpIngest, AFolderOutsideTheExportIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("escape", db);
  fs::copy(folder / "dot-test", measured_->root() / "elsewhere", fs::copy_options::recursive);
  auto index = readJson(folder / "collection.json");
  index["items"][0]["folder"] = "../elsewhere";
  writeJson(folder / "collection.json", index);
  expectRefused(ingest(folder, db), db, {"collection.json", "items[0].folder", "../elsewhere"});
}

TEST_F(OmpIngest, ConfigurationsOutsideTheSpaceAreRefused) {
  const std::vector<std::pair<std::string, nlohmann::json>> edits = {
      {"threads", nlohmann::json(1000000000000)},
      {"schedule", nlohmann::json("static'; DROP TABLE measurements; --")}};
  for (const auto& [key, value] : edits) {
    std::string db;
    const fs::path folder = measured_->copy("space-" + key, db);
    auto candidates = readJson(folder / "dot-test" / "candidates-1.json");
    candidates[1][key] = value;
    writeJson(folder / "dot-test" / "candidates-1.json", candidates);
    expectRefused(ingest(folder, db), db, {"candidates-1.json", "configuration 1", "nothing was stored"});
  }
}

TEST_F(OmpIngest, ImpossibleMediansAreRefused) {
  for (double median : {-5.0, 0.0, 1e308}) {
    std::string db;
    const fs::path folder = measured_->copy(fmt::format("median-{}", median), db);
    editFirstRun(folder / "dot-test" / "results-1.jsonl",
                 [&](nlohmann::json& json) { json["median"] = median; });
    expectRefused(ingest(folder, db), db, {"results-1.jsonl:", "'median'"});
  }
}

TEST_F(OmpIngest, ASizeOtherThanTheOneMeasuredIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("size", db);
  auto index = readJson(folder / "collection.json");
  index["items"][0]["size"] = "small";  // the folder measured "test": 10007 3
  writeJson(folder / "collection.json", index);
  expectRefused(ingest(folder, db), db, {"plan-1.json", "10007 3", "1000000 140"});
}

TEST_F(OmpIngest, ACoreCountThatOverflowsIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("cores", db);
  auto index = readJson(folder / "collection.json");
  index["cores"] = 4294967297;  // wraps to 1 as an int
  writeJson(folder / "collection.json", index);
  expectRefused(ingest(folder, db), db, {"collection.json", "'cores'"});
}

// --- coarsen collect --ingest (OpenCL) ---

std::size_t deviceCount() {
  static const std::size_t count = [] {
    auto probe = run({MIRTUNE_RUN_EXECUTABLE, "probe", "--json"}, 60);
    if (!probe.succeeded()) return std::size_t{0};
    auto listing = nlohmann::json::parse(probe.standardOutput, nullptr, false);
    std::size_t devices = 0;
    if (!listing.is_object()) return devices;
    for (const auto& platform : listing.value("platforms", nlohmann::json::array()))
      devices += platform.value("devices", nlohmann::json::array()).size();
    return devices;
  }();
  return count;
}

class CoarsenIngest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (deviceCount() == 0) return;
    measured_ = new MeasuredExport("coarsen");
    const std::string db = (measured_->root() / "export.db").string();
    auto exported =
        mirtune(db, {"coarsen", "collect", "--kernels", (kInputs / "devmap" / "suite").string(), "--sizes",
                     "1", "--min-time", "0", "--export", measured_->pristine().string()});
    ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
    auto ran = run({"sh", (measured_->pristine() / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
    ASSERT_EQ(ran.exitCode, 0) << ran.standardError;
  }
  static void TearDownTestSuite() {
    delete measured_;
    measured_ = nullptr;
  }
  void SetUp() override {
    if (deviceCount() == 0) GTEST_SKIP() << "no OpenCL device (install pocl-opencl-icd to run this test)";
  }

  static SubprocessResult ingest(const fs::path& folder, const std::string& db) {
    return mirtune(db, {"coarsen", "collect", "--ingest", folder.string()});
  }
  static fs::path item(const fs::path& folder) { return folder / "vector_add-N4096"; }

  static MeasuredExport* measured_;
};

MeasuredExport* CoarsenIngest::measured_ = nullptr;

TEST_F(CoarsenIngest, AnUntouchedExportIsStoredAndRecordsTheWholeMemory) {
  std::string db;
  const fs::path folder = measured_->copy("untouched", db);
  auto ingested = ingest(folder, db);
  ASSERT_EQ(ingested.exitCode, 0) << ingested.standardError;
  EXPECT_GT(measurements(db), 0u);
  EXPECT_EQ(readJson(folder / "platform.json")["memory_bytes"].get<std::int64_t>(), memoryBytes());
}

TEST_F(CoarsenIngest, AnOutputFileOutsideTheRunFolderIsRefused) {
  for (const std::string& path : {std::string("/etc/passwd"), std::string("../../../elsewhere.npy")}) {
    std::string db;
    const fs::path folder = measured_->copy(path[0] == '/' ? "absolute" : "climbing", db);
    const fs::path result = item(folder) / "f1.device-0-0" / "result.json";
    auto json = readJson(result);
    json["outputs"][0]["file"] = path;
    writeJson(result, json);
    expectRefused(ingest(folder, db), db, {result.string(), "outputs[0].file", path});
  }
}

TEST_F(CoarsenIngest, AMedianThatIsNotTheTimesMedianIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("median", db);
  const fs::path result = item(folder) / "f2.device-0-0" / "result.json";
  auto json = readJson(result);
  json["median_kernel_s"] = -5;
  writeJson(result, json);
  expectRefused(ingest(folder, db), db, {result.string(), "'median_kernel_s'"});
}

TEST_F(CoarsenIngest, AResultOfAnotherLaunchSizeIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("launch", db);
  const fs::path result = item(folder) / "f1.device-0-0" / "result.json";
  auto json = readJson(result);
  json["global_size"] = {8192};
  writeJson(result, json);
  expectRefused(ingest(folder, db), db, {result.string(), "'global_size'"});
}

TEST_F(CoarsenIngest, APlanOfAnotherSizeIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("plan", db);
  const fs::path plan = item(folder) / "f1.plan.json";
  auto json = readJson(plan);
  for (auto& arg : json["args"]) {
    if (arg.contains("elements")) arg["elements"] = 8192;
  }
  json["global_size"] = {8192};
  writeJson(plan, json);
  expectRefused(ingest(folder, db), db, {plan.string(), "arguments"});
}

TEST_F(CoarsenIngest, AFolderOrPlanOutsideTheExportIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("escape", db);
  auto index = readJson(folder / "collection.json");
  index["items"][0]["folder"] = "../elsewhere";
  writeJson(folder / "collection.json", index);
  expectRefused(ingest(folder, db), db, {"collection.json", "items[0].folder"});

  const fs::path other = measured_->copy("plan-escape", db);
  index = readJson(other / "collection.json");
  index["items"][0]["factors"][0]["plan"] = "/etc/passwd";
  writeJson(other / "collection.json", index);
  expectRefused(ingest(other, db), db, {"collection.json", "items[0].factors[0].plan"});
}

TEST_F(CoarsenIngest, ADeviceTheProbeDoesNotListIsRefused) {
  std::string db;
  const fs::path folder = measured_->copy("device", db);
  ASSERT_TRUE(writeFileAtomically(folder / "devices.txt", "-1:0\n").ok());
  expectRefused(ingest(folder, db), db, {"devices.txt", "-1:0"});
}

// --- coarsen FILE.cu --ingest ---

TEST(CoarsenCudaIngest, DamagedResultsOrAFolderOutsideAreRefused) {
  MeasuredExport measured("cuda");
  const fs::path nvcc = writeFakeNvcc(measured.root(), 0);
  const std::string exportDb = (measured.root() / "export.db").string();
  auto exported =
      mirtune(exportDb,
              {"coarsen", (fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "cuda" / "saxpy.cu").string(), "--run",
               "--nvcc", nvcc.string(), "--min-time", "0", "--export", measured.pristine().string()});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  auto ran = run({"sh", (measured.pristine() / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(ran.exitCode, 0) << ran.standardError;

  std::string db;
  const fs::path escape = measured.copy("escape", db);
  fs::copy(escape / "saxpy-saxpy", measured.root() / "elsewhere", fs::copy_options::recursive);
  auto index = readJson(escape / "coarsen-cuda.json");
  index["items"][0]["folder"] = "../elsewhere";
  writeJson(escape / "coarsen-cuda.json", index);
  expectRefused(mirtune(db, {"coarsen", "--ingest", escape.string()}), db,
                {"coarsen-cuda.json", "items[0].folder", "../elsewhere"});

  const fs::path median = measured.copy("median", db);
  editFirstRun(median / "saxpy-saxpy" / "results-1.jsonl",
               [](nlohmann::json& json) { json["median"] = 1e308; });
  expectRefused(mirtune(db, {"coarsen", "--ingest", median.string()}), db, {"results-1.jsonl:", "'median'"});
}

}  // namespace
}  // namespace mirtune
