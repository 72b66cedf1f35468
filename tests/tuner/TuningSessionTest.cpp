// Tuning sessions end to end through mirtune-run process: every configuration measured and stored, the
// default measured first, failures and wrong outputs recorded as results, resume after the runner is killed,
// and the platform check of --resume; the process backend measured directly, batch by batch.
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/OwnedFolder.h"
#include "support/Subprocess.h"
#include "tuner/ProcessMeasurer.h"
#include "tuner/Strategy.h"
#include "tuner/TuningSession.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mirtune {
namespace {

// The program the sessions tune: KNOB sets its work; 3 prints a different answer; 4 crashes; 5 kills the
// runner that started it the first time it runs (a marker file says it did), which is how a session is
// interrupted; 7 sleeps for 30 s.
constexpr const char* kProgram = R"(#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char** argv) {
  const char* knob = getenv("KNOB");
  int k = knob ? atoi(knob) : 0;
  if (argc > 1) { FILE* f = fopen(argv[1], "a"); fprintf(f, "%d\n", k); fclose(f); }
  if (k == 4) abort();
  if (k == 7) sleep(30);
  if (k == 5 && access("killed-once", F_OK) != 0) {
    FILE* f = fopen("killed-once", "w"); fclose(f);
    kill(getppid(), SIGKILL);
    return 0;
  }
  volatile double x = 0;
  for (long i = 0; i < k * 2000000L; ++i) x += i * 0.5;
  printf("answer %d\n", k == 3 ? 43 : 42);
  return 0;
}
)";

struct Fixture {
  TemporaryFolder folder{"mirtune-session", "test"};
  SearchSpace space;
  Database database;
  std::int64_t platformId = 0;

  static Database openDatabase(const TemporaryFolder& folder) {
    auto db = Database::open(folder.db());
    EXPECT_TRUE(db.ok());
    return std::move(*db);
  }

  explicit Fixture(std::vector<nlohmann::json> knobs) : database(openDatabase(folder)) {
    EXPECT_TRUE(space.addParameter({"knob", knobs, 2, ""}).ok());
    PlatformRecord platform;
    platform.fingerprint = "fingerprint-a";
    platform.cpuModel = "test cpu";
    platformId = *database.upsertPlatform(platform);
  }

  std::filesystem::path counter() const { return folder.path() / "runs.txt"; }

  TuningRequest request(const std::vector<Configuration>& rest) {
    TuningRequest r;
    r.task = "test";
    r.command = "test";
    r.options = {{"case", ::testing::UnitTest::GetInstance()->current_test_info()->name()}};
    r.workload = {0, "content-sha", std::nullopt, "c", "knob.c", {}};
    r.files["knob.c"] = kProgram;
    r.space = &space;
    r.check = OutputCheck::kDigest;
    r.showProgress = false;
    r.settings.minTimeSeconds = 0.01;
    r.settings.minRepetitions = 2;
    r.settings.maxRepetitions = 3;
    r.settings.warmup = 0;
    r.settings.runTimeoutSeconds = 20;
    r.planner = [rest](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
      if (done.size() > 1) return std::vector<Configuration>{};
      return rest;
    };
    const std::string counterPath = counter().string();
    r.commands = [counterPath](const Configuration& c) -> Expected<CandidateCommands> {
      CandidateCommands commands;
      commands.buildKey = "cc knob.c";
      commands.buildArgv = {"cc", "-O1", "knob.c", "-o", kBinaryPlaceholder};
      commands.runArgv = {kBinaryPlaceholder, counterPath};
      commands.runEnvironment = {{"KNOB", c["knob"].dump()}};
      return commands;
    };
    return r;
  }

  std::vector<int> runsOfCounter() const {
    std::ifstream in(counter());
    std::vector<int> runs;
    for (int k; in >> k;) runs.push_back(k);
    return runs;
  }
};

