// Tuning session: rounds of candidates -> plan files -> `mirtune-run process` -> checked results in SQLite.
#include "tuner/TuningSession.h"

#include "database/CanonicalJson.h"
#include "tuner/runner/ProcessPlan.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/OwnedFolder.h"
#include "support/Progress.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"
#include "tuner/IngestChecks.h"

#include <fmt/format.h>

#include <sys/file.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

namespace mirtune {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kStderrExcerptBytes = 4000;

Expected<nlohmann::json> readJsonFile(const fs::path& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded())
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: not valid JSON", path.string()));
  return json;
}

Status writeJsonFile(const fs::path& path, const nlohmann::json& json) {
  return writeFileAtomically(path, json.dump(2) + "\n");
}

// Holds an exclusive lock on <work>/lock for the whole session, so two processes never tune in one folder at
// once. The holder's PID is written into the file so a refused second process can name it; the kernel releases
// the lock when the holder dies, however it dies.
class FolderLock {
 public:
  ~FolderLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status acquire(const fs::path& folder) {
    const fs::path path = folder / "lock";
    fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) return Error(ErrorCode::kIo, fmt::format("cannot create {}", path.string()));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char buffer[32] = {};
      const ssize_t got = ::pread(fd_, buffer, sizeof buffer - 1, 0);
      std::string holder = got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : std::string();
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: this session is being measured by another mirtune process{}; wait for it to "
                               "finish (then --resume is not needed) or stop it and run again with --resume",
                               folder.string(), holder.empty() ? "" : " (PID " + holder + ")"));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      return Error(ErrorCode::kIo, fmt::format("cannot write {}", path.string()));
    }
    return {};
  }

 private:
  int fd_ = -1;
};

