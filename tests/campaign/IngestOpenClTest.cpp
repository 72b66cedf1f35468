// End-to-end tests of ingesting OpenCL exports (`tune SPEC --export/--ingest`, `coarsen collect
// --export/--ingest`) measured plan folder by plan folder, as campaign tasks on two node types do: each
// measurement stored once, partly finished folders accepted, each plan folder under its own machine's
// platform.
#include "support/Subprocess.h"

#include "common/RunMirtune.h"
#include "common/OpenClDevices.h"
#include "common/TemporaryFolder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceRoot = MIRTUNE_SOURCE_ROOT;
const fs::path kSuite = kSourceRoot / "tests" / "inputs" / "devmap" / "suite";
const fs::path kTuneSpec = kSourceRoot / "tests" / "tune" / "inputs" / "session" / "faulty.json";

/// What a campaign task does in one plan folder, as run-all.sh does it for the whole folder: probe the
/// devices into probe.json, run every plan of the folder on every device into its result folder, and record
/// the machine (platform.json, with the CPU model given to stand for a node type) and, last, the devices
/// (devices.txt). $1 the plan folder, $2 the runner, $3 the CPU model, $4 the plans' glob, $5 "tune"
/// (device-P-D) or "coarsen" (<stem>.device-P-D).
constexpr const char* kMeasureFolderScript = R"sh(set -u
item=$1; runner=$2; cpu=$3; glob=$4; layout=$5
"$runner" probe --json > "$item/probe.json" || exit 1
devices=$(awk '/^    \{$/ { p++; d = -1 } /^        \{$/ { d++; printf "%d:%d\n", p - 1, d }' "$item/probe.json")
printf '{"cpu_model": "%s", "cores": 2, "memory_bytes": 1073741824, "os": "Linux"}\n' "$cpu" > "$item/platform.json"
for plan in "$item"/$glob; do
  for device in $devices; do
    suffix=device-$(echo "$device" | tr ':' '-')
    if [ "$layout" = coarsen ]; then out="$item/$(basename "$plan" .plan.json).$suffix"; else out="$item/$suffix"; fi
    mkdir -p "$out/outputs"
    (cd "$out" && "$runner" opencl --plan "$plan" --device "$device" --out result.json > /dev/null) || true
  done
done
echo "$devices" > "$item/devices.txt"
)sh";

struct TestFolder : TemporaryFolder {
  explicit TestFolder(const std::string& name) : TemporaryFolder("mirtune-ingest-opencl", name) {}
};

SubprocessResult run(const std::vector<std::string>& argv, double timeoutSeconds = 240) {
  return runProgram(argv, timeoutSeconds, {});
}

SubprocessResult mirtune(const fs::path& db, std::vector<std::string> arguments) {
  return runMirtuneOn(db.string(), std::move(arguments), {});
}

nlohmann::json exportTable(const fs::path& db, const std::string& table) {
  auto exported = mirtune(db, {"db", "export", "--table", table, "--format", "json"});
  EXPECT_EQ(exported.exitCode, 0) << exported.standardError;
  auto rows = nlohmann::json::parse(exported.standardOutput, nullptr, false);
  return rows.is_array() ? rows : nlohmann::json::array();
}

/// Rows of a table; 0 when the database was not even created (nothing was stored).
std::size_t rowCount(const fs::path& db, const std::string& table) {
  return fs::exists(db) ? exportTable(db, table).size() : 0;
}

/// Measures plan folder `item` as a campaign task on a node whose CPU model is `cpu` would.
void measureFolder(const fs::path& item, const std::string& cpu, const std::string& glob,
                   const std::string& layout) {
  auto measured = run({"sh", "-c", kMeasureFolderScript, "measure", item.string(), MIRTUNE_RUN_EXECUTABLE,
                       cpu, glob, layout});
  ASSERT_EQ(measured.exitCode, 0) << measured.standardError;
  ASSERT_TRUE(fs::exists(item / "devices.txt"));
}

/// The CPU model of each platform row, by id.
std::map<std::int64_t, std::string> cpuModels(const fs::path& db) {
  std::map<std::int64_t, std::string> models;
  for (const auto& row : exportTable(db, "platforms"))
    models[row["id"].get<std::int64_t>()] = row["cpu_model"];
  return models;
}

