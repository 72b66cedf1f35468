// End-to-end tests of --ingest on process-plan exports (`omp collect --export`, `unroll collect --export`,
// `coarsen FILE.cu --run --export`) measured plan folder by plan folder, as campaign nodes do: each folder's own machine record,
// each measurement stored once however often and however early the folder is ingested, damaged results
// refused.
#include "common/RunMirtune.h"
#include "common/FakeNvcc.h"
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Subprocess.h"
#include "tuner/ProcessMeasurer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

SubprocessResult run(const std::vector<std::string>& argv, double timeoutSeconds = 240) {
  return runProgram(argv, timeoutSeconds, {{"OMP_WAIT_POLICY", "passive"}});
}

SubprocessResult mirtune(const std::string& db, std::vector<std::string> arguments) {
  return runMirtuneOn(db, std::move(arguments), {{"OMP_WAIT_POLICY", "passive"}});
}

/// What run-all.sh runs for one plan folder.
void measurePlanFolder(const fs::path& item) {
  fs::create_directories(item / "bin");
  auto ran = run({MIRTUNE_RUN_EXECUTABLE, "process", "--plan", (item / "plan-1.json").string(), "--results",
                  (item / "results-1.jsonl").string(), "--resume"});
  ASSERT_EQ(ran.exitCode, 0) << ran.standardError;
}

/// The machine record a campaign node writes into a plan folder it measured.
void writeNodeRecord(const fs::path& item, const std::string& cpuModel, int cores, bool gpus = false) {
  nlohmann::json record = {{"cpu_model", cpuModel},
                           {"cores", cores},
                           {"memory_bytes", 8589934592LL},
                           {"os", "Test Linux; Linux 6.1 x86_64"}};
  if (gpus) record["gpus"] = {{{"name", "Test GPU"}, {"driver_version", "550.1"}, {"memory", "16 GiB"}}};
  ASSERT_TRUE(writeFileAtomically(item / "platform.json", record.dump() + "\n").ok());
}

