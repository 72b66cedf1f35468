// `mirtune tune` with application specs, end to end on this machine (no OpenCL device needed): an application
// spec exported as process plan folders, measured by `mirtune campaign submit --scheduler local`, and
// ingested idempotently (a partial folder stores what is there and exits 1, a second ingest stores nothing
// new, a changed spec is refused); the cache file of a live application session.
#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"
#include "database/Database.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace mirtune {
namespace {
namespace fs = std::filesystem;

const fs::path kApp = fs::path(MIRTUNE_TUNE_APP_INPUTS);

nlohmann::json readJson(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in, nullptr, false);
}

nlohmann::json parseOutput(const SubprocessResult& run) {
  auto json = nlohmann::json::parse(run.standardOutput, nullptr, false);
  EXPECT_TRUE(json.is_object()) << run.standardOutput << run.standardError;
  return json;
}

std::size_t storedMeasurements(const std::string& db) {
  auto database = Database::open(db, Database::OpenMode::kExisting);
  EXPECT_TRUE(database.ok());
  auto all = database->listMeasurements();
  EXPECT_TRUE(all.ok());
  return all.ok() ? all->size() : 0;
}

/// The tiny spec and its source copied into `folder` (so a test may change them).
fs::path copySpec(const fs::path& folder) {
  fs::copy_file(kApp / "tiny.json", folder / "tiny.json");
  fs::copy_file(kApp / "tiny.c", folder / "tiny.c");
  return folder / "tiny.json";
}