/// Per ingest key, how often it is stored and the CPU model of its platform; every measurement must have one.
std::map<std::string, std::pair<int, std::string>> storedByKey(const fs::path& db) {
  const auto models = cpuModels(db);
  std::map<std::string, std::pair<int, std::string>> stored;
  for (const auto& row : exportTable(db, "measurements")) {
    EXPECT_TRUE(row["ingest_key"].is_string()) << row.dump();
    if (!row["ingest_key"].is_string()) continue;
    auto& entry = stored[row["ingest_key"].get<std::string>()];
    ++entry.first;
    entry.second = models.at(row["platform_id"].get<std::int64_t>());
  }
  return stored;
}

std::string readText(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(IngestOpenCl, TuneExportMeasuredFolderByFolderOnTwoNodeTypesIsStoredOnce) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("tune");
  const fs::path exported = folder.path() / "exported";
  const fs::path db = folder.path() / "tune.db";
  auto written = mirtune(db, {"tune", kTuneSpec.string(), "--strategy", "exhaustive", "--budget", "4",
                              "--export", exported.string()});
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  ASSERT_TRUE(fs::exists(exported / "export-id"));
  const std::string exportId = readText(exported / "export-id").substr(0, 32);

  // Nothing measured anywhere: the error says what to do, as before.
  auto early = mirtune(db, {"tune", kTuneSpec.string(), "--ingest", exported.string()});
  EXPECT_EQ(early.exitCode, 1);
  EXPECT_NE(early.standardError.find("run run-all.sh"), std::string::npos) << early.standardError;
  EXPECT_NE(early.standardError.find("platform.json"), std::string::npos) << early.standardError;

  // The default's plan folder and one more, on two node types; 1 and 3 not yet.
  measureFolder(exported / "0", "node-a", "plan.json", "tune");
  measureFolder(exported / "2", "node-b", "plan.json", "tune");
  ASSERT_FALSE(fs::exists(exported / "platform.json"));
  auto first = mirtune(db, {"tune", kTuneSpec.string(), "--ingest", exported.string(), "--json"});
  EXPECT_EQ(first.exitCode, 1) << first.standardError;
  auto report = nlohmann::json::parse(first.standardOutput, nullptr, false);
  ASSERT_TRUE(report.is_object()) << first.standardOutput << first.standardError;
  EXPECT_EQ(report["ingest"],
            (nlohmann::json{{"stored", 2}, {"already_stored", 0}, {"plan_folders", 4}, {"not_measured", 2}}));
  EXPECT_EQ(report["evaluations"], 2);
  auto stored = storedByKey(db);
  ASSERT_EQ(stored.size(), 2u);
  std::set<std::string> folders;
  for (const auto& [key, entry] : stored) {
    EXPECT_EQ(entry.first, 1) << key;
    ASSERT_EQ(key.rfind(exportId + "/", 0), 0u) << key;
    const std::string item = key.substr(33, key.find('/', 33) - 33);
    folders.insert(item);
    EXPECT_EQ(entry.second, item == "0" ? "node-a" : "node-b") << key;
  }
  EXPECT_EQ(folders, (std::set<std::string>{"0", "2"}));
  EXPECT_EQ(cpuModels(db).size(), 2u);
  EXPECT_EQ(exportTable(db, "sessions").size(), 2u);  // one per measuring machine

  // The rest, then ingested: only it is new.
  measureFolder(exported / "1", "node-a", "plan.json", "tune");
  measureFolder(exported / "3", "node-b", "plan.json", "tune");
  auto second = mirtune(db, {"tune", kTuneSpec.string(), "--ingest", exported.string()});
  EXPECT_EQ(second.exitCode, 0) << second.standardError;
  EXPECT_NE(second.standardOutput.find(
                exported.string() + ": 2 measurements stored, 2 already stored; all 4 plan folders are in\n"),
            std::string::npos)
      << second.standardOutput;
  EXPECT_NE(second.standardOutput.find("4 of "), std::string::npos) << second.standardOutput;
  const std::size_t sessions = exportTable(db, "sessions").size();
  EXPECT_EQ(sessions, 4u);

  // Once more: nothing new, no new session.
  auto third = mirtune(db, {"tune", kTuneSpec.string(), "--ingest", exported.string()});
  EXPECT_EQ(third.exitCode, 0) << third.standardError;
  EXPECT_NE(third.standardOutput.find(
                exported.string() + ": 0 measurements stored, 4 already stored; all 4 plan folders are in\n"),
            std::string::npos)
      << third.standardOutput;
  EXPECT_EQ(exportTable(db, "sessions").size(), sessions);

  stored = storedByKey(db);
  ASSERT_EQ(stored.size(), 4u);
  for (const auto& [key, entry] : stored) {
    EXPECT_EQ(entry.first, 1) << key;
    const std::string item = key.substr(33, key.find('/', 33) - 33);
    EXPECT_EQ(entry.second, item == "0" || item == "1" ? "node-a" : "node-b") << key;
  }
  EXPECT_EQ(cpuModels(db).size(), 2u);
}