std::size_t lineCount(const fs::path& file) {
  std::ifstream in(file);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

/// Keeps the first `keep` lines of a file: a node killed while it measured.
void truncateLines(const fs::path& file, std::size_t keep) {
  std::ifstream in(file);
  std::string kept;
  std::string line;
  for (std::size_t i = 0; i < keep && std::getline(in, line); ++i) kept += line + "\n";
  in.close();
  ASSERT_TRUE(writeFileAtomically(file, kept).ok());
}

/// The database's measurements, sessions and platforms as the tests check them.
struct Stored {
  std::vector<MeasurementRecord> measurements;
  std::map<std::int64_t, PlatformRecord> platforms;  // by id, those the measurements name
  std::int64_t sessions = 0;
};

Stored stored(const std::string& db) {
  Stored result;
  if (!fs::exists(db)) return result;  // nothing was ever stored
  auto database = Database::open(db, Database::OpenMode::kExisting);
  EXPECT_TRUE(database.ok()) << (database.ok() ? "" : database.error().message());
  if (!database.ok()) return result;
  auto all = database->listMeasurements();
  EXPECT_TRUE(all.ok());
  if (all.ok()) result.measurements = *all;
  for (const auto& record : result.measurements) {
    if (result.platforms.count(record.platformId)) continue;
    auto platform = database->getPlatform(record.platformId);
    EXPECT_TRUE(platform.ok() && *platform);
    if (platform.ok() && *platform) result.platforms[record.platformId] = **platform;
  }
  auto counts = database->tableCounts();
  EXPECT_TRUE(counts.ok());
  if (counts.ok()) {
    for (const auto& count : *counts) {
      if (count.table == "sessions") result.sessions = count.rows;
    }
  }
  return result;
}

/// The plan folder an ingest key names ("<export>/<plan folder>/<configuration>").
std::string planFolderOf(const std::string& key) {
  const auto first = key.find('/');
  const auto second = key.find('/', first + 1);
  return key.substr(first + 1, second - first - 1);
}

/// Every measurement carries an ingest key, no key twice; per plan folder: how many and on which CPU.
std::map<std::string, std::pair<std::size_t, std::set<std::string>>> byPlanFolder(const Stored& stored) {
  std::map<std::string, std::pair<std::size_t, std::set<std::string>>> folders;
  std::set<std::string> keys;
  for (const auto& record : stored.measurements) {
    EXPECT_TRUE(record.ingestKey.has_value());
    if (!record.ingestKey) continue;
    EXPECT_TRUE(keys.insert(*record.ingestKey).second) << "stored twice: " << *record.ingestKey;
    auto& folder = folders[planFolderOf(*record.ingestKey)];
    ++folder.first;
    folder.second.insert(stored.platforms.at(record.platformId).cpuModel);
  }
  return folders;
}

std::size_t csvRows(const fs::path& csv) {
  return lineCount(csv) - 1;
}

const std::vector<std::string> kOmpExport = {"omp",
                                             "collect",
                                             "--only",
                                             "dot,pi,atax",
                                             "--sizes",
                                             "test",
                                             "--space",
                                             "small",
                                             "--min-time",
                                             "0",
                                             "--min-repetitions",
                                             "1",
                                             "--max-repetitions",
                                             "1",
                                             "--cores",
                                             "1"};
constexpr std::size_t kOmpConfigurations = 12;  // threads 1 and 2 (one core) x 3 schedules x 2 chunks

TEST(IngestProcess, OmpCollectionMeasuredFolderByFolderOnTwoNodeTypesIsStoredOnce) {
  TemporaryFolder folder("mirtune-ingest-process", "omp");
  const std::string db = folder.db();
  const fs::path out = folder.path() / "export";
  std::vector<std::string> exportArguments = kOmpExport;
  exportArguments.insert(exportArguments.end(), {"--export", out.string()});
  auto exported = mirtune(db, exportArguments);
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  ASSERT_TRUE(fs::exists(out / "export-id"));
  const std::vector<std::string> ingest = {"omp",        "collect", "--ingest",
                                           out.string(), "-o",      (folder.path() / "omp.csv").string()};

  // Node type A measured dot, node type B pi; atax is not run yet. No platform.json in the export folder.
  measurePlanFolder(out / "dot-test");
  writeNodeRecord(out / "dot-test", "Node A CPU", 1);
  measurePlanFolder(out / "pi-test");
  writeNodeRecord(out / "pi-test", "Node B CPU", 2);
  ASSERT_FALSE(fs::exists(out / "platform.json"));

  auto first = mirtune(db, ingest);
  EXPECT_EQ(first.exitCode, 1) << first.standardError;
  EXPECT_NE(
      first.standardError.find(out.string() + ": 24 measurements stored, 0 already stored; 1 of 3 plan "
                                              "folders has no results yet (ingest again when they do)\n"),
      std::string::npos)
      << first.standardError;
  EXPECT_NE(first.standardError.find("atax test"), std::string::npos) << first.standardError;
  EXPECT_EQ(csvRows(folder.path() / "omp.csv"), 2 * kOmpConfigurations);
  Stored afterFirst = stored(db);
  EXPECT_EQ(afterFirst.measurements.size(), 2 * kOmpConfigurations);
  EXPECT_EQ(afterFirst.platforms.size(), 2u);
  EXPECT_EQ(afterFirst.sessions, 2);
  auto folders = byPlanFolder(afterFirst);
  EXPECT_EQ(folders["dot-test"], (std::pair<std::size_t, std::set<std::string>>{12, {"Node A CPU"}}));
  EXPECT_EQ(folders["pi-test"], (std::pair<std::size_t, std::set<std::string>>{12, {"Node B CPU"}}));
  EXPECT_EQ(folders.count("atax-test"), 0u);

  // atax on node type B, killed after its default and a few more, then resumed: ingested in between.
  measurePlanFolder(out / "atax-test");
  writeNodeRecord(out / "atax-test", "Node B CPU", 2);
  const fs::path ataxResults = out / "atax-test" / "results-1.jsonl";
  const std::size_t allLines = lineCount(ataxResults);
  truncateLines(ataxResults, allLines - 5);
  auto partial = mirtune(db, ingest);
  EXPECT_EQ(partial.exitCode, 1) << partial.standardError;
  EXPECT_NE(partial.standardError.find(out.string() + ": 7 measurements stored, 24 already stored; 5 "
                                                      "configurations have no result yet (ingest again when "
                                                      "they do)\n"),
            std::string::npos)
      << partial.standardError;
  measurePlanFolder(out / "atax-test");
  ASSERT_EQ(lineCount(ataxResults), allLines);

  auto second = mirtune(db, ingest);
  EXPECT_EQ(second.exitCode, 0) << second.standardError;
  EXPECT_NE(second.standardError.find(
                out.string() + ": 5 measurements stored, 31 already stored; all 3 plan folders are in\n"),
            std::string::npos)
      << second.standardError;
  EXPECT_EQ(csvRows(folder.path() / "omp.csv"), 3 * kOmpConfigurations);
  Stored afterSecond = stored(db);
  EXPECT_EQ(afterSecond.measurements.size(), 3 * kOmpConfigurations);
  EXPECT_EQ(afterSecond.sessions, 4);

  // Everything is in: a third ingest stores nothing and begins no session, and still succeeds.
  auto third = mirtune(db, ingest);
  EXPECT_EQ(third.exitCode, 0) << third.standardError;
  EXPECT_NE(
      third.standardError.find(": 0 measurements stored, 36 already stored; all 3 plan folders are in\n"),
      std::string::npos)
      << third.standardError;
  EXPECT_EQ(csvRows(folder.path() / "omp.csv"), 3 * kOmpConfigurations);
  Stored afterThird = stored(db);
  EXPECT_EQ(afterThird.sessions, 4);
  EXPECT_EQ(afterThird.platforms.size(), 2u);
  folders = byPlanFolder(afterThird);
  EXPECT_EQ(folders.size(), 3u);
  EXPECT_EQ(folders["dot-test"], (std::pair<std::size_t, std::set<std::string>>{12, {"Node A CPU"}}));
  EXPECT_EQ(folders["pi-test"], (std::pair<std::size_t, std::set<std::string>>{12, {"Node B CPU"}}));
  EXPECT_EQ(folders["atax-test"], (std::pair<std::size_t, std::set<std::string>>{12, {"Node B CPU"}}));

  // The database's own export agrees: 36 rows, each configuration of each app once.
  auto exportedRows = mirtune(db, {"db", "export", "--table", "measurements", "--format", "json"});
  ASSERT_EQ(exportedRows.exitCode, 0) << exportedRows.standardError;
  auto rows = nlohmann::json::parse(exportedRows.standardOutput);
  ASSERT_TRUE(rows.is_array());
  EXPECT_EQ(rows.size(), 3 * kOmpConfigurations);
}

TEST(IngestProcess, OmpFolderMeasuredByRunAllIngestsAsBeforeAndTwoExportsAreTwoCampaigns) {
  TemporaryFolder folder("mirtune-ingest-process", "runall");
  const std::string db = folder.db();
  std::vector<std::string> exportArguments = kOmpExport;
  exportArguments[3] = "dot";
  const fs::path out = folder.path() / "export";
  exportArguments.insert(exportArguments.end(), {"--export", out.string()});
  ASSERT_EQ(mirtune(db, exportArguments).exitCode, 0);
  auto ran = run({"sh", (out / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(ran.exitCode, 0) << ran.standardError;
  ASSERT_TRUE(fs::exists(out / "platform.json"));

  const fs::path csv = folder.path() / "dot.csv";
  auto first = mirtune(db, {"omp", "collect", "--ingest", out.string(), "-o", csv.string()});
  ASSERT_EQ(first.exitCode, 0) << first.standardError;
  EXPECT_EQ(first.standardOutput, csv.string() + "\n");
  EXPECT_EQ(first.standardError,
            out.string() + ": 12 measurements stored, 0 already stored; all 1 plan folder is in\n");
  const std::string firstCsv = *readFile(csv);
  EXPECT_EQ(csvRows(csv), kOmpConfigurations);
  auto again = mirtune(db, {"omp", "collect", "--ingest", out.string(), "-o", csv.string()});
  ASSERT_EQ(again.exitCode, 0) << again.standardError;
  EXPECT_EQ(*readFile(csv), firstCsv);  // the same rows, read from the folder, not from a new session
  Stored once = stored(db);
  EXPECT_EQ(once.measurements.size(), kOmpConfigurations);
  EXPECT_EQ(once.sessions, 1);
  ASSERT_EQ(once.platforms.size(), 1u);
  // The machine is run-all.sh's record of this one.
  auto record = nlohmann::json::parse(*readFile(out / "platform.json"));
  EXPECT_EQ(once.platforms.begin()->second.cpuModel, record["cpu_model"].get<std::string>());

  // The same plans exported again are another campaign: measured and stored again.
  const fs::path second = folder.path() / "export-again";
  exportArguments.back() = second.string();
  ASSERT_EQ(mirtune(db, exportArguments).exitCode, 0);
  EXPECT_NE(*readFile(second / "export-id"), *readFile(out / "export-id"));
  ran = run({"sh", (second / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(ran.exitCode, 0) << ran.standardError;
  auto other = mirtune(db, {"omp", "collect", "--ingest", second.string(), "-o", csv.string()});
  ASSERT_EQ(other.exitCode, 0) << other.standardError;
  EXPECT_EQ(stored(db).measurements.size(), 2 * kOmpConfigurations);

  // A folder exported before export-id existed is known by its index: stored once too.
  const fs::path legacy = folder.path() / "legacy";
  fs::copy(out, legacy, fs::copy_options::recursive);
  fs::remove(legacy / "export-id");
  for (int ingest = 0; ingest < 2; ++ingest) {
    auto old = mirtune(db, {"omp", "collect", "--ingest", legacy.string(), "-o", csv.string()});
    ASSERT_EQ(old.exitCode, 0) << old.standardError;
    EXPECT_NE(old.standardError.find(ingest == 0 ? ": 12 measurements stored, 0 already stored"
                                                 : ": 0 measurements stored, 12 already stored"),
              std::string::npos)
        << old.standardError;
  }
  Stored all = stored(db);
  EXPECT_EQ(all.measurements.size(), 3 * kOmpConfigurations);
  EXPECT_EQ(all.measurements.back().ingestKey->rfind("sha256:", 0), 0u) << *all.measurements.back().ingestKey;

  // A damaged export-id is named, not replaced by another identity.
  ASSERT_TRUE(writeFileAtomically(second / "export-id", "not an identity\n").ok());
  auto damaged = mirtune(db, {"omp", "collect", "--ingest", second.string(), "-o", csv.string()});
  EXPECT_EQ(damaged.exitCode, 1);
  EXPECT_NE(damaged.standardError.find((second / "export-id").string()), std::string::npos)
      << damaged.standardError;
}

TEST(IngestProcess, UnrollCollectionMeasuredFolderByFolderIsStoredOnceUnderEachNodesMachine) {
  const fs::path corpus = dataDirectory() / "neurovectorizer";
  if (!fs::exists(corpus / "O3_runtimes.csv")) {
    GTEST_SKIP() << "NeuroVectorizer data set not found at " << corpus.string() << " (set MIRTUNE_DATA)";
  }
  TemporaryFolder folder("mirtune-ingest-process", "unroll");
  const std::string db = folder.db();
  const fs::path out = folder.path() / "export";
  const std::vector<std::string> exportArguments = {
      "unroll", "collect", "--suites", "neurovectorizer", "--programs", "2", "--max-loops", "1", "--min-time", "0",
      "--min-repetitions", "1", "--max-repetitions", "1", "--cache", (folder.path() / "cache").string(),
      "--export", out.string()};
  auto exported = mirtune(db, exportArguments);
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  EXPECT_NE(exported.standardOutput.find("2 loop plans of 6 configurations each"), std::string::npos)
      << exported.standardOutput;
  auto index = nlohmann::json::parse(*readFile(out / "collection.json"));
  ASSERT_EQ(index["items"].size(), 2u);
  EXPECT_EQ(index["task"], "unroll");
  const fs::path firstFolder = out / index["items"][0]["folder"].get<std::string>();
  const fs::path secondFolder = out / index["items"][1]["folder"].get<std::string>();
  for (const auto& item : index["items"]) EXPECT_GT(item["iteration_scale"].get<double>(), 0.0);

  // Nothing measured yet: the ingest says so and stores nothing.
  const fs::path csv = folder.path() / "unroll.csv";
  auto early = mirtune(db, {"unroll", "collect", "--ingest", out.string(), "-o", csv.string()});
  EXPECT_EQ(early.exitCode, 1);
  EXPECT_NE(early.standardError.find("platform.json"), std::string::npos) << early.standardError;

  // One node measured the first loop: it is stored, the other waits.
  measurePlanFolder(firstFolder);
  writeNodeRecord(firstFolder, "Node A CPU", 4);
  auto partial = mirtune(db, {"unroll", "collect", "--ingest", out.string(), "-o", csv.string()});
  EXPECT_EQ(partial.exitCode, 1) << partial.standardError;
  EXPECT_NE(partial.standardError.find(
                ": 6 measurements stored, 0 already stored; 1 of 2 plan folders has no results yet"),
            std::string::npos)
      << partial.standardError;
  EXPECT_EQ(csvRows(csv), 6u);

  // Another node type measured the second one: all of it is in, each measurement once.
  measurePlanFolder(secondFolder);
  writeNodeRecord(secondFolder, "Node B CPU", 8);
  for (int ingest = 0; ingest < 2; ++ingest) {
    auto done = mirtune(db, {"unroll", "collect", "--ingest", out.string(), "-o", csv.string()});
    ASSERT_EQ(done.exitCode, 0) << done.standardError;
    EXPECT_NE(done.standardError.find(ingest == 0 ? ": 6 measurements stored, 6 already stored; all 2"
                                                  : ": 0 measurements stored, 12 already stored; all 2"),
              std::string::npos)
        << done.standardError;
  }
  EXPECT_EQ(csvRows(csv), 12u);
  Stored all = stored(db);
  EXPECT_EQ(all.measurements.size(), 12u);
  auto folders = byPlanFolder(all);
  ASSERT_EQ(folders.size(), 2u);
  EXPECT_EQ(folders[firstFolder.filename().string()].second, std::set<std::string>{"Node A CPU"});
  EXPECT_EQ(folders[secondFolder.filename().string()].second, std::set<std::string>{"Node B CPU"});

  // An index of another task is refused by name.
  index["task"] = "omp";
  ASSERT_TRUE(writeFileAtomically(out / "collection.json", index.dump(2)).ok());
  auto wrong = mirtune(db, {"unroll", "collect", "--ingest", out.string(), "-o", csv.string()});
  EXPECT_EQ(wrong.exitCode, 1);
  EXPECT_NE(wrong.standardError.find((out / "collection.json").string() + ": task is 'omp', not unroll"),
            std::string::npos)
      << wrong.standardError;
}

TEST(IngestProcess, TheReportLineCountsWhatWasStoredAndWhatIsMissing) {
  IngestCounts counts;
  counts.planFolders = 1;
  counts.stored = 1;
  EXPECT_EQ(ingestCountsText("out", counts), "out: 1 measurement stored, 0 already stored; all 1 plan folder is in");
  counts.planFolders = 4;
  counts.stored = 0;
  counts.alreadyStored = 30;
  counts.notYet = 2;
  EXPECT_EQ(ingestCountsText("out", counts),
            "out: 0 measurements stored, 30 already stored; 2 of 4 plan folders have no results yet (ingest "
            "again when they do)");
  counts.missingConfigurations = 1;
  EXPECT_FALSE(counts.complete());
  EXPECT_EQ(ingestCountsText("out", counts),
            "out: 0 measurements stored, 30 already stored; 2 of 4 plan folders have no results yet and 1 "
            "configuration has no result yet (ingest again when they do)");
  counts.notYet = 0;
  EXPECT_EQ(ingestCountsText("out", counts),
            "out: 0 measurements stored, 30 already stored; 1 configuration has no result yet (ingest again "
            "when they do)");
}

TEST(IngestProcess, ADamagedResultRefusesTheWholeIngestAndAFolderWithoutMachineIsNamed) {
  TemporaryFolder folder("mirtune-ingest-process", "damaged");
  const std::string db = folder.db();
  std::vector<std::string> exportArguments = kOmpExport;
  exportArguments[3] = "dot,pi";
  const fs::path out = folder.path() / "export";
  exportArguments.insert(exportArguments.end(), {"--export", out.string()});
  ASSERT_EQ(mirtune(db, exportArguments).exitCode, 0);
  const std::vector<std::string> ingest = {"omp",        "collect", "--ingest",
                                           out.string(), "-o",      (folder.path() / "omp.csv").string()};

  // Nothing run yet: no machine record anywhere, as before.
  auto early = mirtune(db, ingest);
  EXPECT_EQ(early.exitCode, 1);
  EXPECT_NE(early.standardError.find((out / "platform.json").string()), std::string::npos)
      << early.standardError;
  EXPECT_NE(early.standardError.find("run run-all.sh"), std::string::npos) << early.standardError;

  measurePlanFolder(out / "dot-test");
  writeNodeRecord(out / "dot-test", "Node A CPU", 1);
  measurePlanFolder(out / "pi-test");
  // pi has results but no machine record, and the export folder has none: named, nothing stored.
  auto unrecorded = mirtune(db, ingest);
  EXPECT_EQ(unrecorded.exitCode, 1);
  EXPECT_NE(unrecorded.standardError.find((out / "platform.json").string()), std::string::npos)
      << unrecorded.standardError;
  EXPECT_EQ(stored(db).measurements.size(), 0u);

  // A damaged line in pi's results refuses everything, dot's good results included.
  writeNodeRecord(out / "pi-test", "Node B CPU", 1);
  const fs::path results = out / "pi-test" / "results-1.jsonl";
  std::istringstream lines(*readFile(results));
  std::string text;
  bool edited = false;
  for (std::string line; std::getline(lines, line);) {
    auto json = nlohmann::json::parse(line);
    if (!edited && json.contains("median")) {
      json["median"] = 1e308;
      edited = true;
    }
    text += json.dump() + "\n";
  }
  ASSERT_TRUE(edited);
  ASSERT_TRUE(writeFileAtomically(results, text).ok());
  auto damaged = mirtune(db, ingest);
  EXPECT_NE(damaged.exitCode, 0);
  EXPECT_NE(damaged.standardError.find("results-1.jsonl:"), std::string::npos) << damaged.standardError;
  EXPECT_NE(damaged.standardError.find("nothing was stored"), std::string::npos) << damaged.standardError;
  Stored none = stored(db);
  EXPECT_EQ(none.measurements.size(), 0u);
  EXPECT_EQ(none.sessions, 0);

  // Measured again (the damaged file replaced): all of it goes in.
  fs::remove(results);
  measurePlanFolder(out / "pi-test");
  auto good = mirtune(db, ingest);
  EXPECT_EQ(good.exitCode, 0) << good.standardError;
  EXPECT_EQ(stored(db).measurements.size(), 2 * kOmpConfigurations);
}

const fs::path kCudaKernels = fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "cuda";

TEST(IngestProcess, CudaExportMeasuredByGpuNodesIsStoredOncePerNode) {
  TemporaryFolder folder("mirtune-ingest-process", "cuda");
  const std::string db = folder.db();
  const fs::path nvcc = writeFakeNvcc(folder.path(), 0);
  const fs::path out = folder.path() / "export";
  auto exported =
      mirtune(db, {"coarsen", (kCudaKernels / "saxpy.cu").string(), (kCudaKernels / "vector_add.cu").string(),
                   "--run", "--nvcc", nvcc.string(), "--min-time", "0", "--export", out.string()});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  ASSERT_TRUE(fs::exists(out / "export-id"));
  auto index = nlohmann::json::parse(*readFile(out / "coarsen-cuda.json"));
  ASSERT_EQ(index["items"].size(), 2u);
  const fs::path saxpy = out / index["items"][0]["folder"].get<std::string>();
  const fs::path vectorAdd = out / index["items"][1]["folder"].get<std::string>();

  measurePlanFolder(saxpy);
  writeNodeRecord(saxpy, "GPU node CPU", 16, true);
  auto first = mirtune(db, {"coarsen", "--ingest", out.string()});
  EXPECT_EQ(first.exitCode, 1) << first.standardError;
  const std::size_t saxpyFactors = stored(db).measurements.size();
  ASSERT_GT(saxpyFactors, 1u);
  EXPECT_NE(first.standardOutput.find("(GPU node CPU, Test GPU)"), std::string::npos) << first.standardOutput;
  EXPECT_NE(first.standardOutput.find(fmt::format("{}: {} measurements stored, 0 already stored; 1 of 2 plan "
                                                  "folders has no results yet",
                                                  out.string(), saxpyFactors)),
            std::string::npos)
      << first.standardOutput;

  measurePlanFolder(vectorAdd);
  writeNodeRecord(vectorAdd, "Other GPU node CPU", 32, true);
  auto second = mirtune(db, {"coarsen", "--ingest", out.string()});
  EXPECT_EQ(second.exitCode, 0) << second.standardError;
  EXPECT_NE(second.standardOutput.find("(Other GPU node CPU, Test GPU)"), std::string::npos)
      << second.standardOutput;
  Stored both = stored(db);
  EXPECT_EQ(both.platforms.size(), 2u);
  EXPECT_EQ(both.sessions, 2);
  const std::size_t all = both.measurements.size();
  EXPECT_GT(all, saxpyFactors);

  // Again: nothing new, no session; the report names the sessions that stored them.
  auto third = mirtune(db, {"coarsen", "--ingest", out.string(), "--json"});
  EXPECT_EQ(third.exitCode, 0) << third.standardError;
  auto report = nlohmann::json::parse(third.standardOutput);
  ASSERT_EQ(report.size(), 2u);
  EXPECT_EQ(report[0]["session"], 1);
  EXPECT_EQ(report[1]["session"], 2);
  Stored after = stored(db);
  EXPECT_EQ(after.measurements.size(), all);
  EXPECT_EQ(after.sessions, 2);
  auto folders = byPlanFolder(after);
  EXPECT_EQ(folders[saxpy.filename().string()].second, std::set<std::string>{"GPU node CPU"});
  EXPECT_EQ(folders[vectorAdd.filename().string()].second, std::set<std::string>{"Other GPU node CPU"});
}

}  // namespace
}  // namespace mirtune