TEST(TuningSession, MeasuresDefaultFirstThenEveryCandidateAndStoresThem) {
  Fixture f({1, 2, 3, 4});
  auto request = f.request({{{"knob", 1}}, {{"knob", 3}}, {{"knob", 4}}});
  auto result = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->results.size(), 4u);
  EXPECT_EQ(result->results[0].configuration, (nlohmann::json{{"knob", 2}}));
  EXPECT_EQ(result->results[0].status, MeasureStatus::kOk);
  EXPECT_EQ(result->results[1].status, MeasureStatus::kOk);
  EXPECT_EQ(result->results[2].status, MeasureStatus::kWrongOutput);
  EXPECT_EQ(result->results[3].status, MeasureStatus::kRunFailed);
  // Timings depend on the machine's load, so only their bookkeeping is checked: the best is one of the two ok
  // configurations and a speedup is the default's median over the configuration's.
  ASSERT_TRUE(result->best.has_value());
  EXPECT_LE(*result->best, 1u);
  ASSERT_TRUE(result->results[1].speedup.has_value());
  EXPECT_DOUBLE_EQ(*result->results[1].speedup, *result->results[0].median / *result->results[1].median);
  EXPECT_FALSE(result->results[2].speedup.has_value());
  EXPECT_GE(result->results[1].times.size(), 2u);

  auto stored = f.database.listMeasurements(result->sessionId);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 4u);
  EXPECT_EQ((*stored)[0].configuration, (nlohmann::json{{"knob", 2}}));
  EXPECT_EQ((*stored)[2].status, MeasureStatus::kWrongOutput);
  EXPECT_EQ((*stored)[3].status, MeasureStatus::kRunFailed);
  ASSERT_TRUE((*stored)[3].stderrExcerpt.has_value());
  EXPECT_NE((*stored)[3].stderrExcerpt->find("signal"), std::string::npos);
  auto session = f.database.getSession(result->sessionId);
  ASSERT_TRUE(session.ok() && session->has_value());
  EXPECT_TRUE((*session)->ended.has_value());
  // The work folder is self-contained: plans name the program relative to it.
  auto plan = readFile(result->workDirectory / "plan-1.json");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->find(result->workDirectory.string()), std::string::npos);
}

TEST(TuningSession, ResumeAfterTheRunnerIsKilledMeasuresNothingTwice) {
  Fixture f({1, 2, 5, 6});
  auto request = f.request({{{"knob", 1}}, {{"knob", 5}}, {{"knob", 6}}});
  auto first = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_FALSE(first.ok());  // knob 5 killed the runner mid-round
  EXPECT_NE(first.error().message().find("--resume"), std::string::npos);

  // Another machine may not continue it...
  request.resume = true;
  auto elsewhere =
      runTuningSession(f.database, f.platformId, "fingerprint-b", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_NE(elsewhere.error().message().find("--force"), std::string::npos);

  // ...this one does, and re-runs nothing that finished.
  auto second = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_TRUE(second->resumed);
  ASSERT_EQ(second->results.size(), 4u);
  EXPECT_EQ(second->reusedResults, 2u);  // the default and knob 1 were stored before the kill
  auto stored = f.database.listMeasurements(second->sessionId);
  ASSERT_TRUE(stored.ok());
  std::set<std::string> hashes;
  for (const auto& m : *stored) hashes.insert(m.configurationSha256);
  EXPECT_EQ(stored->size(), 4u);
  EXPECT_EQ(hashes.size(), 4u);
  // Each of the default and knob 1 ran (repetitions) in the first attempt only: their run counts did not
  // grow.
  std::map<int, int> runs;
  for (int k : f.runsOfCounter()) ++runs[k];
  const int defaultRuns = runs[2];
  const int knob1Runs = runs[1];
  EXPECT_GE(defaultRuns, 2);
  EXPECT_LE(defaultRuns, 3);
  EXPECT_GE(knob1Runs, 2);
  EXPECT_LE(knob1Runs, 3);

  // A finished session has nothing to resume.
  auto again = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("already finished"), std::string::npos);
  EXPECT_EQ(findTuningSession(f.database, request).kind, TuningSessionState::Kind::kFinished);
}