TEST(IngestOpenCl, TuneWaitsForTheDefaultsResultsToCheckAgainst) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("tune-default");
  const fs::path exported = folder.path() / "exported";
  const fs::path db = folder.path() / "tune.db";
  auto written = mirtune(db, {"tune", kTuneSpec.string(), "--strategy", "exhaustive", "--budget", "2",
                              "--export", exported.string()});
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  measureFolder(exported / "1", "node-a", "plan.json", "tune");
  auto waiting = mirtune(db, {"tune", kTuneSpec.string(), "--ingest", exported.string()});
  EXPECT_EQ(waiting.exitCode, 1) << waiting.standardError;
  EXPECT_NE(waiting.standardError.find("default"), std::string::npos) << waiting.standardError;
  EXPECT_NE(waiting.standardOutput.find(": 0 measurements stored, 0 already stored; 1 of 2 plan folders has "
                                        "no results yet (ingest again when they do)"),
            std::string::npos)
      << waiting.standardOutput;
  EXPECT_EQ(rowCount(db, "measurements"), 0u);
  EXPECT_EQ(rowCount(db, "sessions"), 0u);
}

TEST(IngestOpenCl, CoarsenCollectMeasuredFolderByFolderOnTwoNodeTypesIsStoredOnce) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("collect");
  const fs::path exported = folder.path() / "plans";
  const fs::path db = folder.path() / "collect.db";
  auto written = mirtune(db, {"coarsen", "collect", "--kernels", kSuite.string(), "--sizes", "1",
                              "--min-time", "0", "--export", exported.string()});
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  ASSERT_TRUE(fs::exists(exported / "export-id"));
  const std::size_t perLaunch = 6 * openClDeviceCount();  // N=4096: every factor fits

  measureFolder(exported / "saxpy-N4096", "node-a", "f*.plan.json", "coarsen");
  auto first = mirtune(db, {"coarsen", "collect", "--ingest", exported.string()});
  EXPECT_EQ(first.exitCode, 1) << first.standardError;
  EXPECT_NE(
      first.standardOutput.find(fmt::format("# {}: {} measurements stored, 0 already stored; 1 of 2 plan "
                                            "folders has no results yet (ingest again when they do)\n",
                                            exported.string(), perLaunch)),
      std::string::npos)
      << first.standardOutput;
  EXPECT_EQ(first.standardOutput.find("vector_add"), std::string::npos) << first.standardOutput;
  EXPECT_EQ(storedByKey(db).size(), perLaunch);

  // A run killed before it wrote its result: that plan folder is not measured yet, nothing of it stored.
  measureFolder(exported / "vector_add-N4096", "node-b", "f*.plan.json", "coarsen");
  const fs::path killed = exported / "vector_add-N4096" / "f2.device-0-0" / "result.json";
  const std::string result = readText(killed);
  fs::remove(killed);
  auto partial = mirtune(db, {"coarsen", "collect", "--ingest", exported.string()});
  EXPECT_EQ(partial.exitCode, 1) << partial.standardError;
  EXPECT_NE(
      partial.standardOutput.find(fmt::format(
          ": 0 measurements stored, {} already stored; 1 of 2 plan folders has no results yet", perLaunch)),
      std::string::npos)
      << partial.standardOutput;
  EXPECT_EQ(storedByKey(db).size(), perLaunch);
  std::ofstream(killed) << result;  // run again

  auto second = mirtune(db, {"coarsen", "collect", "--ingest", exported.string()});
  EXPECT_EQ(second.exitCode, 0) << second.standardError;
  EXPECT_NE(second.standardOutput.find(
                fmt::format("# {}: {} measurements stored, {} already stored; all 2 plan folders are in\n",
                            exported.string(), perLaunch, perLaunch)),
            std::string::npos)
      << second.standardOutput;
  EXPECT_NE(second.standardOutput.find("vector_add"), std::string::npos) << second.standardOutput;
  const std::size_t sessions = exportTable(db, "sessions").size();
  EXPECT_EQ(sessions, 2u);

  auto third = mirtune(db, {"coarsen", "collect", "--ingest", exported.string()});
  EXPECT_EQ(third.exitCode, 0) << third.standardError;
  EXPECT_NE(third.standardOutput.find(fmt::format(
                ": 0 measurements stored, {} already stored; all 2 plan folders are in\n", 2 * perLaunch)),
            std::string::npos)
      << third.standardOutput;
  EXPECT_NE(third.standardOutput.find("no new session, platform "), std::string::npos)
      << third.standardOutput;
  EXPECT_EQ(exportTable(db, "sessions").size(), sessions);

  const auto stored = storedByKey(db);
  ASSERT_EQ(stored.size(), 2 * perLaunch);
  EXPECT_EQ(exportTable(db, "measurements").size(), 2 * perLaunch);
  for (const auto& [key, entry] : stored) {
    EXPECT_EQ(entry.first, 1) << key;
    const bool saxpy = key.find("/saxpy-N4096/") != std::string::npos;
    EXPECT_EQ(entry.second, saxpy ? "node-a" : "node-b") << key;
  }
  EXPECT_EQ(cpuModels(db).size(), 2u);
}

