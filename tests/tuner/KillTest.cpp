// Fault injection: tuning sessions (`mirtune omp`, process plans) and OpenCL runs (`mirtune devmap --run`)
// killed with SIGKILL at seeded random moments, at every level: mirtune itself, its `mirtune-run process`
// runner, the app being measured, and the `mirtune-run opencl` runner. After every kill each measurement
// stored before it is still there, unchanged and once; --resume finishes the session; and nothing the test
// started runs on.
#include "TunerTestSupport.h"
#include "common/TemporaryFolder.h"
#include "database/Database.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kDefaultSeed = 20240611;

/// The schedule's seed: fixed, so every run kills the same targets at the same offsets; MIRTUNE_KILL_SEED
/// explores others.
std::uint64_t seed() {
  const char* text = std::getenv("MIRTUNE_KILL_SEED");
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : kDefaultSeed;
}
constexpr int kMinimumKills = 20;
/// Kills of the measured app in one run of a session.
constexpr int kAppKillsPerRun = 3;
/// What is killed. Each kind is drawn several times; the order and the moments come from the seed.
enum class Target { kOmpMirtune, kProcessRunner, kApp, kDevmapMirtune, kOpenClRunner };

std::string targetName(Target target) {
  switch (target) {
    case Target::kOmpMirtune:
      return "mirtune omp";
    case Target::kProcessRunner:
      return "mirtune-run process";
    case Target::kApp:
      return "the measured app";
    case Target::kDevmapMirtune:
      return "mirtune devmap --run";
    case Target::kOpenClRunner:
      return "mirtune-run opencl";
  }
  return "?";
}

/// The seeded stream of choices: mt19937_64's output is fixed by the standard (its distributions are not),
/// so the same seed gives the same schedule on every machine.
class Choices {
 public:
  explicit Choices(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  ///< in [0, 1)
  std::size_t below(std::size_t n) { return std::min(n - 1, static_cast<std::size_t>(uniform() * n)); }

 private:
  std::mt19937_64 engine_;
};

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A mirtune started in the background with its output in files, so the test can kill it when it likes.
class Mirtune {
 public:
  Mirtune(const std::vector<std::string>& arguments, const fs::path& logBase, const fs::path& tmp)
      : out_(logBase.string() + ".out"), err_(logBase.string() + ".err") {
    std::vector<std::string> argv = {MIRTUNE_EXECUTABLE};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    std::vector<char*> pointers;
    for (auto& arg : argv) pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    const std::string outPath = out_.string();
    const std::string errPath = err_.string();
    const std::string tmpPath = tmp.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      // Temporary folders (an OpenCL run's plans) inside the test's folder, so the leftover scan sees them.
      ::setenv("TMPDIR", tmpPath.c_str(), 1);
      ::setenv("MIRTUNE_RUNNER", MIRTUNE_RUN_EXECUTABLE, 1);
      ::setenv("OMP_WAIT_POLICY", "passive", 1);
      ::execv(pointers[0], pointers.data());
      ::_exit(127);
    }
    started_ = Clock::now();
  }
  ~Mirtune() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait(10);
    }
  }
  Mirtune(const Mirtune&) = delete;
  Mirtune& operator=(const Mirtune&) = delete;

  pid_t pid() const { return pid_; }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

  /// Whether it still runs; reaps it when it has ended.
  bool running() {
    if (reaped_ || pid_ <= 0) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
  }
  /// Waits up to `seconds` for it to end; false when it is still running then.
  bool wait(double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (running() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return !running();
  }
  int exitCode() const { return reaped_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }
  bool killed() const { return reaped_ && WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL; }
  std::string standardOutput() const { return readText(out_); }
  std::string standardError() const { return readText(err_); }

 private:
  fs::path out_;
  fs::path err_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  Clock::time_point started_;
};

/// Processes whose executable lies inside `folder` (the app binaries a tuning session builds).
std::vector<pid_t> processesRunningFrom(const std::string& folder) {
  std::vector<pid_t> found;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code error;
    const std::string exe = fs::read_symlink(entry.path() / "exe", error).string();
    if (!error && exe.rfind(folder, 0) == 0) found.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return found;
}

/// Every stored measurement by id (empty before the database exists).
std::map<std::int64_t, MeasurementRecord> storedMeasurements(const fs::path& db) {
  std::map<std::int64_t, MeasurementRecord> rows;
  if (!fs::exists(db)) return rows;
  auto database = Database::open(db, Database::OpenMode::kExisting);
  if (!database.ok()) {
    ADD_FAILURE() << db << ": " << database.error().message();
    return rows;
  }
  auto all = database->listMeasurements();
  EXPECT_TRUE(all.ok()) << (all.ok() ? "" : all.error().message());
  if (all.ok()) {
    for (auto& row : *all) rows[row.id] = std::move(row);
  }
  return rows;
}