// Names of the entries a tuning session writes into its folder (besides the lock and the request's own files).
bool isSessionEntry(const std::string& name) {
  auto numbered = [&](std::string_view prefix, std::string_view suffix) {
    return name.size() > prefix.size() + suffix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "session.json" || name == "bin" || numbered("candidates-", ".json") ||
         numbered("plan-", ".json") || numbered("results-", ".jsonl") || (name[0] == '.' && name.find(".tmp") != std::string::npos);
}

std::string excerpt(const std::string& text) {
  if (text.size() <= kStderrExcerptBytes) return text;
  return "..." + text.substr(text.size() - kStderrExcerptBytes);
}

// The session's bookkeeping while it ingests result lines.
class Ingester {
 public:
  Ingester(Database& database, const TuningRequest& request, std::int64_t sessionId, std::int64_t workloadId,
           std::int64_t platformId)
      : database_(database),
        request_(request),
        sessionId_(sessionId),
        workloadId_(workloadId),
        platformId_(platformId) {}

  Status loadStored() {
    auto stored = database_.listMeasurements(sessionId_);
    if (!stored) return stored.error();
    for (const auto& record : *stored) storedHashes_.insert(record.configurationSha256);
    return {};
  }

  /// Ingests one run result for `configuration`; returns false when the configuration was already ingested.
  Expected<bool> ingest(const Configuration& configuration, const runner::ProcessResult& line) {
    const std::string hash = configurationHash(configuration);
    if (!ingested_.insert(hash).second) return false;
    TunedConfiguration tuned;
    tuned.configuration = configuration;
    auto status = parseMeasureStatus(runner::processStatusName(line.status));
    tuned.status = status ? *status : MeasureStatus::kRunFailed;
    tuned.message = line.message;
    tuned.timer =
        line.timer == runner::TimerMode::kAuto ? "" : std::string(runner::timerModeName(line.timer));
    tuned.times = line.times;
    tuned.wallPerRepetition = line.wallSeconds / std::max(1, line.warmup + line.repetitions);
    const bool isDefault = results_.empty();
    if (isDefault) {
      defaultDigest_ = line.stdoutSha256;
      defaultOk_ = tuned.status == MeasureStatus::kOk;
    } else if (tuned.status == MeasureStatus::kOk) {
      checkOutput(tuned, line.stdoutSha256, line.selfCheck);
    }
    if (tuned.status == MeasureStatus::kOk && !tuned.times.empty()) {
      tuned.median = line.summary.median;
      tuned.spread = line.summary.iqr;
    } else if (tuned.status == MeasureStatus::kOk) {
      tuned.status = MeasureStatus::kRunFailed;
      tuned.message = "the runner reported no measured repetition";
    }
    if (storedHashes_.count(hash)) {
      ++reused_;
    } else {
      MeasurementRecord record;
      record.sessionId = sessionId_;
      record.workloadId = workloadId_;
      record.platformId = platformId_;
      record.task = request_.task;
      record.configuration = configuration;
      record.status = tuned.status;
      record.timesSeconds = tuned.times;
      record.medianSeconds = tuned.median;
      record.spreadSeconds = tuned.spread;
      if (tuned.status != MeasureStatus::kOk) {
        std::string text = tuned.message;
        const std::string& stderrTail = line.standardError;
        if (!stderrTail.empty()) text += (text.empty() ? "" : "\n") + stderrTail;
        record.stderrExcerpt = excerpt(text);
      }
      auto id = database_.insertMeasurement(record);
      if (!id) return id.error();
      storedHashes_.insert(hash);
    }
    results_.push_back(std::move(tuned));
    return true;
  }

  std::vector<TunedConfiguration>& results() { return results_; }
  std::size_t reused() const { return reused_; }
  bool has(const std::string& hash) const { return ingested_.count(hash) > 0; }

  /// "best 1.42x over default" for the progress line.
  std::string bestNote() const {
    if (results_.empty() || !results_.front().median) return {};
    double best = 0;
    for (const auto& r : results_) {
      if (r.median && *r.median > 0) best = std::max(best, *results_.front().median / *r.median);
    }
    return fmt::format("best {:.2f}x over default", best);
  }

 private:
  void checkOutput(TunedConfiguration& tuned, const std::string& digest, runner::SelfCheck selfCheck) {
    if (request_.check == OutputCheck::kNone) return;
    if (request_.check == OutputCheck::kSelfCheckOrDigest && selfCheck == runner::SelfCheck::kOk) return;
    if (!defaultOk_) {
      tuned.message = "output not checked: the default configuration did not run correctly";
      return;
    }
    if (digest != defaultDigest_) {
      tuned.status = MeasureStatus::kWrongOutput;
      tuned.message = "its output differs from the default configuration's output (stdout digest)";
    }
  }

  Database& database_;
  const TuningRequest& request_;
  std::int64_t sessionId_;
  std::int64_t workloadId_;
  std::int64_t platformId_;
  std::set<std::string> storedHashes_;
  std::set<std::string> ingested_;
  std::vector<TunedConfiguration> results_;
  std::string defaultDigest_;
  bool defaultOk_ = false;
  std::size_t reused_ = 0;
};

struct RoundPlan {
  nlohmann::json plan;
  std::map<std::string, Configuration> runIds;  // run id -> configuration
  std::vector<std::string> runOrder;
  std::map<std::string, std::string> buildKeys;  // build id -> build key
};

std::vector<std::string> withBinary(std::vector<std::string> argv, const fs::path& binary) {
  for (auto& argument : argv) {
    if (argument == kBinaryPlaceholder) argument = binary.string();
  }
  return argv;
}

// Turns a round's candidates into a runner plan; builds already made by an earlier round are left out.
Expected<RoundPlan> makeRoundPlan(const TuningRequest& request, const std::vector<Configuration>& candidates,
                                  int round, const std::set<std::string>& builtKeys,
                                  std::optional<double> runTimeout = std::nullopt) {
  RoundPlan result;
  nlohmann::json builds = nlohmann::json::array();
  nlohmann::json runs = nlohmann::json::array();
  MeasurementSettings s = request.settings;
  if (runTimeout) s.runTimeoutSeconds = *runTimeout;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Configuration& configuration = candidates[i];
    auto commands = request.commands(configuration);
    if (!commands) return commands.error();
    const std::string buildName = sha256Hex(commands->buildKey).substr(0, 16);
    const fs::path binary = fs::path("bin") / buildName;
    const std::string runId =
        fmt::format("r{}-{}-{}", round, i, configurationHash(configuration).substr(0, 8));
    nlohmann::json run = {{"id", runId},
                          {"cwd", "."},
                          {"argv", withBinary(commands->runArgv, binary)},
                          {"env", commands->runEnvironment},
                          {"unset_env", commands->runUnsetEnvironment},
                          {"timeout_seconds", s.runTimeoutSeconds},
                          {"warmup", s.warmup},
                          {"min_time_seconds", s.minTimeSeconds},
                          {"min_repetitions", s.minRepetitions},
                          {"max_repetitions", s.maxRepetitions},
                          {"timer", s.timer}};
    if (!commands->buildKey.empty() && !builtKeys.count(commands->buildKey)) {
      const std::string buildId = "b-" + buildName;
      run["build"] = buildId;
      if (result.buildKeys.emplace(buildId, commands->buildKey).second) {
        builds.push_back({{"id", buildId},
                          {"cwd", "."},
                          {"argv", withBinary(commands->buildArgv, binary)},
                          {"env", commands->buildEnvironment},
                          {"timeout_seconds", s.buildTimeoutSeconds}});
      }
    }
    runs.push_back(std::move(run));
    result.runIds[runId] = configuration;
    result.runOrder.push_back(runId);
  }
  result.plan = {{"version", 1}, {"parallel_builds", s.parallelBuilds}, {"builds", builds}, {"runs", runs}};
  return result;
}

