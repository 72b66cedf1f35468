// Tests of `mirtune-run process` and the process plan/results forms: timers and the repetition rule, crashes,
// timeouts that kill whole process groups, self-checks, failed and hanging builds, resume, digests, SIGTERM.
#include "TunerTestSupport.h"
#include "tuner/runner/ProcessPlan.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"

#include "common/TemporaryFolder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
using runner::ProcessBuild;
using runner::ProcessPlan;
using runner::ProcessResult;
using runner::ProcessRun;
using runner::SelfCheck;
using runner::TimerMode;
using testing::runnerExecutable;
using testing::tunerInputs;

struct TestFolder : TemporaryFolder {
  explicit TestFolder(const std::string& name) : TemporaryFolder("mirtune-process-test", name) {}
  std::string file(const std::string& name) const { return (path() / name).string(); }
};

std::string processInput(const std::string& name) {
  return (tunerInputs() / "process" / name).string();
}

/// Compiles one of the test programs into the plan's folder (relative output: the build runs there).
ProcessBuild compile(const std::string& id, const std::string& source, const std::string& output) {
  ProcessBuild build;
  build.id = id;
  build.argv = {"cc", "-O1", processInput(source), "-o", output};
  build.timeoutSeconds = 60;
  return build;
}

/// A quick run: timeouts of 2 s, one warm-up, min_time 0.05 s, 1 to 20 repetitions.
ProcessRun quickRun(const std::string& id, const std::string& build, std::vector<std::string> argv) {
  ProcessRun run;
  run.id = id;
  run.build = build;
  run.argv = std::move(argv);
  run.timeoutSeconds = 2;
  run.warmup = 1;
  run.minTimeSeconds = 0.05;
  run.minRepetitions = 1;
  run.maxRepetitions = 20;
  return run;
}

std::string writePlan(const TestFolder& folder, const ProcessPlan& plan) {
  const std::string path = folder.file("plan.json");
  std::ofstream(path) << runner::processPlanToJson(plan).dump(2);
  return path;
}

SubprocessResult runRunner(std::vector<std::string> arguments, double timeoutSeconds = 60) {
  SubprocessOptions options;
  options.argv = {runnerExecutable().string(), "process"};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << result.error().message();
  return result.ok() ? *result : SubprocessResult{};
}