/// Every row of `before` is in `after` unchanged, and no session holds a configuration twice.
void expectKept(const std::map<std::int64_t, MeasurementRecord>& before,
                const std::map<std::int64_t, MeasurementRecord>& after, const std::string& when) {
  for (const auto& [id, row] : before) {
    auto found = after.find(id);
    if (found == after.end()) {
      ADD_FAILURE() << when << ": measurement " << id << " (" << row.configuration.dump() << ") is gone";
      continue;
    }
    EXPECT_EQ(found->second.configurationSha256, row.configurationSha256) << when << ": row " << id;
    EXPECT_EQ(found->second.status, row.status) << when << ": row " << id;
    EXPECT_EQ(found->second.timesSeconds, row.timesSeconds) << when << ": row " << id;
    EXPECT_EQ(found->second.medianSeconds, row.medianSeconds) << when << ": row " << id;
  }
  std::set<std::pair<std::int64_t, std::string>> seen;
  for (const auto& [id, row] : after) {
    EXPECT_TRUE(seen.insert({row.sessionId, row.configurationSha256}).second)
        << when << ": session " << row.sessionId << " holds " << row.configuration.dump() << " twice";
  }
}

class KillTest : public ::testing::Test {
 protected:
  TemporaryFolder root_{"mirtune-kill", "test"};
  std::uint64_t seed_ = seed();
  Choices choices_{seed_};
  int kills_ = 0;
  std::map<Target, int> killsOf_;
  int started_ = 0;

  fs::path tmp() const { return root_.path() / "tmp"; }

  void SetUp() override { fs::create_directories(tmp()); }
  void TearDown() override { testing::killAllMentioning(root_.path().string(), true); }

  std::unique_ptr<Mirtune> start(const std::vector<std::string>& arguments) {
    return std::make_unique<Mirtune>(arguments, root_.path() / fmt::format("run-{}", ++started_), tmp());
  }