// The complete result lines of a runner's results file (an unfinished last line is ignored); none when the
// file does not exist yet.
Expected<std::vector<runner::ProcessResult>> readResults(const fs::path& path) {
  std::vector<runner::ProcessResult> results;
  if (!fs::exists(path)) return results;
  std::string error;
  if (!runner::readProcessResults(path.string(), results, error))
    return Error(ErrorCode::kInvalidInput, error);
  return results;
}

// Speedups over the default (the first result) and the fastest ok configuration.
void scoreResults(TuningResult& result) {
  if (result.results.empty()) return;
  const auto& baseline = result.results.front();
  for (std::size_t i = 0; i < result.results.size(); ++i) {
    auto& r = result.results[i];
    if (r.status != MeasureStatus::kOk || !r.median || *r.median <= 0) continue;
    if (baseline.status == MeasureStatus::kOk && baseline.median) r.speedup = *baseline.median / *r.median;
    if (!result.best || *r.median < *result.results[*result.best].median) result.best = i;
  }
}

SessionRecord sessionRecordFor(const TuningRequest& request, const fs::path& work, std::int64_t platformId) {
  SessionRecord session;
  session.toolVersion = std::string(toolVersion());
  session.gitCommit = std::string(gitCommit());
  session.command = request.command;
  session.options = request.options;
  session.options["work_directory"] = work.string();
  session.modelIds = request.modelIds;
  session.seed = request.seed;
  session.platformId = platformId;
  return session;
}

fs::path workDirectoryFor(const Database& database, const TuningRequest& request) {
  return request.workDirectory.empty() ? fs::absolute(database.path()).parent_path() / "tuning" /
                                             tuningSessionIdentity(request).substr(0, 16)
                                       : fs::absolute(request.workDirectory);
}

}  // namespace

TuningSessionState findTuningSession(const Database& database, const TuningRequest& request) {
  TuningSessionState found;
  found.workDirectory = workDirectoryFor(database, request);
  auto state = readJsonFile(found.workDirectory / "session.json");
  if (!state) return found;
  found.sessionId = state->value("session_id", std::int64_t{0});
  found.kind = state->value("ended", false) ? TuningSessionState::Kind::kFinished
                                            : TuningSessionState::Kind::kInterrupted;
  return found;
}

std::string tuningSessionIdentity(const TuningRequest& request) {
  const nlohmann::json identity = {
      {"task", request.task}, {"options", request.options}, {"workload", request.workload.contentSha256}};
  return canonicalJsonSha256(identity);
}