TEST(TuneApplicationCli, AnExportRunsAsACampaignAndIngestsOnceEvenWhenIngestedPartlyFirst) {
  TemporaryFolder folder("mirtune-tune-app", "export");
  const std::string db = folder.db();
  const fs::path spec = copySpec(folder.path());
  const fs::path exported = folder.path() / "exported";
  auto adaptive =
      runMirtuneOn(db, {"tune", spec.string(), "--strategy", "model", "--export", exported.string()});
  EXPECT_EQ(adaptive.exitCode, 2) << adaptive.standardError;

  // 10 configurations: the default and 9 more, 4 per plan folder: plan folders 1, 2 (4 each) and 3 (1).
  auto written = runMirtuneOn(db, {"tune", spec.string(), "--strategy", "exhaustive", "--budget", "0",
                                   "--export", exported.string(), "--per-plan", "4"});
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  EXPECT_NE(written.standardOutput.find("10 configurations exported"), std::string::npos)
      << written.standardOutput;
  const auto index = readJson(exported / "tune.json");
  ASSERT_EQ(index["items"].size(), 3u) << index.dump();
  for (const auto& item : index["items"]) {
    EXPECT_EQ(item["configurations"][0], (nlohmann::json{{"MODE", "a"}, {"WORK", 1}}));  // the default first
    EXPECT_TRUE(fs::exists(exported / item["folder"].get<std::string>() / "tiny.c"));    // the source travels
  }
  EXPECT_EQ(index["items"][2]["configurations"].size(), 2u);
  ASSERT_TRUE(fs::exists(exported / "export-id"));

  auto submitted = runMirtuneOn(db, {"campaign", "submit", exported.string(), "--scheduler", "local"});
  ASSERT_EQ(submitted.exitCode, 0) << submitted.standardError;

  // A copy without plan folder 3's results (same export-id): it stores plan folders 1 and 2 and exits 1.
  const fs::path partial = folder.path() / "partial";
  fs::copy(exported, partial, fs::copy_options::recursive);
  fs::remove(partial / "3" / "results-1.jsonl");
  const fs::path partialT4 = folder.path() / "partial.t4.json";
  auto first = runMirtuneOn(
      db, {"tune", spec.string(), "--ingest", partial.string(), "-o", partialT4.string(), "--json"});
  EXPECT_EQ(first.exitCode, 1) << first.standardError;
  const auto firstJson = parseOutput(first);
  EXPECT_EQ(firstJson["ingest"]["stored"], 10);  // two plan folders of the default and 4 more each
  EXPECT_EQ(firstJson["ingest"]["not_measured"], 1);
  EXPECT_EQ(readJson(partialT4)["results"].size(), 9u);  // the default once, 8 more
  EXPECT_EQ(storedMeasurements(db), 10u);

  // The whole folder: only plan folder 3 is new.
  const fs::path t4 = folder.path() / "all.t4.json";
  const fs::path cache = folder.path() / "all.cache.json";
  auto second = runMirtuneOn(db, {"tune", spec.string(), "--ingest", exported.string(), "-o", t4.string(),
                                  "--cache", cache.string(), "--json"});
  ASSERT_EQ(second.exitCode, 0) << second.standardError;
  const auto secondJson = parseOutput(second);
  EXPECT_EQ(secondJson["ingest"]["stored"], 2);
  EXPECT_EQ(secondJson["ingest"]["already_stored"], 10);
  EXPECT_EQ(secondJson["ingest"]["not_measured"], 0);
  EXPECT_EQ(storedMeasurements(db), 12u);
  const auto results = readJson(t4)["results"];
  ASSERT_EQ(results.size(), 10u);
  std::set<std::string> seen;
  for (const auto& result : results) {
    EXPECT_TRUE(seen.insert(result["configuration"].dump()).second) << result.dump();
    // Outputs are checked against the default's: only WORK 5 with MODE b prints another result.
    const bool differs = result["configuration"] == nlohmann::json{{"MODE", "b"}, {"WORK", 5}};
    EXPECT_EQ(result["invalidity"], differs ? "correctness" : "correct") << result.dump();
  }
  EXPECT_EQ(readJson(cache)["cache"].size(), 10u);
  ASSERT_TRUE(secondJson["best"].is_object());
  EXPECT_EQ(secondJson["best"]["status"], "ok");

  // Once more: nothing new, and a complete folder exits 0.
  auto third = runMirtuneOn(db, {"tune", spec.string(), "--ingest", exported.string(), "--json"});
  ASSERT_EQ(third.exitCode, 0) << third.standardError;
  EXPECT_EQ(parseOutput(third)["ingest"]["stored"], 0);
  EXPECT_EQ(storedMeasurements(db), 12u);

  // A changed source is another spec: refused, nothing stored.
  std::ofstream(folder.path() / "tiny.c", std::ios::app) << "/* changed */\n";
  auto changed = runMirtuneOn(db, {"tune", spec.string(), "--ingest", exported.string()});
  EXPECT_NE(changed.exitCode, 0);
  EXPECT_NE(changed.standardError.find("another version"), std::string::npos) << changed.standardError;
  EXPECT_EQ(storedMeasurements(db), 12u);
}

TEST(TuneApplicationCli, ALiveApplicationSessionWritesItsCacheFileAndRefusesAnExistingOne) {
  TemporaryFolder folder("mirtune-tune-app", "cache");
  const std::string db = folder.db();
  const fs::path spec = copySpec(folder.path());
  const fs::path cache = folder.path() / "cache.json";
  const std::vector<std::string> arguments = {"tune",
                                              spec.string(),
                                              "--strategy",
                                              "model",
                                              "--budget",
                                              "4",
                                              "--cache",
                                              cache.string(),
                                              "--json",
                                              "--work-dir",
                                              (folder.path() / "work").string()};
  auto run = runMirtuneOn(db, arguments);
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  EXPECT_EQ(parseOutput(run)["evaluations"], 4);
  EXPECT_EQ(readJson(cache)["cache"].size(), 4u);
  EXPECT_EQ(storedMeasurements(db), 4u);
  auto again = runMirtuneOn(db, arguments);
  EXPECT_EQ(again.exitCode, 2) << again.standardError;
  EXPECT_NE(again.standardError.find("--resume"), std::string::npos) << again.standardError;
}

}  // namespace
}  // namespace mirtune