/// Runs the plan into folder/results.jsonl and returns the results by id (builds as "build:<id>").
std::map<std::string, ProcessResult> runPlan(const TestFolder& folder, const ProcessPlan& plan,
                                             SubprocessResult* process = nullptr,
                                             const std::vector<std::string>& extraArguments = {}) {
  const std::string results = folder.file("results.jsonl");
  std::vector<std::string> arguments = {"--plan", writePlan(folder, plan), "--results", results};
  arguments.insert(arguments.end(), extraArguments.begin(), extraArguments.end());
  SubprocessResult finished = runRunner(arguments);
  if (process != nullptr) *process = finished;
  std::vector<ProcessResult> lines;
  std::string error;
  EXPECT_TRUE(runner::readProcessResults(results, lines, error)) << error << "\n" << finished.standardError;
  std::map<std::string, ProcessResult> byId;
  for (auto& line : lines) {
    const std::string key = (line.kind == runner::ProcessItemKind::kBuild ? "build:" : "") + line.id;
    EXPECT_EQ(byId.count(key), 0u) << key << " has two lines";
    byId[key] = std::move(line);
  }
  return byId;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int countLines(const std::string& path) {
  const std::string text = readText(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

bool processExists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

TEST(ProcessPlan, JsonRoundTripAndKeyErrors) {
  ProcessPlan plan;
  plan.parallelBuilds = 3;
  ProcessBuild build = compile("b1", "region_timer.c", "bin/b1");
  build.environment = {{"CFLAGS", "-O3"}};
  build.unsetEnvironment = {"LD_PRELOAD"};
  build.workingDirectory = "work";
  plan.builds.push_back(build);
  ProcessRun run = quickRun("r1", "b1", {"bin/b1", "1000"});
  run.environment = {{"OMP_NUM_THREADS", "2"}, {"OMP_SCHEDULE", "dynamic,4"}};
  run.unsetEnvironment = {"OMP_PROC_BIND"};
  run.timer = TimerMode::kRegion;
  run.warmup = 2;
  run.minTimeSeconds = 0.25;
  run.minRepetitions = 4;
  run.maxRepetitions = 9;
  plan.runs.push_back(run);

  const nlohmann::json json = runner::processPlanToJson(plan);
  ProcessPlan back;
  std::string error;
  ASSERT_TRUE(runner::parseProcessPlan(json, back, error)) << error;
  EXPECT_EQ(runner::processPlanToJson(back), json);
  EXPECT_EQ(back.parallelBuilds, 3);
  ASSERT_EQ(back.runs.size(), 1u);
  EXPECT_EQ(back.runs[0].environment.at("OMP_SCHEDULE"), "dynamic,4");
  EXPECT_EQ(back.runs[0].timer, TimerMode::kRegion);
  EXPECT_EQ(back.runs[0].maxRepetitions, 9);
  EXPECT_EQ(back.builds[0].workingDirectory, "work");

  // Defaults of a minimal run.
  nlohmann::json minimal = {{"version", 1}, {"runs", {{{"id", "x"}, {"argv", {"true"}}}}}};
  ASSERT_TRUE(runner::parseProcessPlan(minimal, back, error)) << error;
  EXPECT_EQ(back.runs[0].timer, TimerMode::kAuto);
  EXPECT_EQ(back.runs[0].warmup, 1);
  EXPECT_EQ(back.runs[0].minRepetitions, 3);

  auto expectError = [&](nlohmann::json bad, const std::string& fragment) {
    EXPECT_FALSE(runner::parseProcessPlan(bad, back, error)) << bad.dump();
    EXPECT_NE(error.find(fragment), std::string::npos) << "error: " << error;
  };
  nlohmann::json bad = json;
  bad["runs"][0]["min_time_s"] = 1;
  expectError(bad, "runs[0].min_time_s");
  bad = json;
  bad["runs"][0]["timeout_seconds"] = -1;
  expectError(bad, "runs[0].timeout_seconds");
  bad = json;
  bad["runs"][0]["build"] = "nope";
  expectError(bad, "runs[0].build 'nope'");
  bad = json;
  bad["runs"][0]["env"]["OMP_NUM_THREADS"] = 2;
  expectError(bad, "runs[0].env.OMP_NUM_THREADS");
  bad = json;
  bad["runs"][0]["max_repetitions"] = 2;
  expectError(bad, "runs[0].max_repetitions");
  bad = json;
  bad["runs"][0]["timer"] = "cpu";
  expectError(bad, "runs[0].timer");
  bad = json;
  bad["builds"][0]["argv"] = nlohmann::json::array();
  expectError(bad, "builds[0].argv");
  bad = json;
  bad["version"] = 2;
  expectError(bad, "'version' 2");
  bad = json;
  bad["builds"].push_back(json["builds"][0]);
  expectError(bad, "builds[1].id 'b1' repeats");
}

TEST(ProcessPlan, ResultLinesRoundTripAndTruncatedTail) {
  ProcessResult result;
  result.id = "r7";
  result.status = MeasureStatus::kRunFailed;
  result.timer = TimerMode::kWall;
  result.times = {0.5, 0.25, 0.75};
  result.summary = runner::summarise(result.times);
  result.repetitions = 3;
  result.warmup = 1;
  result.exitCode = -1;
  result.signal = 11;
  result.selfCheck = SelfCheck::kOk;
  result.stdoutSha256 = sha256Hex("x\n");
  result.stdoutExcerpt = "x\n";
  result.stdoutStable = false;
  result.message = "repetition 4: killed by signal 11 (Segmentation fault)";
  result.standardError = "boom\n";
  result.wallSeconds = 2.5;
  const std::string line = runner::processResultLine(result);
  ASSERT_EQ(line.back(), '\n');
  ProcessResult back;
  std::string error;
  ASSERT_TRUE(runner::parseProcessResultLine(nlohmann::json::parse(line), back, error)) << error;
  EXPECT_EQ(runner::processResultLine(back), line);
  EXPECT_EQ(back.signal, 11);
  EXPECT_EQ(back.exitCode, -1);
  EXPECT_FALSE(back.stdoutStable);
  EXPECT_DOUBLE_EQ(back.summary.median, 0.5);

  ProcessResult build;
  build.id = "b1";
  build.kind = runner::ProcessItemKind::kBuild;
  build.status = MeasureStatus::kBuildTimeout;
  build.seconds = 1.5;
  build.message = "timed out after 1 s";

  TestFolder folder("results");
  const std::string path = folder.file("r.jsonl");
  const std::string first = runner::processResultLine(build);
  std::ofstream(path) << first << line << line.substr(0, line.size() / 2);
  runner::ProcessResultsFile file;
  ASSERT_TRUE(runner::readProcessResultsFile(path, file, error)) << error;
  ASSERT_EQ(file.results.size(), 2u);
  EXPECT_TRUE(file.droppedTail);
  EXPECT_EQ(file.completeBytes, first.size() + line.size());
  EXPECT_EQ(file.results[0].status, MeasureStatus::kBuildTimeout);
  EXPECT_EQ(file.results[1].id, "r7");

  // A bad line that is not the last is damage, not an interrupted write: an error naming file and line.
  std::ofstream(path) << first << "{\"id\": 3}\n" << line;
  std::vector<ProcessResult> results;
  EXPECT_FALSE(runner::readProcessResults(path, results, error));
  EXPECT_NE(error.find(path + ":2:"), std::string::npos) << error;
}

TEST(ProcessRunner, RegionTimerAndRepetitionRule) {
  TestFolder folder("region");
  ProcessPlan plan;
  plan.builds.push_back(compile("region", "region_timer.c", "region_timer"));
  plan.builds.push_back(compile("sleeper", "sleeper.c", "sleeper"));
  // Two lines of 2^-7 s per repetition: every time is exactly 2^-6 s, whatever the wall clock says.
  ProcessRun byTime = quickRun("by_time", "region", {"./region_timer", "0.0078125", "2"});
  byTime.minTimeSeconds = 0.0625;  // four repetitions of 2^-6 s
  byTime.minRepetitions = 3;
  byTime.maxRepetitions = 50;
  ProcessRun byCount = byTime;
  byCount.id = "by_count";
  byCount.minRepetitions = 6;
  ProcessRun capped = byTime;
  capped.id = "capped";
  capped.minTimeSeconds = 100;
  capped.minRepetitions = 1;
  capped.maxRepetitions = 2;
  ProcessRun required = quickRun("required", "sleeper", {"./sleeper", "1"});
  required.timer = TimerMode::kRegion;
  plan.runs = {byTime, byCount, capped, required};
  auto results = runPlan(folder, plan);

  const std::map<std::string, int> expectedRepetitions = {{"by_time", 4}, {"by_count", 6}, {"capped", 2}};
  for (const auto& [id, repetitions] : expectedRepetitions) {
    ASSERT_EQ(results.count(id), 1u) << id;
    const ProcessResult& result = results[id];
    EXPECT_EQ(result.status, MeasureStatus::kOk) << id << ": " << result.message;
    EXPECT_EQ(result.timer, TimerMode::kRegion) << id;
    EXPECT_EQ(result.repetitions, repetitions) << id;
    ASSERT_EQ(result.times.size(), static_cast<std::size_t>(repetitions)) << id;
    for (double time : result.times) EXPECT_EQ(time, 0.015625) << id;
    EXPECT_EQ(result.summary.median, 0.015625);
    EXPECT_EQ(result.warmup, 1);
    EXPECT_EQ(result.selfCheck, SelfCheck::kOk);
    EXPECT_EQ(result.exitCode, 0);
  }
  ASSERT_EQ(results.count("required"), 1u);
  EXPECT_EQ(results["required"].status, MeasureStatus::kRunFailed);
  EXPECT_NE(results["required"].message.find("mirtune-region-seconds"), std::string::npos)
      << results["required"].message;
}

TEST(ProcessRunner, WallTimerFallback) {
  TestFolder folder("wall");
  ProcessPlan plan;
  plan.builds.push_back(compile("sleeper", "sleeper.c", "sleeper"));
  ProcessRun run = quickRun("nap", "sleeper", {"./sleeper", "20"});
  run.minTimeSeconds = 0.1;
  run.minRepetitions = 2;
  run.maxRepetitions = 50;
  plan.runs.push_back(run);
  SubprocessResult process;
  auto results = runPlan(folder, plan, &process, {"--json-progress"});
  const ProcessResult& result = results["nap"];
  ASSERT_EQ(result.status, MeasureStatus::kOk) << result.message;
  EXPECT_EQ(result.timer, TimerMode::kWall);
  ASSERT_GE(result.times.size(), 2u);
  for (double time : result.times) {
    EXPECT_GE(time, 0.020);
    EXPECT_LT(time, 1.0);
  }
  // Stopped at the first repetition that met both the minimum time and count.
  const double total = std::accumulate(result.times.begin(), result.times.end(), 0.0);
  EXPECT_GE(total, 0.1);
  EXPECT_LT(total - result.times.back(), 0.1);
  EXPECT_EQ(result.selfCheck, SelfCheck::kAbsent);
  EXPECT_GE(result.wallSeconds, total);

  // --json-progress: one JSON line per finished item on stderr.
  std::istringstream progress(process.standardError);
  std::string line;
  std::vector<nlohmann::json> events;
  while (std::getline(progress, line)) events.push_back(nlohmann::json::parse(line, nullptr, false));
  ASSERT_EQ(events.size(), 2u) << process.standardError;
  EXPECT_EQ(events[0].value("kind", ""), "build");
  EXPECT_EQ(events[1].value("id", ""), "nap");
  EXPECT_EQ(events[1].value("status", ""), "ok");
  EXPECT_EQ(events[1].value("index", 0), 1);
  EXPECT_EQ(events[1].value("total", 0), 1);
  EXPECT_EQ(events[1].value("median", 0.0), result.summary.median);
}

TEST(ProcessRunner, BuildsRunInParallel) {
  TestFolder folder("parallel");
  ProcessPlan plan;
  plan.parallelBuilds = 3;
  for (const std::string id : {"a", "b", "c"}) {
    ProcessBuild build;
    build.id = id;
    build.argv = {"sleep", "0.4"};
    plan.builds.push_back(build);
  }
  SubprocessResult process;
  auto results = runPlan(folder, plan, &process);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& [id, result] : results) {
    EXPECT_EQ(result.status, MeasureStatus::kOk) << id;
    EXPECT_GE(result.seconds, 0.4) << id;
  }
  EXPECT_LT(process.wallSeconds, 1.0) << "three 0.4 s builds with parallel_builds 3 ran one after another";
}

TEST(ProcessRunner, CrashWrongOutputAndUnknownProgram) {
  TestFolder folder("crash");
  ProcessPlan plan;
  plan.parallelBuilds = 2;
  plan.builds.push_back(compile("segfault", "segfault.c", "segfault"));
  plan.builds.push_back(compile("check", "check_failed.c", "check_failed"));
  plan.runs.push_back(quickRun("crash", "segfault", {"./segfault"}));
  plan.runs.push_back(quickRun("wrong", "check", {"./check_failed"}));
  plan.runs.push_back(quickRun("shouted", "check", {"./check_failed", "upper"}));
  plan.runs.push_back(quickRun("missing", "", {"./no-such-program"}));
  SubprocessResult process;
  auto results = runPlan(folder, plan, &process);
  EXPECT_EQ(process.exitCode, 1) << process.standardError;

  const ProcessResult& crash = results["crash"];
  EXPECT_EQ(crash.status, MeasureStatus::kRunFailed);
  EXPECT_EQ(crash.signal, 11);
  EXPECT_EQ(crash.exitCode, -1);
  EXPECT_NE(crash.message.find("killed by signal 11 (Segmentation fault)"), std::string::npos)
      << crash.message;
  EXPECT_EQ(crash.stdoutExcerpt, "about to crash\n");
  EXPECT_EQ(crash.repetitions, 0);  // the warm-up crashed: nothing more ran

  const ProcessResult& wrong = results["wrong"];
  EXPECT_EQ(wrong.status, MeasureStatus::kWrongOutput);
  EXPECT_EQ(wrong.selfCheck, SelfCheck::kFailed);
  EXPECT_NE(wrong.message.find("expected 42, got 41"), std::string::npos) << wrong.message;
  EXPECT_EQ(results["shouted"].status, MeasureStatus::kWrongOutput);
  EXPECT_EQ(results["shouted"].selfCheck, SelfCheck::kFailed);

  const ProcessResult& missing = results["missing"];
  EXPECT_EQ(missing.status, MeasureStatus::kRunFailed);
  EXPECT_NE(missing.message.find("no-such-program"), std::string::npos) << missing.message;
}

TEST(ProcessRunner, TimeoutKillsTheWholeProcessGroup) {
  TestFolder folder("timeout");
  ProcessPlan plan;
  plan.builds.push_back(compile("hang", "hang.c", "hang"));
  ProcessRun run = quickRun("hang", "hang", {"./hang", folder.file("grandchild.pid")});
  run.timeoutSeconds = 1;
  plan.runs.push_back(run);
  SubprocessResult process;
  auto results = runPlan(folder, plan, &process);
  const ProcessResult& result = results["hang"];
  EXPECT_EQ(result.status, MeasureStatus::kRunTimeout) << result.message;
  EXPECT_NE(result.message.find("timed out after 1 s"), std::string::npos) << result.message;
  EXPECT_GE(result.wallSeconds, 1.0);
  EXPECT_LT(result.wallSeconds, 2.0);
  EXPECT_LT(process.wallSeconds, 8.0);  // the compile, one timeout and some slack on a loaded machine

  const std::string pidText = readText(folder.file("grandchild.pid"));
  ASSERT_FALSE(pidText.empty());
  const pid_t grandchild = std::stoi(pidText);
  ASSERT_GT(grandchild, 1);
  EXPECT_FALSE(processExists(grandchild))
      << "the forked grandchild " << grandchild << " survived the timeout";
}

TEST(ProcessRunner, FailedAndHangingBuildsSkipTheirRuns) {
  TestFolder folder("builds");
  ProcessPlan plan;
  plan.parallelBuilds = 2;
  plan.builds.push_back(compile("broken", "syntax_error.c", "broken"));
  ProcessBuild hanging;
  hanging.id = "hanging";
  hanging.argv = {"sleep", "30"};
  hanging.timeoutSeconds = 1;
  plan.builds.push_back(hanging);
  plan.builds.push_back(compile("fine", "sleeper.c", "sleeper"));
  plan.runs.push_back(quickRun("needs_broken", "broken", {"./broken"}));
  plan.runs.push_back(quickRun("needs_hanging", "hanging", {"./hanging"}));
  plan.runs.push_back(quickRun("needs_fine", "fine", {"./sleeper", "1"}));
  SubprocessResult process;
  const auto started = std::chrono::steady_clock::now();
  auto results = runPlan(folder, plan, &process);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(process.exitCode, 1);
  EXPECT_LT(seconds, 10.0);

  const ProcessResult& broken = results["build:broken"];
  EXPECT_EQ(broken.status, MeasureStatus::kBuildFailed);
  EXPECT_EQ(broken.exitCode, 1);
  EXPECT_NE(broken.message.find("syntax_error.c:3:"), std::string::npos) << broken.message;
  EXPECT_NE(broken.standardError.find("syntax_error.c:3:"), std::string::npos);
  EXPECT_EQ(results["needs_broken"].status, MeasureStatus::kBuildFailed);
  EXPECT_NE(results["needs_broken"].message.find("syntax_error.c:3:"), std::string::npos);
  EXPECT_EQ(results["needs_broken"].repetitions, 0);

  const ProcessResult& hung = results["build:hanging"];
  EXPECT_EQ(hung.status, MeasureStatus::kBuildTimeout);
  EXPECT_GE(hung.seconds, 1.0);
  EXPECT_LT(hung.seconds, 2.5);
  EXPECT_EQ(results["needs_hanging"].status, MeasureStatus::kBuildTimeout);

  EXPECT_EQ(results["build:fine"].status, MeasureStatus::kOk);
  EXPECT_EQ(results["needs_fine"].status, MeasureStatus::kOk);
}

TEST(ProcessRunner, ResumeAfterAKillSkipsCompleteLines) {
  TestFolder folder("resume");
  ProcessPlan plan;
  ProcessBuild build;
  build.id = "counter";
  // The build counts itself too, so a repeated build would show.
  build.argv = {"sh", "-c", "echo build >> build_count.txt && cc -O1 \"$0\" -o counter",
                processInput("counter.c")};
  plan.builds.push_back(build);
  for (const std::string id : {"r1", "r2", "r3"}) {
    ProcessRun run = quickRun(id, "counter", {"./counter", folder.file(id + ".count"), "hello " + id});
    run.warmup = 0;
    run.minTimeSeconds = 0;
    run.minRepetitions = 1;
    run.maxRepetitions = 1;
    plan.runs.push_back(run);
  }
  auto first = runPlan(folder, plan);
  ASSERT_EQ(first.size(), 4u);
  const std::string results = folder.file("results.jsonl");
  const std::string text = readText(results);

  // Keep two complete lines (the build and r1) and half of the third, as a kill -9 mid-write would.
  const std::size_t secondEnd = text.find('\n', text.find('\n') + 1) + 1;
  const std::size_t thirdEnd = text.find('\n', secondEnd) + 1;
  const std::string kept = text.substr(0, secondEnd) + text.substr(secondEnd, (thirdEnd - secondEnd) / 2);
  std::ofstream(results, std::ios::trunc) << kept;
  for (const std::string id : {"r1", "r2", "r3"}) fs::remove(folder.file(id + ".count"));

  // Without --resume an existing results file is refused rather than overwritten.
  SubprocessResult refused = runRunner({"--plan", folder.file("plan.json"), "--results", results});
  EXPECT_EQ(refused.exitCode, 2);
  EXPECT_NE(refused.standardError.find("--resume"), std::string::npos) << refused.standardError;

  SubprocessResult resumed =
      runRunner({"--plan", folder.file("plan.json"), "--results", results, "--resume"});
  EXPECT_EQ(resumed.exitCode, 0) << resumed.standardError;
  EXPECT_NE(resumed.standardError.find("dropped an unfinished last line"), std::string::npos);
  EXPECT_NE(resumed.standardError.find("[run 3/3] r3 ok median"), std::string::npos) << resumed.standardError;
  const std::string firstRun = text.substr(text.find('\n') + 1, secondEnd - text.find('\n') - 1);
  const std::string firstRunId = nlohmann::json::parse(firstRun).at("id").get<std::string>();
  EXPECT_EQ(countLines(folder.file("build_count.txt")), 1) << "the build was redone";
  for (const std::string id : {"r1", "r2", "r3"}) {
    const bool skipped = id == firstRunId;
    EXPECT_EQ(fs::exists(folder.file(id + ".count")), !skipped) << id;
    if (!skipped) {
      EXPECT_EQ(countLines(folder.file(id + ".count")), 1) << id;
    }
  }

  const std::string after = readText(results);
  EXPECT_EQ(after.substr(0, secondEnd), text.substr(0, secondEnd));
  EXPECT_EQ(after.back(), '\n');
  std::vector<ProcessResult> lines;
  std::string error;
  ASSERT_TRUE(runner::readProcessResults(results, lines, error)) << error;
  std::multiset<std::string> ids;
  for (const auto& line : lines) ids.insert(line.id);
  EXPECT_EQ(ids, (std::multiset<std::string>{"counter", "r1", "r2", "r3"}));
  EXPECT_EQ(countLines(results), 4);
}

TEST(ProcessRunner, StdoutDigestIgnoresTimerLinesAndSpotsChanges) {
  TestFolder folder("digest");
  ProcessPlan plan;
  plan.builds.push_back(compile("counter", "counter.c", "counter"));
  plan.builds.push_back(compile("region", "region_timer.c", "region_timer"));
  auto counterRun = [&](const std::string& id, const std::string& text, bool printCount) {
    ProcessRun run = quickRun(id, "counter", {"./counter", folder.file(id + ".count"), text});
    if (printCount) run.argv.push_back("--print-count");
    run.minTimeSeconds = 0;
    run.minRepetitions = 3;
    return run;
  };
  plan.runs = {counterRun("hello_a", "hello", false), counterRun("hello_b", "hello", false),
               counterRun("world", "world", false), counterRun("changing", "hello", true)};
  plan.runs.push_back(quickRun("fast", "region", {"./region_timer", "0.001", "1"}));
  plan.runs.push_back(quickRun("slow", "region", {"./region_timer", "0.002", "3"}));
  auto results = runPlan(folder, plan);

  EXPECT_EQ(results["hello_a"].stdoutSha256, sha256Hex("hello\n"));
  EXPECT_EQ(results["hello_a"].stdoutExcerpt, "hello\n");
  EXPECT_EQ(results["hello_a"].stdoutSha256, results["hello_b"].stdoutSha256);
  EXPECT_NE(results["hello_a"].stdoutSha256, results["world"].stdoutSha256);
  EXPECT_TRUE(results["hello_a"].stdoutStable);

  EXPECT_EQ(results["changing"].status, MeasureStatus::kOk);
  EXPECT_FALSE(results["changing"].stdoutStable);
  // The digest is the first measured repetition's: the warm-up was run number 1.
  EXPECT_EQ(results["changing"].stdoutExcerpt, "hello\nrun number 2\n");

  const std::string expected = "result 12345\nmirtune-check: ok\n";
  EXPECT_EQ(results["fast"].stdoutSha256, sha256Hex(expected));
  EXPECT_EQ(results["fast"].stdoutSha256, results["slow"].stdoutSha256);
  EXPECT_EQ(results["slow"].stdoutExcerpt, expected);
  EXPECT_NEAR(results["slow"].summary.median, 0.006, 1e-12);
}

TEST(ProcessRunner, SigtermKillsTheChildGroupAndWritesNoPartialLine) {
  TestFolder folder("sigterm");
  ProcessPlan plan;
  plan.builds.push_back(compile("hang", "hang.c", "hang"));
  ProcessRun run = quickRun("hang", "hang", {"./hang", folder.file("grandchild.pid")});
  run.timeoutSeconds = 60;
  plan.runs.push_back(run);
  const std::string planPath = writePlan(folder, plan);
  const std::string results = folder.file("results.jsonl");

  const std::string executable = runnerExecutable().string();
  const pid_t runnerPid = ::fork();
  ASSERT_GE(runnerPid, 0);
  if (runnerPid == 0) {
    const int devNull = ::open("/dev/null", O_WRONLY);
    ::dup2(devNull, STDERR_FILENO);
    ::execl(executable.c_str(), executable.c_str(), "process", "--plan", planPath.c_str(), "--results",
            results.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string pidFile = folder.file("grandchild.pid");
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (readText(pidFile).find('\n') == std::string::npos && std::chrono::steady_clock::now() < giveUp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(readText(pidFile).find('\n'), std::string::npos) << "the program never started";
  const pid_t grandchild = std::stoi(readText(pidFile));
  ASSERT_EQ(::kill(runnerPid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(runnerPid, &status, 0), runnerPid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  // The grandchild was re-parented to the runner and reaped before it exited; allow the kernel a moment.
  for (int i = 0; i < 100 && processExists(grandchild); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(processExists(grandchild));

  const std::string text = readText(results);
  EXPECT_EQ(countLines(results), 1) << text;  // the build's line only
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find("\"kind\":\"run\""), std::string::npos) << text;
}

/// The pids listed one per line in `path`.
std::vector<pid_t> pidsIn(const std::string& path) {
  std::vector<pid_t> pids;
  std::ifstream in(path);
  for (long pid; in >> pid;) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

/// Whether `pid` is a live process (a zombie counts as ended) still running the escape test program.
bool escapeProgramAlive(pid_t pid) {
  return testing::readProcFile("/proc/" + std::to_string(pid) + "/cmdline").find("escape") !=
         std::string::npos;
}

TEST(ProcessRunner, AProgramThatLeavesItsProcessGroupDoesNotHoldUpTheRun) {
  TestFolder folder("escape");
  ProcessPlan plan;
  plan.builds.push_back(compile("escape", "escape.c", "escape"));
  auto escapeRun = [&](const std::string& mode) {
    ProcessRun run = quickRun(mode, "escape", {"./escape", folder.file(mode + ".pids"), mode, "30"});
    run.timeoutSeconds = 20;
    run.warmup = 1;
    run.minTimeSeconds = 0;
    run.minRepetitions = 3;
    run.maxRepetitions = 3;
    return run;
  };
  plan.runs = {escapeRun("hold"), escapeRun("detach")};
  SubprocessResult process;
  auto results = runPlan(folder, plan, &process);
  std::vector<pid_t> leftBehind = pidsIn(folder.file("hold.pids"));
  const std::vector<pid_t> detached = pidsIn(folder.file("detach.pids"));
  leftBehind.insert(leftBehind.end(), detached.begin(), detached.end());
  // Whatever the outcome, nothing of this test may sleep on.
  struct Cleanup {
    const std::vector<pid_t>& pids;
    ~Cleanup() {
      for (pid_t pid : pids) {
        if (escapeProgramAlive(pid)) ::kill(pid, SIGKILL);
      }
    }
  } cleanup{leftBehind};

  // A child in a session of its own still holds stdout: the run takes the program's time (a few ms per
  // repetition) and a moment to find and kill the holder, not the 20 s timeout nor a long grace per
  // repetition.
  const ProcessResult& hold = results["hold"];
  EXPECT_EQ(hold.status, MeasureStatus::kOk) << hold.message;
  EXPECT_EQ(hold.repetitions, 3);
  EXPECT_LT(hold.wallSeconds, 3.0) << hold.message;
  EXPECT_EQ(hold.stdoutExcerpt.rfind("left ", 0), 0u) << hold.stdoutExcerpt;
  EXPECT_NE(hold.message.find("4 of 4 repetitions left processes outside their process group"),
            std::string::npos)
      << hold.message;
  EXPECT_NE(hold.message.find("(escape) kept its output open"), std::string::npos) << hold.message;

  // A child that let go of the output does not delay the run, but it would overlap the next repetition.
  const ProcessResult& detach = results["detach"];
  EXPECT_EQ(detach.status, MeasureStatus::kOk) << detach.message;
  EXPECT_LT(detach.wallSeconds, 3.0) << detach.message;
  EXPECT_NE(detach.message.find("(escape) still ran after it exited"), std::string::npos) << detach.message;

  ASSERT_EQ(leftBehind.size(), 8u) << process.standardError;  // two runs of one warm-up and 3 repetitions
  for (pid_t pid : leftBehind) {
    for (int i = 0; i < 100 && escapeProgramAlive(pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(escapeProgramAlive(pid)) << "pid " << pid << " outlived its run";
  }
}

TEST(ProcessRunner, ParentPidStopsARunnerWhoseStarterIsGoneButNotOneBehindAWrapper) {
  TestFolder folder("gone");
  ProcessPlan plan;
  ProcessRun run = quickRun("sleep", "", {"sleep", "0.01"});
  plan.runs.push_back(run);
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(gone, &status, 0), gone);
  SubprocessResult process = runRunner({"--plan", writePlan(folder, plan), "--results",
                                        folder.file("results.jsonl"), "--parent-pid", std::to_string(gone)});
  EXPECT_EQ(process.exitCode, 128 + SIGTERM) << process.standardError;
  EXPECT_EQ(countLines(folder.file("results.jsonl")), 0);

  // A wrapper script in between (one that does not exec the runner) leaves the starter an ancestor: the
  // runner goes on.
  SubprocessOptions wrapped;
  wrapped.argv = {"sh",
                  "-c",
                  "\"$0\" process --plan \"$1\" --results \"$2\" --parent-pid \"$3\"; exit $?",
                  runnerExecutable().string(),
                  folder.file("plan.json"),
                  folder.file("wrapped.jsonl"),
                  std::to_string(::getpid())};
  wrapped.timeoutSeconds = 60;
  auto viaWrapper = runSubprocess(wrapped);
  ASSERT_TRUE(viaWrapper.ok()) << viaWrapper.error().message();
  EXPECT_EQ(viaWrapper->exitCode, 0) << viaWrapper->describe() << "\n" << viaWrapper->standardError;
  EXPECT_EQ(countLines(folder.file("wrapped.jsonl")), 1);

  process = runRunner(
      {"--plan", folder.file("plan.json"), "--results", folder.file("other.jsonl"), "--timeout", "5"});
  EXPECT_EQ(process.exitCode, 2);
  EXPECT_NE(process.standardError.find("process takes no --timeout"), std::string::npos)
      << process.standardError;
}

TEST(ProcessRunner, InvalidPlanNamesFileAndKey) {
  TestFolder folder("invalid");
  const std::string planPath = folder.file("plan.json");
  std::ofstream(planPath) << R"({"version": 1, "runs": [{"id": "a", "argv": ["true"], "min_time_s": 1}]})";
  SubprocessResult process = runRunner({"--plan", planPath, "--results", folder.file("r.jsonl")});
  EXPECT_EQ(process.exitCode, 2);
  EXPECT_NE(process.standardError.find(planPath + ": runs[0].min_time_s"), std::string::npos)
      << process.standardError;

  std::ofstream(planPath) << "{\"version\": 1,\n \"runs\": [}\n";
  process = runRunner({"--plan", planPath, "--results", folder.file("r.jsonl")});
  EXPECT_EQ(process.exitCode, 2);
  EXPECT_NE(process.standardError.find("line 2"), std::string::npos) << process.standardError;
}

}  // namespace
}  // namespace mirtune