Expected<TuningResult> runTuningSession(Database& database, std::int64_t platformId,
                                        const std::string& platformFingerprint, const TuningRequest& request,
                                        const fs::path& runner) {
  if (!request.space || !request.commands || !request.planner) {
    return Error(ErrorCode::kInternal, "a tuning request needs a space, a command factory and a planner");
  }
  TuningResult result;
  const std::string identity = tuningSessionIdentity(request);
  result.workDirectory = workDirectoryFor(database, request);
  const fs::path& work = result.workDirectory;
  const fs::path stateFile = work / "session.json";

  // The folder is claimed (made, or known to be mirtune's) and locked before anything in it is read or removed:
  // a second process for the same session stops here, and nothing the user keeps in a folder is ever deleted.
  auto claimed = claimOwnedFolder(work, [&](const fs::path& folder) {
    // A session folder written before folders carried a marker: adopted when its state names this session.
    auto legacy = readJsonFile(folder / "session.json");
    return legacy && legacy->value("identity", std::string()) == identity;
  });
  if (!claimed) return claimed.error();
  FolderLock lock;
  if (auto locked = lock.acquire(work); !locked) return locked.error();

  nlohmann::json state;
  if (request.resume) {
    if (!fs::exists(stateFile)) {
      return Error(
          ErrorCode::kNotFound,
          fmt::format(
              "nothing to resume: no interrupted session of these options in {} (run without --resume)",
              work.string()));
    }
    auto loaded = readJsonFile(stateFile);
    if (!loaded) return loaded.error();
    state = *loaded;
    if (state.value("ended", false)) {
      return Error(
          ErrorCode::kInvalidInput,
          fmt::format(
              "the session in {} (session {}) already finished; run without --resume to measure again",
              work.string(), state.value("session_id", 0)));
    }
    const std::string recorded = state.value("platform_fingerprint", std::string());
    if (recorded != platformFingerprint && !request.force) {
      return Error(
          ErrorCode::kInvalidInput,
          fmt::format("the session in {} was measured on platform {} but this machine is {}; measurements "
                      "would not compare (use --force to resume anyway)",
                      work.string(), recorded.substr(0, 12), platformFingerprint.substr(0, 12)));
    }
    result.resumed = true;
    result.sessionId = state.value("session_id", std::int64_t{0});
  } else {
    if (fs::exists(stateFile)) {
      auto loaded = readJsonFile(stateFile);
      if (loaded && !loaded->value("ended", false)) {
        logWarn("starting over: an interrupted session of these options was in {} (--resume continues it)",
                work.string());
      }
    }
    // Only what a session writes is removed; the request's files are written anew below.
    auto removed = removeOwnedEntries(
        work, [&](const std::string& name) { return isSessionEntry(name) || request.files.count(name) > 0; });
    if (!removed) return removed.error();
  }
  if (auto bin = ensureRealSubfolder(work / "bin"); !bin) return bin.error();

  auto workloadId = database.upsertWorkload(request.workload);
  if (!workloadId) return workloadId.error();
  if (!result.resumed) {
    auto id = database.beginSession(sessionRecordFor(request, work, platformId));
    if (!id) return id.error();
    result.sessionId = *id;
    state = {{"session_id", *id},
             {"platform_fingerprint", platformFingerprint},
             {"identity", identity},
             {"ended", false}};
    if (auto written = writeJsonFile(stateFile, state); !written) return written.error();
    for (const auto& [name, content] : request.files) {
      if (auto written = writeFileAtomically(work / name, content); !written) return written.error();
    }
  }

  Ingester ingester(database, request, result.sessionId, *workloadId, platformId);
  if (auto loaded = ingester.loadStored(); !loaded) return loaded.error();
  std::set<std::string> builtKeys;

  for (int round = 1;; ++round) {
    const fs::path candidatesFile = work / fmt::format("candidates-{}.json", round);
    std::vector<Configuration> candidates;
    if (fs::exists(candidatesFile)) {
      auto saved = readJsonFile(candidatesFile);
      if (!saved) return saved.error();
      candidates = saved->get<std::vector<Configuration>>();
    } else {
      if (round == 1) {
        candidates = {request.space->defaultConfiguration()};
      } else {
        auto next = request.planner(ingester.results());
        if (!next) return next.error();
        candidates = std::move(*next);
      }
      // A configuration measured in an earlier round is not measured again.
      candidates.erase(
          std::remove_if(candidates.begin(), candidates.end(),
                         [&](const Configuration& c) { return ingester.has(configurationHash(c)); }),
          candidates.end());
      if (auto written = writeJsonFile(candidatesFile, candidates); !written) return written.error();
    }
    if (candidates.empty()) break;
    for (const auto& c : candidates) {
      if (auto valid = request.space->validate(c); !valid) return valid.error();
    }

    // Later rounds may stop configurations far slower than the default (see relativeTimeout).
    std::optional<double> runTimeout;
    const MeasurementSettings& settings = request.settings;
    if (round > 1 && settings.relativeTimeout > 0 && !ingester.results().empty() &&
        ingester.results().front().status == MeasureStatus::kOk) {
      runTimeout =
          std::min(settings.runTimeoutSeconds,
                   std::max(settings.minRelativeTimeoutSeconds,
                            settings.relativeTimeout * ingester.results().front().wallPerRepetition));
    }
    auto roundPlan = makeRoundPlan(request, candidates, round, builtKeys, runTimeout);
    if (!roundPlan) return roundPlan.error();
    const fs::path planFile = work / fmt::format("plan-{}.json", round);
    const fs::path resultsFile = work / fmt::format("results-{}.jsonl", round);
    if (!fs::exists(planFile)) {
      if (auto written = writeJsonFile(planFile, roundPlan->plan); !written) return written.error();
    }

    ProgressLine progress(fmt::format("{} round {}", request.task, round), candidates.size());
    std::size_t consumed = 0;
    auto ingestNew = [&]() -> Status {
      auto lines = readResults(resultsFile);
      if (!lines) return lines.error();
      for (; consumed < lines->size(); ++consumed) {
        const auto& line = (*lines)[consumed];
        if (line.kind != runner::ProcessItemKind::kRun) continue;
        auto found = roundPlan->runIds.find(line.id);
        if (found == roundPlan->runIds.end()) continue;
        auto fresh = ingester.ingest(found->second, line);
        if (!fresh) return fresh.error();
        if (*fresh) progress.advance(1, ingester.bestNote());
      }
      return {};
    };

    SubprocessOptions options;
    // --parent-pid: the runner stops when this process dies, even before the runner could ask to follow it.
    options.argv = {runner.string(),      "process",  "--plan",       planFile.string(),         "--results",
                    resultsFile.string(), "--resume", "--parent-pid", std::to_string(::getpid())};
    std::atomic<bool> finished{false};
    Expected<SubprocessResult> outcome = Error(ErrorCode::kInternal, "the runner did not start");
    std::thread worker([&] {
      outcome = runSubprocess(options);
      finished = true;
    });
    Status ingestStatus;
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      if (ingestStatus) ingestStatus = ingestNew();
    }
    worker.join();
    if (ingestStatus) ingestStatus = ingestNew();
    progress.finish();
    if (!ingestStatus) return ingestStatus.error();
    if (!outcome) return outcome.error();
    // Builds that succeeded are not repeated by later rounds.
    auto roundResults = readResults(resultsFile);
    if (!roundResults) return roundResults.error();
    for (const auto& line : *roundResults) {
      if (line.kind != runner::ProcessItemKind::kBuild || line.status != runner::ProcessStatus::kOk) continue;
      auto built = roundPlan->buildKeys.find(line.id);
      if (built != roundPlan->buildKeys.end()) builtKeys.insert(built->second);
    }
    std::size_t missing = 0;
    for (const auto& runId : roundPlan->runOrder) {
      if (!ingester.has(configurationHash(roundPlan->runIds[runId]))) ++missing;
    }
    if (missing > 0) {
      return Error(
          ErrorCode::kInternal,
          fmt::format("the runner ended ({}) before measuring {} of {} configurations; what it measured is "
                      "stored (session {}), --resume continues. Runner said: {}",
                      outcome->describe(), missing, candidates.size(), result.sessionId,
                      excerpt(outcome->standardError)));
    }
  }

  result.results = std::move(ingester.results());
  result.reusedResults = ingester.reused();
  scoreResults(result);
  if (auto ended = database.endSession(result.sessionId); !ended) return ended.error();
  state["ended"] = true;
  if (auto written = writeJsonFile(stateFile, state); !written) return written.error();
  return result;
}