TEST(TuningSession, AConfigurationFarSlowerThanTheDefaultIsStoppedEarly) {
  Fixture f({2, 7});
  auto request = f.request({{{"knob", 7}}});
  request.settings.relativeTimeout = 20;
  request.settings.minRelativeTimeoutSeconds = 1;
  const auto start = std::chrono::steady_clock::now();
  auto result = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->results.size(), 2u);
  EXPECT_EQ(result->results[1].status, MeasureStatus::kRunTimeout);
  EXPECT_LT(seconds, 15.0);  // the 20 s run limit was lowered to max(1 s, 20 x the default's ~10 ms)
}

TEST(TuningSession, ResumeWithoutAnInterruptedSessionSaysSo) {
  Fixture f({1, 2});
  auto request = f.request({});
  request.resume = true;
  auto result = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("nothing to resume"), std::string::npos);
}

TEST(TuningSession, ABuildFailureIsAResultForEveryConfiguration) {
  Fixture f({1, 2});
  auto request = f.request({{{"knob", 1}}});
  request.files["knob.c"] = "int main( { return 0; }\n";
  auto result = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->results.size(), 2u);
  EXPECT_EQ(result->results[0].status, MeasureStatus::kBuildFailed);
  EXPECT_EQ(result->results[1].status, MeasureStatus::kBuildFailed);
  EXPECT_FALSE(result->best.has_value());
}

TEST(TuningSession, AFolderWithTheUsersFilesIsRefusedAndLeftAsItWas) {
  Fixture f({1, 2});
  auto request = f.request({{{"knob", 1}}});
  const std::filesystem::path mine = f.folder.path() / "mine";
  std::filesystem::create_directories(mine / "data");
  ASSERT_TRUE(writeFileAtomically(mine / "notes.txt", "keep me\n").ok());
  ASSERT_TRUE(writeFileAtomically(mine / "data" / "plan-1.json", "{}\n").ok());
  request.workDirectory = mine;
  auto result = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find(mine.string()), std::string::npos) << result.error().message();
  EXPECT_NE(result.error().message().find("not empty"), std::string::npos) << result.error().message();
  EXPECT_EQ(*readFile(mine / "notes.txt"), "keep me\n");
  EXPECT_TRUE(std::filesystem::exists(mine / "data" / "plan-1.json"));
  EXPECT_FALSE(std::filesystem::exists(mine / "lock"));  // nothing written into it either
  EXPECT_FALSE(std::filesystem::exists(mine / "session.json"));
}

TEST(TuningSession, StartingOverRemovesOnlyWhatTheSessionWrote) {
  Fixture f({1, 2});
  auto request = f.request({{{"knob", 1}}});
  request.workDirectory = f.folder.path() / "work";
  auto first = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(first.ok()) << first.error().message();
  const std::filesystem::path work = first->workDirectory;
  EXPECT_TRUE(std::filesystem::exists(work / kOwnedFolderMarker));
  // A file the user left in mirtune's folder, and a link out of it, survive a second session there.
  TemporaryFolder outside("mirtune-session", "outside");
  ASSERT_TRUE(writeFileAtomically(outside.path() / "precious", "x").ok());
  ASSERT_TRUE(writeFileAtomically(work / "notes.txt", "keep me\n").ok());
  std::filesystem::create_directory_symlink(outside.path(), work / "results-9.jsonl");
  auto second = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_NE(second->sessionId, first->sessionId);
  EXPECT_EQ(*readFile(work / "notes.txt"), "keep me\n");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(work / "results-9.jsonl")));
  EXPECT_EQ(*readFile(outside.path() / "precious"), "x");  // the link was removed, never followed
}

TEST(TuningSession, AWorkFolderThatIsASymbolicLinkIsRefused) {
  Fixture f({1, 2});
  auto request = f.request({});
  TemporaryFolder elsewhere("mirtune-session", "elsewhere");
  std::filesystem::create_directory_symlink(elsewhere.path(), f.folder.path() / "link");
  request.workDirectory = f.folder.path() / "link";
  auto result = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("symbolic link"), std::string::npos) << result.error().message();
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere.path()));
}

