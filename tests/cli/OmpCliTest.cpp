// End-to-end tests of `mirtune omp --app`: the default and the strategy's picks measured through the runner
// and stored, failures and changed outputs reported per configuration, bad input named, and a session killed
// with SIGKILL resumed without measuring anything twice.
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = fs::path(MIRTUNE_TEST_INPUTS) / "omp";

SubprocessResult mirtune(const std::vector<std::string>& arguments, double timeoutSeconds = 180) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.environment["OMP_WAIT_POLICY"] = "passive";
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

// Quick measurements: the tests check bookkeeping, not speed.
std::vector<std::string> quick(const TemporaryFolder& folder, std::vector<std::string> arguments) {
  std::vector<std::string> all = {"--db", folder.db(), "omp"};
  all.insert(all.end(), arguments.begin(), arguments.end());
  // The work folder's path is a named string: a c_str() of a temporary path would dangle inside the loop.
  const std::string work = (folder.path() / "work").string();
  for (const std::string& option : {std::string("--space"), std::string("small"), std::string("--min-time"),
                                    std::string("0.01"), std::string("--min-repetitions"), std::string("2"),
                                    std::string("--max-repetitions"), std::string("2"),
                                    std::string("--work-dir"), work}) {
    all.push_back(option);
  }
  return all;
}

std::vector<MeasurementRecord> measurements(const TemporaryFolder& folder) {
  auto db = Database::open(folder.db(), Database::OpenMode::kExisting);
  EXPECT_TRUE(db.ok());
  auto all = db->listMeasurements();
  EXPECT_TRUE(all.ok());
  return *all;
}

int cores() {
  return static_cast<int>(std::thread::hardware_concurrency());
}

TEST(OmpCli, RandomBudgetOfOneMeasuresTheDefaultAndOneMoreAndStoresBoth) {
  TemporaryFolder folder("mirtune-omp", "random");
  auto run = mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "50000",
                                    "--strategy", "random", "--budget", "1", "--seed", "5", "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto json = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(json["results"].size(), 2u);
  EXPECT_EQ(json["results"][0]["configuration"],
            (nlohmann::json{{"threads", cores()}, {"schedule", "static"}, {"chunk", "default"}}));
  for (const auto& r : json["results"]) EXPECT_EQ(r["status"], "ok") << r.dump();
  EXPECT_TRUE(json.contains("chosen"));
  EXPECT_NEAR(json["results"][0]["speedup"].get<double>(), 1.0, 1e-12);
  auto stored = measurements(folder);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].task, "omp");
  EXPECT_EQ(stored[0].configuration, json["results"][0]["configuration"]);
  EXPECT_EQ(stored[1].configuration, json["results"][1]["configuration"]);
  EXPECT_EQ(stored[0].timesSeconds.size(), 2u);

  // The same seed picks the same configuration.
  TemporaryFolder again("mirtune-omp", "random-again");
  auto second = mirtune(quick(again, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "50000",
                                      "--strategy", "random", "--budget", "1", "--seed", "5", "--json"}));
  ASSERT_EQ(second.exitCode, 0) << second.standardError;
  EXPECT_EQ(nlohmann::json::parse(second.standardOutput)["results"][1]["configuration"],
            json["results"][1]["configuration"]);
}

TEST(OmpCli, PredictWithTheShippedHeadMeasuresItsPickAndRecordsThePrediction) {
  TemporaryFolder folder("mirtune-omp", "predict");
  auto run =
      mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "50000", "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto json = nlohmann::json::parse(run.standardOutput);
  ASSERT_TRUE(json.contains("predicted"));
  ASSERT_GE(json["results"].size(), 1u);
  ASSERT_LE(json["results"].size(), 2u);  // the default, and the prediction unless it is the default
  EXPECT_EQ(json["results"].back()["configuration"], json["predicted"]);
  auto db = Database::open(folder.db(), Database::OpenMode::kExisting);
  ASSERT_TRUE(db.ok());
  auto predictions = db->listPredictions();
  ASSERT_TRUE(predictions.ok());
  ASSERT_EQ(predictions->size(), 1u);
  EXPECT_EQ((*predictions)[0].task, "omp");
  EXPECT_EQ((*predictions)[0].configuration, json["predicted"]);
  ASSERT_TRUE((*predictions)[0].score.has_value());
}