Status exportTuningPlan(const TuningRequest& request, const std::vector<Configuration>& candidates,
                        const fs::path& folder) {
  if (!request.space || !request.commands) {
    return Error(ErrorCode::kInternal, "a tuning request needs a space and a command factory");
  }
  if (candidates.empty() ||
      configurationHash(candidates.front()) != configurationHash(request.space->defaultConfiguration())) {
    return Error(ErrorCode::kInternal, "an exported plan measures the default configuration first");
  }
  for (const auto& c : candidates) {
    if (auto valid = request.space->validate(c); !valid) return valid.error();
  }
  std::error_code ec;
  fs::create_directories(folder / "bin", ec);
  if (ec) return Error(ErrorCode::kIo, fmt::format("cannot create {}: {}", folder.string(), ec.message()));
  for (const auto& [name, content] : request.files) {
    if (auto written = writeFileAtomically(folder / name, content); !written) return written.error();
  }
  auto plan = makeRoundPlan(request, candidates, 1, {});
  if (!plan) return plan.error();
  if (auto written = writeJsonFile(folder / "candidates-1.json", candidates); !written)
    return written.error();
  const nlohmann::json description = {{"task", request.task},
                                      {"options", request.options},
                                      {"workload", request.workload.contentSha256},
                                      {"identity", tuningSessionIdentity(request)}};
  if (auto written = writeJsonFile(folder / "export.json", description); !written) return written.error();
  return writeJsonFile(folder / "plan-1.json", plan->plan);
}