  /// Nothing the test started may run on once its mirtune has ended (a compiler a killed build left may
  /// take a moment to finish by itself).
  void expectNothingLeft(const std::string& when) {
    const auto left = testing::survivorsAfter(10, root_.path().string(), true);
    if (left.empty()) return;
    std::string listing;
    for (pid_t pid : left) {
      std::string cmdline = testing::readProcFile("/proc/" + std::to_string(pid) + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      listing += fmt::format("\n  {}: {}", pid, cmdline);
    }
    ADD_FAILURE() << when << ": processes left running:" << listing;
    testing::killAllMentioning(root_.path().string(), true);
  }

  /// Waits until `find` names a process or `mirtune` ends, then kills the first one named; true when a kill
  /// landed.
  template <typename Find>
  bool killWhenFound(Mirtune& mirtune, Find find) {
    while (mirtune.running()) {
      for (pid_t pid : find()) {
        if (::kill(pid, SIGKILL) == 0) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  void counted(Target target, bool landed) {
    if (!landed) return;
    ++kills_;
    ++killsOf_[target];
  }
};

/// One tuning session's folder and command line; a session ends when a run of it exits 0.
struct OmpSession {
  fs::path folder;
  bool begun = false;  ///< a run of it has started, so --resume may find something to continue

  std::vector<std::string> arguments(bool resume) const {
    std::vector<std::string> all = {"--db",
                                    (folder / "mirtune.db").string(),
                                    "omp",
                                    "--app",
                                    (fs::path(MIRTUNE_TEST_INPUTS) / "omp" / "tiny_sum.c").string(),
                                    "--args",
                                    "50000",
                                    "--strategy",
                                    "exhaustive",
                                    "--space",
                                    "small",
                                    "--min-time",
                                    "0.01",
                                    "--min-repetitions",
                                    "2",
                                    "--max-repetitions",
                                    "2",
                                    "--work-dir",
                                    (folder / "work").string(),
                                    "--json"};
    if (resume) all.push_back("--resume");
    return all;
  }
  std::string work() const { return (folder / "work").string(); }
  fs::path db() const { return folder / "mirtune.db"; }
};

TEST_F(KillTest, EveryProcessKilledAtRandomMomentsLosesNoMeasurementAndLeavesNothingRunning) {
  std::string noOpenCl;
  const bool openCl = !testing::devicesOrReason(noOpenCl).empty();

  // An undisturbed session first: how many configurations a session measures, and how long it takes.
  int sessionCount = 0;
  auto newSession = [&] {
    OmpSession session{root_.path() / fmt::format("session-{}", ++sessionCount)};
    fs::create_directories(session.folder);
    return session;
  };
  OmpSession session = newSession();
  std::size_t configurations = 0;
  double sessionSeconds = 0;
  {
    auto baseline = start(session.arguments(false));
    ASSERT_TRUE(baseline->wait(120)) << "the undisturbed session did not finish";
    ASSERT_EQ(baseline->exitCode(), 0) << baseline->standardError();
    sessionSeconds = baseline->seconds();
    auto json = nlohmann::json::parse(baseline->standardOutput());
    configurations = json["results"].size();
    ASSERT_GT(configurations, 4u);
    expectNothingLeft("after the undisturbed session");
  }

  // A finished session measured every configuration once, in one database session: `id`, or the latest.
  auto expectCompleteIn = [&](const OmpSession& finished, std::optional<std::int64_t> id = {}) {
    const auto rowsById = storedMeasurements(finished.db());
    if (!id) {
      id = 0;
      for (const auto& [rowId, row] : rowsById) id = std::max(*id, row.sessionId);
    }
    std::set<std::string> distinct;
    std::size_t rows = 0;
    for (const auto& [rowId, row] : rowsById) {
      if (row.sessionId != *id) continue;
      ++rows;
      distinct.insert(row.configurationSha256);
    }
    EXPECT_EQ(rows, configurations) << finished.folder;
    EXPECT_EQ(distinct.size(), configurations) << finished.folder;
  };
  auto expectComplete = [&](Mirtune& run, const OmpSession& finished) {
    auto json = nlohmann::json::parse(run.standardOutput(), nullptr, false);
    ASSERT_TRUE(json.is_object()) << run.standardOutput() << run.standardError();
    EXPECT_EQ(json["results"].size(), configurations);
    expectCompleteIn(finished, json.value("session", std::int64_t{0}));
  };

  // The schedule: every kind of target several times, in a seeded order.
  std::vector<Target> schedule;
  for (int i = 0; i < 5; ++i) schedule.push_back(Target::kOmpMirtune);
  for (int i = 0; i < 4; ++i) schedule.push_back(Target::kProcessRunner);
  for (int i = 0; i < 3; ++i) schedule.push_back(Target::kApp);
  if (openCl) {
    for (int i = 0; i < 2; ++i) schedule.push_back(Target::kDevmapMirtune);
    for (int i = 0; i < 3; ++i) schedule.push_back(Target::kOpenClRunner);
  } else {
    for (int i = 0; i < 3; ++i) schedule.push_back(Target::kOmpMirtune);
  }
  for (std::size_t i = schedule.size(); i > 1; --i) std::swap(schedule[i - 1], schedule[choices_.below(i)]);

  session = newSession();
  const fs::path devmapDb = root_.path() / "devmap.db";
  // One run with one kill of `target` at a seeded moment; `landed` says whether a kill hit (a target that
  // never showed up, as the session ended first, is tried again in another run).
  auto killOnce = [&](Target target, bool& landed) {
    const double fraction = choices_.uniform();
    landed = false;
    if (target == Target::kDevmapMirtune || target == Target::kOpenClRunner) {
      const auto before = storedMeasurements(devmapDb);
      auto run =
          start({"--db", devmapDb.string(), "devmap",
                 (fs::path(MIRTUNE_TEST_INPUTS) / "devmap" / "spin.cl").string(), "--run", "--global", "64",
                 "--timeout", "1", "--no-cache", "--heads", (root_.path() / "no-heads").string(), "--json"});
      if (target == Target::kDevmapMirtune) {
        // Anywhere from start-up to the end of the 1 s kernel limit.
        run->wait(2.5 * fraction);
        landed = run->running() && ::kill(run->pid(), SIGKILL) == 0;
      } else {
        // While the runner builds or spins in the kernel.
        const std::string marker = std::string("opencl\0--plan\0", 14) + tmp().string();
        landed = killWhenFound(*run, [&] {
          if (testing::processesMentioning(marker).empty()) return std::vector<pid_t>{};
          std::this_thread::sleep_for(std::chrono::duration<double>(1.2 * fraction));
          return testing::processesMentioning(marker);
        });
      }
      ASSERT_TRUE(run->wait(60)) << targetName(target) << ": mirtune did not end";
      const auto after = storedMeasurements(devmapDb);
      expectKept(before, after, "after killing " + targetName(target));
      if (target == Target::kOpenClRunner && landed) {
        // The killed runner is a result of its own: a run that failed (or timed out, if it had just
        // written its result).
        EXPECT_EQ(after.size(), before.size() + 1) << run->standardError();
        if (!after.empty()) {
          const MeasurementRecord& row = after.rbegin()->second;
          EXPECT_TRUE(row.status == MeasureStatus::kRunFailed || row.status == MeasureStatus::kRunTimeout)
              << measureStatusName(row.status);
        }
      }
      expectNothingLeft("after killing " + targetName(target));
      counted(target, landed);
      return;
    }

    const auto before = storedMeasurements(session.db());
    // --resume continues what an earlier run of this session began.
    const bool resuming = session.begun;
    auto run = start(session.arguments(resuming));
    run->wait(sessionSeconds * fraction);
    switch (target) {
      case Target::kOmpMirtune:
        landed = run->running() && ::kill(run->pid(), SIGKILL) == 0;
        break;
      case Target::kProcessRunner: {
        const std::string marker = std::string("process\0--plan\0", 15) + session.work();
        landed = killWhenFound(*run, [&] { return testing::processesMentioning(marker); });
        break;
      }
      case Target::kApp:
        // The session goes on after a killed app (its run is a failed result), so one run takes several.
        for (int kill = 0; kill < kAppKillsPerRun && run->running(); ++kill) {
          if (kill > 0) run->wait(0.3 * choices_.uniform());
          if (!killWhenFound(*run, [&] { return processesRunningFrom(session.work()); })) break;
          if (kill > 0) counted(target, true);
          landed = true;
        }
        break;
      default:
        break;
    }
    ASSERT_TRUE(run->wait(120)) << targetName(target) << ": mirtune did not end";
    expectKept(before, storedMeasurements(session.db()), "after killing " + targetName(target));
    expectNothingLeft("after killing " + targetName(target));
    counted(target, landed);
    const std::string said = run->standardError();
    if (run->exitCode() == 0) {
      expectComplete(*run, session);
      session = newSession();
    } else if (resuming && said.find("already finished") != std::string::npos) {
      // The kill came after the session was marked finished, before mirtune could print it.
      expectCompleteIn(session);
      session = newSession();
    } else {
      // "nothing to resume": the kill came before the session was recorded, so it starts afresh.
      session.begun = !(resuming && said.find("nothing to resume") != std::string::npos);
      if (!landed && !run->killed()) {
        EXPECT_TRUE(said.find("nothing to resume") != std::string::npos) << "mirtune failed: " << said;
      }
    }
  };
  for (const Target target : schedule) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      bool landed = false;
      killOnce(target, landed);
      if (HasFatalFailure()) return;
      if (landed) break;
    }
  }
  // Should the moments have missed often, more runs (of the cheap kinds) make up the minimum.
  const Target topUps[] = {Target::kOmpMirtune, Target::kProcessRunner, Target::kApp};
  for (int extra = 0; kills_ < kMinimumKills && extra < 40; ++extra) {
    bool landed = false;
    killOnce(topUps[choices_.below(3)], landed);
    if (HasFatalFailure()) return;
  }

  // The last session, resumed to its end (a resume nobody kills finishes, so once is enough).
  if (session.begun) {
    const auto before = storedMeasurements(session.db());
    auto run = start(session.arguments(true));
    ASSERT_TRUE(run->wait(120));
    const std::string said = run->standardError();
    if (run->exitCode() != 0 && said.find("already finished") != std::string::npos) {
      // The last kill came after the session was marked finished, before mirtune could print it.
      expectCompleteIn(session);
    } else {
      if (run->exitCode() != 0 && said.find("nothing to resume") != std::string::npos) {
        run = start(session.arguments(false));
        ASSERT_TRUE(run->wait(120));
      }
      ASSERT_EQ(run->exitCode(), 0) << run->standardError();
      expectComplete(*run, session);
    }
    expectKept(before, storedMeasurements(session.db()), "after the final resume");
    expectNothingLeft("after the final resume");
  }

  std::string perTarget;
  for (const auto& [target, count] : killsOf_) perTarget += fmt::format(", {} {}", count, targetName(target));
  std::printf("[ kills    ] survived %d SIGKILLs (seed %llu%s) over %d sessions of %zu configurations%s\n",
              kills_, static_cast<unsigned long long>(seed_), perTarget.c_str(), sessionCount, configurations,
              openCl ? "" : (" (no OpenCL: " + noOpenCl + ")").c_str());
  EXPECT_GE(kills_, kMinimumKills);
  for (Target target : {Target::kOmpMirtune, Target::kProcessRunner, Target::kApp}) {
    EXPECT_GE(killsOf_[target], 1) << targetName(target) << " was never killed";
  }
  if (openCl) {
    EXPECT_GE(killsOf_[Target::kOpenClRunner], 1) << "mirtune-run opencl was never killed";
  }
}

}  // namespace
}  // namespace mirtune