TEST(OmpCli, ACrashingConfigurationIsReportedAndTheOthersAreMeasured) {
  TemporaryFolder folder("mirtune-omp", "crash");
  auto run = mirtune(quick(
      folder, {"--app", (kInputs / "crash_single_thread.c").string(), "--strategy", "exhaustive", "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto json = nlohmann::json::parse(run.standardOutput);
  std::size_t crashed = 0, ok = 0;
  for (const auto& r : json["results"]) {
    if (r["configuration"]["threads"] == 1) {
      EXPECT_EQ(r["status"], "run_failed") << r.dump();
      EXPECT_NE(r["message"].get<std::string>().find("signal 11"), std::string::npos) << r.dump();
      ++crashed;
    } else {
      EXPECT_EQ(r["status"], "ok") << r.dump();
      ++ok;
    }
  }
  EXPECT_EQ(crashed, 6u);  // threads 1 x 3 schedules x 2 chunks of the small space
  EXPECT_GT(ok, 0u);
  EXPECT_EQ(measurements(folder).size(), crashed + ok);
}

TEST(OmpCli, AnOutputThatChangesWithTheConfigurationIsWrongOutput) {
  TemporaryFolder folder("mirtune-omp", "wrong");
  auto run = mirtune(quick(
      folder, {"--app", (kInputs / "thread_count_output.c").string(), "--strategy", "exhaustive", "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto json = nlohmann::json::parse(run.standardOutput);
  for (const auto& r : json["results"]) {
    const bool sameThreads = r["configuration"]["threads"] == cores();
    EXPECT_EQ(r["status"], sameThreads ? "ok" : "wrong_output") << r.dump();
  }
}

TEST(OmpCli, ASourceThatDoesNotCompileIsNamedWithItsLine) {
  TemporaryFolder folder("mirtune-omp", "broken");
  auto run = mirtune(quick(folder, {"--app", (fs::path(MIRTUNE_TEST_INPUTS) / "syntax_error.c").string(),
                                    "--strategy", "exhaustive"}));
  EXPECT_EQ(run.exitCode, 1);
  EXPECT_NE(run.standardError.find("syntax_error.c:"), std::string::npos) << run.standardError;
  auto missing = mirtune(quick(folder, {"--app", (folder.path() / "nope.c").string()}));
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.standardError.find("nope.c"), std::string::npos) << missing.standardError;
  auto badStrategy =
      mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--strategy", "annealing"}));
  EXPECT_EQ(badStrategy.exitCode, 2);
}

TEST(OmpCli, ASessionKilledWithSigkillResumesWithoutMeasuringAnythingTwice) {
  TemporaryFolder folder("mirtune-omp", "resume");
  std::vector<std::string> arguments = {"--db",
                                        folder.db(),
                                        "omp",
                                        "--app",
                                        (kInputs / "tiny_sum.c").string(),
                                        "--args",
                                        "20000",
                                        "--strategy",
                                        "exhaustive",
                                        "--space",
                                        "small",
                                        "--min-time",
                                        "0.3",
                                        "--min-repetitions",
                                        "2",
                                        "--max-repetitions",
                                        "100000",
                                        "--work-dir",
                                        (folder.path() / "work").string(),
                                        "--json"};
  // The time limit kills mirtune's whole process group with SIGKILL part-way through the 18 configurations.
  auto killed = mirtune(arguments, 2.5);
  ASSERT_TRUE(killed.timedOut) << "finished before it could be killed: " << killed.standardOutput;
  const std::size_t before = measurements(folder).size();

  arguments.push_back("--resume");
  auto resumed = mirtune(arguments);
  ASSERT_EQ(resumed.exitCode, 0) << resumed.standardError;
  auto json = nlohmann::json::parse(resumed.standardOutput);
  EXPECT_TRUE(json["resumed"].get<bool>());
  auto stored = measurements(folder);
  std::set<std::string> distinct;
  for (const auto& m : stored) distinct.insert(m.configurationSha256);
  EXPECT_EQ(json["results"].size(), stored.size());
  EXPECT_EQ(stored.size(), distinct.size());  // nothing measured twice
  EXPECT_GE(stored.size(), before);
  EXPECT_EQ(stored.size(), 18u);  // threads {1, 2, 4} x 3 schedules x chunk {default, 16} on 2 cores
}

TEST(OmpCli, AWorkDirHoldingTheUsersFilesIsRefusedAndKeptIntact) {
  TemporaryFolder folder("mirtune-omp-cli", "workdir");
  const fs::path mine = folder.path() / "work";  // the folder quick() passes as --work-dir
  fs::create_directories(mine);
  std::ofstream(mine / "thesis.tex") << "years of work\n";
  auto run = mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "20000",
                                    "--strategy", "random", "--budget", "1"}));
  EXPECT_EQ(run.exitCode, 1) << run.standardError;
  EXPECT_NE(run.standardError.find(mine.string()), std::string::npos) << run.standardError;
  std::ifstream kept(mine / "thesis.tex");
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "years of work");
  EXPECT_EQ(std::distance(fs::directory_iterator(mine), fs::directory_iterator()), 1);
}

TEST(OmpCli, TheSameSessionStartedTwiceAtOnceIsRefusedWithThePidAndTheFirstFinishes) {
  TemporaryFolder folder("mirtune-omp-cli", "twice");
  const fs::path work = folder.path() / "work";
  // 18 configurations of at least 0.2 s each: the first process is still measuring when the second starts.
  const std::vector<std::string> arguments = {
      "--db",          folder.db(),     "omp",  "--app", (kInputs / "tiny_sum.c").string(), "--args", "20000",
      "--strategy",    "exhaustive",    "--space", "small", "--min-time", "0.2", "--min-repetitions", "2",
      "--work-dir",    work.string(),   "--json"};
  SubprocessResult first;
  std::thread running([&] { first = mirtune(arguments); });
  // Wait until the first process holds the session's lock (its PID is in the lock file).
  std::string holder;
  for (int i = 0; i < 600 && holder.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(work / "lock");
    std::getline(in, holder);
  }
  SubprocessResult second;
  if (!holder.empty()) second = mirtune(arguments);
  running.join();
  ASSERT_FALSE(holder.empty()) << "the first session never took its lock: " << first.standardError;
  EXPECT_EQ(second.exitCode, 1) << second.standardError;
  EXPECT_NE(second.standardError.find("PID " + holder), std::string::npos) << second.standardError;
  ASSERT_EQ(first.exitCode, 0) << first.standardError;
  auto json = nlohmann::json::parse(first.standardOutput);
  EXPECT_EQ(json["results"].size(), 18u);
  EXPECT_EQ(measurements(folder).size(), 18u);  // each configuration measured once, by the first process
}

TEST(OmpCli, CollectExportRunWithTheRunnerAloneAndIngest) {
  TemporaryFolder folder("mirtune-omp-cli", "export");
  const fs::path out = folder.path() / "export";
  const std::vector<std::string> options = {"--db",
                                            folder.db(),
                                            "omp",
                                            "collect",
                                            "--only",
                                            "dot",
                                            "--sizes",
                                            "test",
                                            "--space",
                                            "small",
                                            "--min-time",
                                            "0",
                                            "--min-repetitions",
                                            "1",
                                            "--max-repetitions",
                                            "1"};
  std::vector<std::string> exportArguments = options;
  exportArguments.insert(exportArguments.end(), {"--cores", "1", "--export", out.string()});
  auto exported = mirtune(exportArguments);
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  ASSERT_TRUE(fs::exists(out / "dot-test" / "plan-1.json"));

  SubprocessOptions script;
  script.argv = {"sh", (out / "run-all.sh").string(),
                 (fs::path(MIRTUNE_EXECUTABLE).parent_path() / "mirtune-run").string()};
  script.timeoutSeconds = 180;
  auto ran = runSubprocess(script);
  ASSERT_TRUE(ran.ok());
  ASSERT_EQ(ran->exitCode, 0) << ran->standardError;

  const fs::path csv = folder.path() / "ingested.csv";
  auto ingested =
      mirtune({"--db", folder.db(), "omp", "collect", "--ingest", out.string(), "-o", csv.string()});
  ASSERT_EQ(ingested.exitCode, 0) << ingested.standardError;
  std::ifstream file(csv);
  std::string header, line;
  std::getline(file, header);
  EXPECT_EQ(header.rfind("platform,cpu_model,cores,app,size", 0), 0u) << header;
  int rows = 0;
  while (std::getline(file, line)) {
    ++rows;
    EXPECT_NE(line.find(",dot,test,"), std::string::npos) << line;
    EXPECT_NE(line.find(",ok,"), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 12);  // threads 1 and 2 (one core) x 3 schedules x chunk default or 16

  // Apps that are not in the suite are named, not silently skipped.
  std::vector<std::string> unknown = options;
  unknown[5] = "no_such_app";
  auto refused = mirtune(unknown);
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.standardError.find("no_such_app"), std::string::npos) << refused.standardError;
}

TEST(OmpCli, AnIngestWithAnItemLeftUnmeasuredStoresTheRestAndExitsOne) {
  TemporaryFolder folder("mirtune-omp-cli", "partial");
  const fs::path out = folder.path() / "export";
  auto exported = mirtune({"--db", folder.db(), "omp", "collect", "--only", "dot,pi", "--sizes", "test", "--space",
                           "small", "--min-time", "0", "--min-repetitions", "1", "--max-repetitions", "1",
                           "--cores", "1", "--export", out.string()});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  SubprocessOptions script;
  script.argv = {"sh", (out / "run-all.sh").string(),
                 (fs::path(MIRTUNE_EXECUTABLE).parent_path() / "mirtune-run").string()};
  script.timeoutSeconds = 180;
  auto ran = runSubprocess(script);
  ASSERT_TRUE(ran.ok());
  ASSERT_EQ(ran->exitCode, 0) << ran->standardError;
  // As if the other machine never got to pi.
  fs::remove(out / "pi-test" / "results-1.jsonl");

  const fs::path csv = folder.path() / "ingested.csv";
  auto ingested = mirtune({"--db", folder.db(), "omp", "collect", "--ingest", out.string(), "-o", csv.string()});
  EXPECT_EQ(ingested.exitCode, 1) << ingested.standardError;
  EXPECT_EQ(ingested.standardOutput, csv.string() + "\n");
  EXPECT_NE(ingested.standardError.find("pi test"), std::string::npos) << ingested.standardError;
  std::ifstream file(csv);
  std::string line;
  std::getline(file, line);
  int rows = 0;
  while (std::getline(file, line)) {
    ++rows;
    EXPECT_NE(line.find(",dot,test,"), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 12);
}

TEST(OmpCli, DefinesReachTheBuild) {
  TemporaryFolder folder("mirtune-omp-cli", "define");
  const std::string source = (kInputs / "needs_define.c").string();
  auto without = mirtune(quick(folder, {"--app", source, "--strategy", "random", "--budget", "1"}));
  EXPECT_NE(without.exitCode, 0);
  EXPECT_NE(without.standardError.find("build with -D REPS="), std::string::npos) << without.standardError;

  auto with = mirtune(quick(folder, {"--app", source, "--strategy", "random", "--budget", "1", "-D", "REPS=100000"}));
  ASSERT_EQ(with.exitCode, 0) << with.standardError;
  const auto stored = measurements(folder);
  ASSERT_EQ(stored.size(), 2u);
  for (const auto& record : stored) EXPECT_EQ(record.status, MeasureStatus::kOk) << record.configuration.dump();
}

TEST(OmpCli, ModelIsADeprecatedNameOfHeads) {
  TemporaryFolder folder("mirtune-omp-cli", "model");
  const fs::path none = folder.path() / "none";
  auto run = mirtune({"--db", folder.db(), "omp", "--app", (kInputs / "tiny_sum.c").string(), "--model", none.string()});
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.standardError.find("--model is deprecated here; use --heads"), std::string::npos)
      << run.standardError;
  EXPECT_NE(run.standardError.find("no OpenMP model in " + none.string()), std::string::npos) << run.standardError;
  EXPECT_TRUE(run.standardOutput.empty()) << run.standardOutput;
}

TEST(OmpCli, TheGenericTunerWritesT4AndCacheFilesOfTheSession) {
  TemporaryFolder folder("mirtune-omp-cli", "t4");
  const fs::path t4 = folder.path() / "results.t4.json";
  const fs::path cache = folder.path() / "cache.json";
  auto run = mirtune(
      quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "20000", "--strategy", "random",
                     "--budget", "2", "-o", t4.string(), "--cache", cache.string(), "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  const auto json = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(json["results"].size(), 3u);
  std::ifstream t4In(t4);
  const auto results = nlohmann::json::parse(t4In, nullptr, false);
  ASSERT_TRUE(results.is_object());
  EXPECT_EQ(results["schema_version"], "1.0.0");
  ASSERT_EQ(results["results"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(results["results"][i]["configuration"], json["results"][i]["configuration"]);
    EXPECT_EQ(results["results"][i]["invalidity"], "correct") << results["results"][i].dump();
  }
  std::ifstream cacheIn(cache);
  const auto cached = nlohmann::json::parse(cacheIn, nullptr, false);
  ASSERT_TRUE(cached.is_object());
  EXPECT_EQ(cached["cache"].size(), 3u);
  EXPECT_EQ(cached["tune_params_keys"], (nlohmann::json{"threads", "schedule", "chunk"}));
  // The cache file is the session's: a second session does not overwrite it.
  auto again = mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "20000",
                                      "--strategy", "random", "--budget", "2", "--cache", cache.string()}));
  EXPECT_NE(again.exitCode, 0);
  EXPECT_NE(again.standardError.find("--resume"), std::string::npos) << again.standardError;
}