namespace {

// An exported folder checked through: its configurations in plan order, each with its result line when the
// runner wrote one.
struct CheckedExport {
  std::vector<std::pair<Configuration, std::optional<runner::ProcessResult>>> runs;
  std::size_t missing = 0;
};

// Reads one of the files an export writes into its folder; a link out of the folder is refused.
Expected<std::string> readExportFile(const fs::path& folder, const char* name) {
  auto path = pathInsideFolder(folder, name, folder, "the file");
  if (!path) return path.error();
  return readFile(*path);
}

Expected<nlohmann::json> readExportJson(const fs::path& folder, const char* name) {
  auto text = readExportFile(folder, name);
  if (!text) return text.error();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded())
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: not valid JSON", (folder / name).string()));
  return json;
}

// Everything an exported folder brings back, checked against what mirtune plans for `request` before any of
// it is stored: the program and task it was exported for, its configurations (in the request's space, the
// default first, none twice), the commands of its plan and every result line.
Expected<CheckedExport> readCheckedExport(const TuningRequest& request, const fs::path& folder) {
  if (!request.space || !request.commands) {
    return Error(ErrorCode::kInternal, "a tuning request needs a space and a command factory");
  }
  const fs::path descriptionFile = folder / "export.json";
  auto description = readExportJson(folder, "export.json");
  if (!description) return description.error();
  const auto textOf = [](const nlohmann::json& json, const char* key) {
    return json.is_object() && json.contains(key) && json[key].is_string() ? json[key].get<std::string>()
                                                                           : std::string("(none)");
  };
  if (textOf(*description, "task") != request.task) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: exported for task '{}', not '{}'", descriptionFile.string(),
                             textOf(*description, "task"), request.task));
  }
  if (textOf(*description, "workload") != request.workload.contentSha256) {
    return Error(
        ErrorCode::kInvalidInput,
        fmt::format("{}: exported for a program with SHA-256 {}, but {} now has {} (it changed since "
                    "the export; export again)",
                    descriptionFile.string(), textOf(*description, "workload"), request.workload.path,
                    request.workload.contentSha256));
  }
  for (const auto& [name, content] : request.files) {
    auto text = readExportFile(folder, name.c_str());
    if (!text) return text.error();
    if (*text != content) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: not the file mirtune exports for this item (edited after the export?)",
                               (folder / name).string()));
    }
  }

  const fs::path candidatesFile = folder / "candidates-1.json";
  auto saved = readExportJson(folder, "candidates-1.json");
  if (!saved) return saved.error();
  if (!saved->is_array() || saved->empty()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: not a list of configurations", candidatesFile.string()));
  }
  std::vector<Configuration> candidates;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < saved->size(); ++i) {
    const Configuration& candidate = (*saved)[i];
    if (auto valid = request.space->validate(candidate); !valid) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: configuration {} ({}): {}", candidatesFile.string(), i, candidate.dump(),
                               valid.error().message()));
    }
    if (!seen.insert(configurationHash(candidate)).second) {
      return Error(ErrorCode::kInvalidInput, fmt::format("{}: configuration {} ({}) is listed twice",
                                                         candidatesFile.string(), i, candidate.dump()));
    }
    candidates.push_back(candidate);
  }
  if (configurationHash(candidates.front()) != configurationHash(request.space->defaultConfiguration())) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: the first configuration is {}, not the default {}", candidatesFile.string(),
                             candidates.front().dump(), request.space->defaultConfiguration().dump()));
  }

  auto roundPlan = makeRoundPlan(request, candidates, 1, {});
  if (!roundPlan) return roundPlan.error();
  runner::ProcessPlan expected;
  std::string error;
  if (!runner::parseProcessPlan(roundPlan->plan, expected, error))
    return Error(ErrorCode::kInternal, fmt::format("the plan mirtune makes does not parse: {}", error));
  const fs::path planFile = folder / "plan-1.json";
  if (auto inside = pathInsideFolder(folder, "plan-1.json", folder, "the file"); !inside)
    return inside.error();
  runner::ProcessPlan exported;
  if (!runner::readProcessPlan(planFile.string(), exported, error))
    return Error(ErrorCode::kInvalidInput, error);
  if (auto same = checkSameCommands(exported, expected, planFile); !same) return same.error();

  const fs::path resultsFile = folder / "results-1.jsonl";
  if (auto inside = pathInsideFolder(folder, "results-1.jsonl", folder, "the file"); !inside)
    return inside.error();
  if (!fs::exists(resultsFile)) {
    return Error(
        ErrorCode::kNotFound,
        fmt::format("{}: no results (run mirtune-run process on the plan first)", resultsFile.string()));
  }
  auto lines = readCheckedRunResults(resultsFile, exported);
  if (!lines) return lines.error();
  if (!lines->count(roundPlan->runOrder.front())) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: the default configuration has no result, so nothing can be "
                             "compared with it",
                             resultsFile.string()));
  }
  CheckedExport checked;
  for (const auto& runId : roundPlan->runOrder) {
    auto found = lines->find(runId);
    std::optional<runner::ProcessResult> line;
    if (found == lines->end()) {
      ++checked.missing;
    } else {
      line = std::move(found->second);
    }
    checked.runs.emplace_back(roundPlan->runIds[runId], std::move(line));
  }
  return checked;
}

}  // namespace