TEST(IngestOpenCl, RunAllShStillIngestsAndADamagedResultRefusesTheWhole) {
  SKIP_WITHOUT_OPENCL();
  TestFolder folder("run-all");
  const fs::path exported = folder.path() / "plans";
  auto written =
      mirtune(folder.path() / "export.db", {"coarsen", "collect", "--kernels", kSuite.string(), "--sizes",
                                            "1", "--min-time", "0", "--export", exported.string()});
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  auto script = run({"sh", (exported / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(script.exitCode, 0) << script.standardError;
  ASSERT_TRUE(fs::exists(exported / "platform.json"));

  // A damaged result (in the plan folder measured last): nothing of the folder is stored.
  const fs::path result = exported / "vector_add-N4096" / "f4.device-0-0" / "result.json";
  const std::string good = readText(result);
  std::ofstream(result) << "{\"status\": \"ok\"}";
  const fs::path refusedDb = folder.path() / "refused.db";
  auto refused = mirtune(refusedDb, {"coarsen", "collect", "--ingest", exported.string()});
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.standardError.find("f4.device-0-0/result.json"), std::string::npos)
      << refused.standardError;
  EXPECT_EQ(rowCount(refusedDb, "measurements"), 0u);
  EXPECT_EQ(rowCount(refusedDb, "sessions"), 0u);
  std::ofstream(result) << good;

  // Run the old way, ingested as before: one platform, one session, every measurement once.
  const fs::path db = folder.path() / "ingested.db";
  auto ingested = mirtune(db, {"coarsen", "collect", "--ingest", exported.string()});
  ASSERT_EQ(ingested.exitCode, 0) << ingested.standardError;
  const std::size_t all = 12 * openClDeviceCount();
  EXPECT_NE(ingested.standardOutput.find(fmt::format("# {} of {} measurements ok, recorded in ", all, all)),
            std::string::npos)
      << ingested.standardOutput;
  EXPECT_NE(ingested.standardOutput.find(
                fmt::format("# {}: {} measurements stored, 0 already stored; all 2 plan folders are in\n",
                            exported.string(), all)),
            std::string::npos)
      << ingested.standardOutput;
  EXPECT_EQ(storedByKey(db).size(), all);
  EXPECT_EQ(cpuModels(db).size(), 1u);
  EXPECT_EQ(exportTable(db, "sessions").size(), 1u);

  // Another export of the same plans is another campaign: its measurements are stored too.
  const fs::path again = folder.path() / "again";
  written =
      mirtune(folder.path() / "export.db", {"coarsen", "collect", "--kernels", kSuite.string(), "--sizes",
                                            "1", "--min-time", "0", "--export", again.string()});
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  script = run({"sh", (again / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(script.exitCode, 0) << script.standardError;
  auto other = mirtune(db, {"coarsen", "collect", "--ingest", again.string()});
  ASSERT_EQ(other.exitCode, 0) << other.standardError;
  EXPECT_EQ(storedByKey(db).size(), 2 * all);
}

}  // namespace
}  // namespace mirtune