TEST(TuningSession, ASecondProcessOnARunningSessionIsRefusedWithItsPidAndTouchesNothing) {
  Fixture f({1, 2});
  auto request = f.request({{{"knob", 1}}});
  request.workDirectory = f.folder.path() / "work";
  auto first = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(first.ok()) << first.error().message();
  const std::filesystem::path work = first->workDirectory;
  const std::string stateBefore = *readFile(work / "session.json");

  // Another process holds the session's lock (a separate open of the file conflicts like another process).
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    const int fd = ::open((work / "lock").c_str(), O_RDWR);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) ::_exit(1);
    ::sleep(30);
    ::_exit(0);
  }
  // Wait until the child holds the lock and wrote its PID.
  const std::string expectedPid = std::to_string(holder);
  auto lockSays = [&] {
    auto text = readFile(work / "lock");
    return text ? *text : std::string();
  };
  for (int i = 0; i < 200 && lockSays().find(expectedPid) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  for (bool resume : {false, true}) {
    request.resume = resume;
    auto second =
        runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().message().find("PID " + expectedPid), std::string::npos)
        << second.error().message();
    EXPECT_EQ(*readFile(work / "session.json"), stateBefore);
    EXPECT_TRUE(std::filesystem::exists(work / "plan-1.json"));
  }
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  // Once the holder is gone the folder is free again.
  request.resume = false;
  auto third = runTuningSession(f.database, f.platformId, "fingerprint-a", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(third.ok()) << third.error().message();
}

TEST(ProcessMeasurer, MeasuresEachBatchAsARoundWithResultsInBatchOrder) {
  Fixture f({1, 2, 3, 4});
  auto request = f.request({});
  ProcessMeasurer measurer(request, {&f.database, f.platformId, "fingerprint-a", MIRTUNE_RUN_EXECUTABLE});
  EXPECT_EQ(measurer.kind(), "process");

  // The first batch holds the baseline (the default, knob 2); a wrong answer later is judged against it.
  auto first = processInputs(request, {{{"knob", 2}}});
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto baseline = measurer.measure(*first);
  ASSERT_TRUE(baseline.ok()) << baseline.error().message();
  ASSERT_EQ(baseline->size(), 1u);
  EXPECT_EQ((*baseline)[0].status, MeasureStatus::kOk);
  EXPECT_TRUE(measurer.hasMeasured({{"knob", 2}}));
  EXPECT_FALSE(measurer.hasMeasured({{"knob", 3}}));

  auto second = processInputs(request, {{{"knob", 4}}, {{"knob", 3}}, {{"knob", 1}}});
  ASSERT_TRUE(second.ok());
  auto measured = measurer.measure(*second);
  ASSERT_TRUE(measured.ok()) << measured.error().message();
  ASSERT_EQ(measured->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*measured)[i].input, i);
    const auto* tuned = std::get_if<TunedConfiguration>(&(*measured)[i].detail);
    ASSERT_NE(tuned, nullptr);
    EXPECT_EQ(tuned->configuration, (*second)[i].configuration);
    EXPECT_FALSE((*measured)[i].reused);
  }
  EXPECT_EQ((*measured)[0].status, MeasureStatus::kRunFailed);
  EXPECT_EQ((*measured)[1].status, MeasureStatus::kWrongOutput);
  EXPECT_EQ((*measured)[2].status, MeasureStatus::kOk);
  ASSERT_TRUE((*measured)[2].median.has_value());
  EXPECT_FALSE((*measured)[2].samples.empty());
  EXPECT_TRUE(std::filesystem::exists(measurer.workDirectory() / "plan-2.json"));

  // A plan of the other kind is refused without measuring anything.
  MeasureInput openCl;
  openCl.configuration = {{"knob", 1}};
  openCl.plan = OpenClRunRequest{};
  auto refused = measurer.measure({openCl});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidInput);

  auto finished = measurer.finish();
  ASSERT_TRUE(finished.ok()) << finished.error().message();
  EXPECT_EQ(finished->results.size(), 4u);
  ASSERT_TRUE(finished->best.has_value());
  auto stored = f.database.listMeasurements(measurer.sessionId());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 4u);
  EXPECT_EQ(findTuningSession(f.database, request).kind, TuningSessionState::Kind::kFinished);
}

}  // namespace
}  // namespace mirtune