Status checkTuningResults(const TuningRequest& request, const fs::path& folder) {
  auto checked = readCheckedExport(request, folder);
  if (!checked) return checked.error();
  return {};
}

Expected<IngestResult> ingestTuningResults(Database& database, std::int64_t platformId,
                                           const TuningRequest& request, const fs::path& folder) {
  // Nothing is stored unless the whole folder passes, so a damaged export leaves no half session behind.
  auto checked = readCheckedExport(request, folder);
  if (!checked) return checked.error();
  auto workloadId = database.upsertWorkload(request.workload);
  if (!workloadId) return workloadId.error();
  TuningRequest stored = request;
  stored.options["ingested_from"] = fs::absolute(folder).string();
  auto sessionId = database.beginSession(sessionRecordFor(stored, fs::absolute(folder), platformId));
  if (!sessionId) return sessionId.error();
  IngestResult ingested;
  ingested.missing = checked->missing;
  ingested.tuning.sessionId = *sessionId;
  ingested.tuning.workDirectory = fs::absolute(folder);
  Ingester ingester(database, request, *sessionId, *workloadId, platformId);
  for (const auto& [configuration, line] : checked->runs) {
    if (!line) continue;
    auto fresh = ingester.ingest(configuration, *line);
    if (!fresh) return fresh.error();
  }
  ingested.tuning.results = std::move(ingester.results());
  scoreResults(ingested.tuning);
  if (auto ended = database.endSession(*sessionId); !ended) return ended.error();
  return ingested;
}

}  // namespace mirtune