TEST(OmpCli, TheModelStrategySearchesWithinTheBudget) {
  TemporaryFolder folder("mirtune-omp-cli", "model-strategy");
  auto run = mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "20000",
                                    "--strategy", "model", "--budget", "4", "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  const auto json = nlohmann::json::parse(run.standardOutput);
  EXPECT_EQ(json["strategy"], "model");
  ASSERT_EQ(json["results"].size(), 5u);  // the default and 4 more
  EXPECT_EQ(json["results"][0]["configuration"],
            (nlohmann::json{{"threads", cores()}, {"schedule", "static"}, {"chunk", "default"}}));
  std::set<std::string> distinct;
  for (const auto& r : json["results"]) distinct.insert(r["configuration"].dump());
  EXPECT_EQ(distinct.size(), 5u);
  EXPECT_EQ(measurements(folder).size(), 5u);
}

TEST(OmpCli, TheWrittenSpecIsTheSameTuningProblemForMirtuneTune) {
  TemporaryFolder folder("mirtune-omp-cli", "write-spec");
  const fs::path spec = folder.path() / "spec" / "tiny_sum.json";
  auto written = mirtune(quick(folder, {"--app", (kInputs / "tiny_sum.c").string(), "--args", "20000",
                                        "--write-spec", spec.string()}));
  ASSERT_EQ(written.exitCode, 0) << written.standardError;
  ASSERT_TRUE(fs::exists(spec));
  ASSERT_TRUE(fs::exists(spec.parent_path() / "tiny_sum.omp.c"));  // the source with schedule(runtime)
  std::ifstream in(spec);
  const auto t1 = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(t1.is_object());
  const auto& parameters = t1["ConfigurationSpace"]["TuningParameters"];
  ASSERT_EQ(parameters.size(), 3u);
  EXPECT_EQ(parameters[2]["Values"], (nlohmann::json{"default", 16}));  // the small space's chunks
  EXPECT_EQ(t1["mirtune"]["Application"]["OpenMP"]["Threads"], "threads");
  EXPECT_TRUE(measurements(folder).empty());  // nothing was measured

  auto tuned = mirtune({"--db", folder.db(), "--quiet", "tune", spec.string(), "--strategy", "exhaustive",
                        "--budget", "3", "--json"});
  ASSERT_EQ(tuned.exitCode, 0) << tuned.standardError;
  const auto json = nlohmann::json::parse(tuned.standardOutput);
  EXPECT_EQ(json["evaluations"], 3);
  const std::set<int> threads = {1, std::max(1, cores() / 2), cores(), 2 * cores()};
  EXPECT_EQ(json["space_size"], threads.size() * 6);  // threads x 3 schedules x 2 chunks (the small space)
  EXPECT_EQ(json["default"]["configuration"],
            (nlohmann::json{{"threads", cores()}, {"schedule", "static"}, {"chunk", "default"}}));
  for (const auto& r : json["results"]) EXPECT_EQ(r["status"], "ok") << r.dump();
}

}  // namespace
}  // namespace mirtune
