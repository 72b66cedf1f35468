// The process-plan backend: batches of configurations -> plan files -> `mirtune-run process` -> checked
// results in SQLite, with the session's work folder, resume, export and ingest.
#include "tuner/ProcessMeasurer.h"

#include "database/CanonicalJson.h"
#include "tuner/runner/ProcessPlan.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/OwnedFolder.h"
#include "support/Progress.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/file.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <utility>

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

  /// Ingest of an exported folder: each measurement carries its ingest key and is stored unless an earlier
  /// ingest stored it; the session comes from `beginSession` when the first new measurement is stored.
  void keyBy(IngestIdentity identity, std::function<Expected<std::int64_t>()> beginSession) {
    identity_ = std::move(identity);
    beginSession_ = std::move(beginSession);
  }

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
    tuned.status = line.status;
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
    const bool reused = storedHashes_.count(hash) > 0;
    if (reused) {
      ++reused_;
    } else {
      MeasurementRecord record;
      if (identity_) {
        record.ingestKey = processIngestKey(*identity_, configuration);
        auto known = database_.hasIngestKey(*record.ingestKey);
        if (!known) return known.error();
        if (*known) return remember(hash, std::move(tuned), true);
        if (sessionId_ == 0) {
          auto begun = beginSession_();
          if (!begun) return begun.error();
          sessionId_ = *begun;
        }
      }
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
      if (record.ingestKey) {
        // Another ingest of the same folder may have stored it since hasIngestKey looked.
        auto once = database_.insertMeasurementOnce(record);
        if (!once) return once.error();
        if (!once->inserted) return remember(hash, std::move(tuned), true);
      } else {
        auto id = database_.insertMeasurement(record);
        if (!id) return id.error();
      }
      storedHashes_.insert(hash);
    }
    return remember(hash, std::move(tuned), reused);
  }

  /// The result of a configuration ingested so far (and whether a resumed session found it stored).
  const TunedConfiguration* find(const std::string& hash, bool& reused) const {
    auto found = byHash_.find(hash);
    if (found == byHash_.end()) return nullptr;
    reused = found->second.second;
    return &results_[found->second.first];
  }

  std::vector<TunedConfiguration>& results() { return results_; }
  std::size_t reused() const { return reused_; }
  /// Results an earlier ingest of the same exported folder had stored.
  std::size_t alreadyStored() const { return alreadyStored_; }
  /// The session results are stored in (0 while a keyed ingest has stored nothing new).
  std::int64_t sessionId() const { return sessionId_; }
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
  bool remember(const std::string& hash, TunedConfiguration tuned, bool reused) {
    if (reused && identity_) ++alreadyStored_;
    byHash_[hash] = {results_.size(), reused};
    results_.push_back(std::move(tuned));
    return true;
  }

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
  std::map<std::string, std::pair<std::size_t, bool>> byHash_;  // hash -> (index in results_, reused)
  std::string defaultDigest_;
  bool defaultOk_ = false;
  std::size_t reused_ = 0;
  std::optional<IngestIdentity> identity_;
  std::function<Expected<std::int64_t>()> beginSession_;
  std::size_t alreadyStored_ = 0;
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

// The configurations of a batch with their commands; kInvalidInput when an input is not a process plan.
using PlannedBatch = std::vector<std::pair<Configuration, const CandidateCommands*>>;
Expected<PlannedBatch> plannedBatch(const std::vector<MeasureInput>& batch) {
  PlannedBatch planned;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto* commands = std::get_if<CandidateCommands>(&batch[i].plan);
    if (!commands) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("measurement input {} is not a process plan (build and run commands)", i));
    }
    planned.emplace_back(batch[i].configuration, commands);
  }
  return planned;
}

std::vector<Configuration> configurationsOf(const PlannedBatch& planned) {
  std::vector<Configuration> configurations;
  for (const auto& entry : planned) configurations.push_back(entry.first);
  return configurations;
}

// Turns a round's candidates into a runner plan; builds already made by an earlier round are left out.
Expected<RoundPlan> makeRoundPlan(const MeasurementSettings& settings, const PlannedBatch& candidates,
                                  int round, const std::set<std::string>& builtKeys,
                                  std::optional<double> runTimeout = std::nullopt) {
  RoundPlan result;
  nlohmann::json builds = nlohmann::json::array();
  nlohmann::json runs = nlohmann::json::array();
  MeasurementSettings s = settings;
  if (runTimeout) s.runTimeoutSeconds = *runTimeout;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Configuration& configuration = candidates[i].first;
    const CandidateCommands* commands = candidates[i].second;
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

}  // namespace

void scoreTuningResult(TuningResult& result) {
  if (result.results.empty()) return;
  const auto& baseline = result.results.front();
  for (std::size_t i = 0; i < result.results.size(); ++i) {
    auto& r = result.results[i];
    if (r.status != MeasureStatus::kOk || !r.median || *r.median <= 0) continue;
    if (baseline.status == MeasureStatus::kOk && baseline.median) r.speedup = *baseline.median / *r.median;
    if (!result.best || *r.median < *result.results[*result.best].median) result.best = i;
  }
}

namespace {

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
Expected<CheckedExport> readCheckedExport(const TuningRequest& request, const fs::path& folder,
                                          const std::vector<MeasureInput>& batch) {
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

  // A batch given by the caller names the configurations the folder must hold, in order.
  if (!batch.empty()) {
    bool same = batch.size() == candidates.size();
    for (std::size_t i = 0; same && i < candidates.size(); ++i)
      same = configurationHash(batch[i].configuration) == configurationHash(candidates[i]);
    if (!same) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: not the {} configurations this batch exported", candidatesFile.string(),
                               batch.size()));
    }
  }
  std::vector<MeasureInput> inputs = batch;
  if (inputs.empty()) {
    auto made = processInputs(request, candidates);
    if (!made) return made.error();
    inputs = std::move(*made);
  }
  auto planned = plannedBatch(inputs);
  if (!planned) return planned.error();
  auto roundPlan = makeRoundPlan(request.settings, *planned, 1, {});
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

Expected<std::vector<MeasureInput>> processInputs(const TuningRequest& request,
                                                  const std::vector<Configuration>& configurations) {
  if (!request.commands) return Error(ErrorCode::kInternal, "a tuning request needs a command factory");
  std::vector<MeasureInput> inputs;
  inputs.reserve(configurations.size());
  for (const Configuration& configuration : configurations) {
    auto commands = request.commands(configuration);
    if (!commands) return commands.error();
    MeasureInput input;
    input.configuration = configuration;
    input.plan = std::move(*commands);
    inputs.push_back(std::move(input));
  }
  return inputs;
}

namespace {

MeasureResult measureResultOf(std::size_t input, const TunedConfiguration& tuned, bool reused) {
  MeasureResult result;
  result.input = input;
  result.status = tuned.status;
  result.message = tuned.message;
  result.samples = tuned.times;
  result.median = tuned.median;
  result.spread = tuned.spread;
  result.reused = reused;
  result.detail = tuned;
  return result;
}

}  // namespace

// The session's state between rounds: its folder (claimed and locked while the measurer lives), its database
// rows and what was measured so far.
class ProcessMeasurer::Engine {
 public:
  Engine(TuningRequest request, ProcessTarget target) : request_(std::move(request)), target_(std::move(target)) {}

  Status open() {
    if (opened_) return {};
    if (!target_.database) return Error(ErrorCode::kInternal, "a process measurer needs a database to measure");
    if (!request_.space) return Error(ErrorCode::kInternal, "a tuning request needs a space");
    Database& database = *target_.database;
    const std::string identity = tuningSessionIdentity(request_);
    work_ = workDirectoryFor(database, request_);
    const fs::path stateFile = work_ / "session.json";

    // The folder is claimed (made, or known to be mirtune's) and locked before anything in it is read or
    // removed: a second process for the same session stops here, and nothing the user keeps in a folder is
    // ever deleted.
    auto claimed = claimOwnedFolder(work_, [&](const fs::path& folder) {
      // A session folder written before folders carried a marker: adopted when its state names this session.
      auto legacy = readJsonFile(folder / "session.json");
      return legacy && legacy->value("identity", std::string()) == identity;
    });
    if (!claimed) return claimed.error();
    if (auto locked = lock_.acquire(work_); !locked) return locked.error();

    if (request_.resume) {
      if (!fs::exists(stateFile)) {
        return Error(
            ErrorCode::kNotFound,
            fmt::format(
                "nothing to resume: no interrupted session of these options in {} (run without --resume)",
                work_.string()));
      }
      auto loaded = readJsonFile(stateFile);
      if (!loaded) return loaded.error();
      state_ = *loaded;
      if (state_.value("ended", false)) {
        return Error(
            ErrorCode::kInvalidInput,
            fmt::format(
                "the session in {} (session {}) already finished; run without --resume to measure again",
                work_.string(), state_.value("session_id", 0)));
      }
      const std::string recorded = state_.value("platform_fingerprint", std::string());
      if (recorded != target_.platformFingerprint && !request_.force) {
        return Error(
            ErrorCode::kInvalidInput,
            fmt::format("the session in {} was measured on platform {} but this machine is {}; measurements "
                        "would not compare (use --force to resume anyway)",
                        work_.string(), recorded.substr(0, 12), target_.platformFingerprint.substr(0, 12)));
      }
      resumed_ = true;
      sessionId_ = state_.value("session_id", std::int64_t{0});
    } else {
      if (fs::exists(stateFile)) {
        auto loaded = readJsonFile(stateFile);
        if (loaded && !loaded->value("ended", false)) {
          logWarn("starting over: an interrupted session of these options was in {} (--resume continues it)",
                  work_.string());
        }
      }
      // Only what a session writes is removed; the request's files are written anew below.
      auto removed = removeOwnedEntries(
          work_, [&](const std::string& name) { return isSessionEntry(name) || request_.files.count(name) > 0; });
      if (!removed) return removed.error();
    }
    if (auto bin = ensureRealSubfolder(work_ / "bin"); !bin) return bin.error();

    auto workloadId = database.upsertWorkload(request_.workload);
    if (!workloadId) return workloadId.error();
    if (!resumed_) {
      auto id = database.beginSession(sessionRecordFor(request_, work_, target_.platformId));
      if (!id) return id.error();
      sessionId_ = *id;
      state_ = {{"session_id", *id},
                {"platform_fingerprint", target_.platformFingerprint},
                {"identity", identity},
                {"ended", false}};
      if (auto written = writeJsonFile(stateFile, state_); !written) return written.error();
      for (const auto& [name, content] : request_.files) {
        if (auto written = writeFileAtomically(work_ / name, content); !written) return written.error();
      }
    }
    ingester_ = std::make_unique<Ingester>(database, request_, sessionId_, *workloadId, target_.platformId);
    if (auto loaded = ingester_->loadStored(); !loaded) return loaded.error();
    opened_ = true;
    return {};
  }

  Expected<std::optional<std::vector<Configuration>>> savedBatch() {
    if (auto opened = open(); !opened) return opened.error();
    const fs::path candidatesFile = work_ / fmt::format("candidates-{}.json", round_ + 1);
    if (!fs::exists(candidatesFile)) return std::optional<std::vector<Configuration>>();
    auto saved = readJsonFile(candidatesFile);
    if (!saved) return saved.error();
    return std::optional<std::vector<Configuration>>(saved->get<std::vector<Configuration>>());
  }

  Expected<std::vector<MeasureResult>> measure(const std::vector<MeasureInput>& batch) {
    if (auto opened = open(); !opened) return opened.error();
    auto planned = plannedBatch(batch);
    if (!planned) return planned.error();
    const int round = ++round_;
    const fs::path candidatesFile = work_ / fmt::format("candidates-{}.json", round);
    if (!fs::exists(candidatesFile)) {
      if (auto written = writeJsonFile(candidatesFile, configurationsOf(*planned)); !written)
        return written.error();
    }
    if (planned->empty()) return std::vector<MeasureResult>{};
    for (const auto& entry : *planned) {
      if (auto valid = request_.space->validate(entry.first); !valid) return valid.error();
    }

    // Later rounds may stop configurations far slower than the default (see relativeTimeout).
    std::optional<double> runTimeout;
    const MeasurementSettings& settings = request_.settings;
    const auto& done = ingester_->results();
    if (round > 1 && settings.relativeTimeout > 0 && !done.empty() && done.front().status == MeasureStatus::kOk) {
      runTimeout = std::min(settings.runTimeoutSeconds,
                            std::max(settings.minRelativeTimeoutSeconds,
                                     settings.relativeTimeout * done.front().wallPerRepetition));
    }
    auto roundPlan = makeRoundPlan(settings, *planned, round, builtKeys_, runTimeout);
    if (!roundPlan) return roundPlan.error();
    const fs::path planFile = work_ / fmt::format("plan-{}.json", round);
    const fs::path resultsFile = work_ / fmt::format("results-{}.jsonl", round);
    if (!fs::exists(planFile)) {
      if (auto written = writeJsonFile(planFile, roundPlan->plan); !written) return written.error();
    }

    ProgressLine progress(fmt::format("{} round {}", request_.task, round), planned->size());
    std::size_t consumed = 0;
    auto ingestNew = [&]() -> Status {
      auto lines = readResults(resultsFile);
      if (!lines) return lines.error();
      for (; consumed < lines->size(); ++consumed) {
        const auto& line = (*lines)[consumed];
        if (line.kind != runner::ProcessItemKind::kRun) continue;
        auto found = roundPlan->runIds.find(line.id);
        if (found == roundPlan->runIds.end()) continue;
        auto fresh = ingester_->ingest(found->second, line);
        if (!fresh) return fresh.error();
        if (*fresh) progress.advance(1, ingester_->bestNote());
      }
      return {};
    };

    SubprocessOptions options;
    // --parent-pid: the runner stops when this process dies, even before the runner could ask to follow it.
    options.argv = {target_.runner.string(), "process",  "--plan",       planFile.string(),
                    "--results",             resultsFile.string(), "--resume", "--parent-pid",
                    std::to_string(::getpid())};
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
      if (line.kind != runner::ProcessItemKind::kBuild || line.status != MeasureStatus::kOk) continue;
      auto built = roundPlan->buildKeys.find(line.id);
      if (built != roundPlan->buildKeys.end()) builtKeys_.insert(built->second);
    }
    std::size_t missing = 0;
    for (const auto& runId : roundPlan->runOrder) {
      if (!ingester_->has(configurationHash(roundPlan->runIds[runId]))) ++missing;
    }
    if (missing > 0) {
      return Error(
          ErrorCode::kInternal,
          fmt::format("the runner ended ({}) before measuring {} of {} configurations; what it measured is "
                      "stored (session {}), --resume continues. Runner said: {}",
                      outcome->describe(), missing, planned->size(), sessionId_,
                      excerpt(outcome->standardError)));
    }
    std::vector<MeasureResult> results;
    for (std::size_t i = 0; i < planned->size(); ++i) {
      bool reused = false;
      const TunedConfiguration* tuned = ingester_->find(configurationHash((*planned)[i].first), reused);
      if (tuned) results.push_back(measureResultOf(i, *tuned, reused));
    }
    return results;
  }

  Expected<TuningResult> finish() {
    if (auto opened = open(); !opened) return opened.error();
    TuningResult result;
    result.sessionId = sessionId_;
    result.resumed = resumed_;
    result.workDirectory = work_;
    result.results = ingester_->results();
    result.reusedResults = ingester_->reused();
    scoreTuningResult(result);
    if (auto ended = target_.database->endSession(sessionId_); !ended) return ended.error();
    state_["ended"] = true;
    if (auto written = writeJsonFile(work_ / "session.json", state_); !written) return written.error();
    return result;
  }

  Status exportBatch(const std::vector<MeasureInput>& batch, const fs::path& folder) {
    if (!request_.space) return Error(ErrorCode::kInternal, "a tuning request needs a space");
    auto planned = plannedBatch(batch);
    if (!planned) return planned.error();
    const std::vector<Configuration> candidates = configurationsOf(*planned);
    if (candidates.empty() ||
        configurationHash(candidates.front()) != configurationHash(request_.space->defaultConfiguration())) {
      return Error(ErrorCode::kInternal, "an exported plan measures the default configuration first");
    }
    for (const auto& c : candidates) {
      if (auto valid = request_.space->validate(c); !valid) return valid.error();
    }
    std::error_code ec;
    fs::create_directories(folder / "bin", ec);
    if (ec) return Error(ErrorCode::kIo, fmt::format("cannot create {}: {}", folder.string(), ec.message()));
    for (const auto& [name, content] : request_.files) {
      if (auto written = writeFileAtomically(folder / name, content); !written) return written.error();
    }
    auto plan = makeRoundPlan(request_.settings, *planned, 1, {});
    if (!plan) return plan.error();
    if (auto written = writeJsonFile(folder / "candidates-1.json", candidates); !written)
      return written.error();
    const nlohmann::json description = {{"task", request_.task},
                                        {"options", request_.options},
                                        {"workload", request_.workload.contentSha256},
                                        {"identity", tuningSessionIdentity(request_)}};
    if (auto written = writeJsonFile(folder / "export.json", description); !written) return written.error();
    return writeJsonFile(folder / "plan-1.json", plan->plan);
  }

  Status checkExported(const fs::path& folder, const std::vector<MeasureInput>& batch) const {
    auto checked = readCheckedExport(request_, folder, batch);
    if (!checked) return checked.error();
    return {};
  }

  Expected<std::vector<MeasureResult>> ingest(const std::vector<MeasureInput>& batch, const fs::path& folder) {
    if (!target_.database) return Error(ErrorCode::kInternal, "a process measurer needs a database to ingest");
    Database& database = *target_.database;
    // Nothing is stored unless the whole folder passes, so a damaged export leaves no half session behind.
    auto checked = readCheckedExport(request_, folder, batch);
    if (!checked) return checked.error();
    auto workloadId = database.upsertWorkload(request_.workload);
    if (!workloadId) return workloadId.error();
    TuningRequest stored = request_;
    stored.options["ingested_from"] = fs::absolute(folder).string();
    const SessionRecord session = sessionRecordFor(stored, fs::absolute(folder), target_.platformId);
    sessionId_ = 0;
    work_ = fs::absolute(folder);
    missing_ = checked->missing;
    alreadyStored_ = 0;
    std::int64_t sessionId = 0;
    if (!ingestIdentity_) {
      auto begun = database.beginSession(session);
      if (!begun) return begun.error();
      sessionId = *begun;
    }
    Ingester ingester(database, request_, sessionId, *workloadId, target_.platformId);
    if (ingestIdentity_) {
      // Begun with the first new measurement: an ingest that finds everything stored leaves no empty session.
      ingester.keyBy(*ingestIdentity_, [&]() { return database.beginSession(session); });
    }
    std::vector<MeasureResult> results;
    for (std::size_t i = 0; i < checked->runs.size(); ++i) {
      const auto& [configuration, line] = checked->runs[i];
      if (!line) continue;
      auto fresh = ingester.ingest(configuration, *line);
      sessionId_ = ingester.sessionId();
      if (!fresh) return fresh.error();
      if (!*fresh) continue;
      bool reused = false;
      const TunedConfiguration* tuned = ingester.find(configurationHash(configuration), reused);
      results.push_back(measureResultOf(i, *tuned, reused));
    }
    alreadyStored_ = ingester.alreadyStored();
    if (sessionId_ != 0) {
      if (auto ended = database.endSession(sessionId_); !ended) return ended.error();
    }
    return results;
  }

  bool hasMeasured(const Configuration& configuration) const {
    return ingester_ && ingester_->has(configurationHash(configuration));
  }
  const std::vector<TunedConfiguration>& results() const {
    static const std::vector<TunedConfiguration> kNone;
    return ingester_ ? ingester_->results() : kNone;
  }

  std::int64_t sessionId_ = 0;
  bool resumed_ = false;
  fs::path work_;
  std::size_t missing_ = 0;
  std::size_t alreadyStored_ = 0;
  std::optional<IngestIdentity> ingestIdentity_;

 private:
  TuningRequest request_;
  ProcessTarget target_;
  bool opened_ = false;
  FolderLock lock_;
  nlohmann::json state_;
  std::unique_ptr<Ingester> ingester_;
  std::set<std::string> builtKeys_;
  int round_ = 0;
};

ProcessMeasurer::ProcessMeasurer(TuningRequest request, ProcessTarget target)
    : engine_(std::make_unique<Engine>(std::move(request), std::move(target))) {}
ProcessMeasurer::~ProcessMeasurer() = default;

Status ProcessMeasurer::open() { return engine_->open(); }
Expected<std::vector<MeasureResult>> ProcessMeasurer::measure(const std::vector<MeasureInput>& batch) {
  return engine_->measure(batch);
}
Status ProcessMeasurer::exportBatch(const std::vector<MeasureInput>& batch, const fs::path& folder) {
  return engine_->exportBatch(batch, folder);
}
Status ProcessMeasurer::checkExported(const fs::path& folder, const std::vector<MeasureInput>& batch) const {
  return engine_->checkExported(folder, batch);
}
Expected<std::vector<MeasureResult>> ProcessMeasurer::ingest(const std::vector<MeasureInput>& batch,
                                                             const fs::path& folder) {
  return engine_->ingest(batch, folder);
}
Expected<std::optional<std::vector<Configuration>>> ProcessMeasurer::savedBatch() { return engine_->savedBatch(); }
bool ProcessMeasurer::hasMeasured(const Configuration& configuration) const {
  return engine_->hasMeasured(configuration);
}
const std::vector<TunedConfiguration>& ProcessMeasurer::results() const { return engine_->results(); }
Expected<TuningResult> ProcessMeasurer::finish() { return engine_->finish(); }
std::int64_t ProcessMeasurer::sessionId() const { return engine_->sessionId_; }
bool ProcessMeasurer::resumed() const { return engine_->resumed_; }
const fs::path& ProcessMeasurer::workDirectory() const { return engine_->work_; }
std::size_t ProcessMeasurer::missing() const { return engine_->missing_; }
std::size_t ProcessMeasurer::alreadyStored() const { return engine_->alreadyStored_; }
void ProcessMeasurer::keyIngestBy(IngestIdentity identity) { engine_->ingestIdentity_ = std::move(identity); }

std::string processIngestKey(const IngestIdentity& identity, const Configuration& configuration) {
  return ingestKey(identity.exportId, identity.planFolder, configurationHash(configuration));
}

ExportedMachines::ExportedMachines(fs::path exported) : exported_(std::move(exported)) {}

Expected<const PlatformRecord*> ExportedMachines::read(const fs::path& recordFolder) {
  auto known = byFolder_.find(recordFolder);
  if (known != byFolder_.end()) return known->second.get();
  auto platform = exportedPlatform(recordFolder);
  if (!platform) return platform.error();
  auto stored = std::make_unique<PlatformRecord>(std::move(*platform));
  const PlatformRecord* record = stored.get();
  byFolder_.emplace(recordFolder, std::move(stored));
  return record;
}

Expected<const PlatformRecord*> ExportedMachines::platformFor(const fs::path& item) {
  return read(machineRecordFolder(exported_, item));
}

Expected<const PlatformRecord*> ExportedMachines::firstRecorded(const std::vector<fs::path>& items) {
  std::error_code error;
  if (!fs::exists(exported_ / kPlatformRecordFile, error)) {
    for (const fs::path& item : items) {
      if (machineRecordFolder(exported_, item) == item) return read(item);
    }
  }
  return read(exported_);
}

std::vector<fs::path> exportedPlanFolders(const fs::path& exported, const nlohmann::json& items) {
  std::vector<fs::path> folders;
  if (!items.is_array()) return folders;
  for (const auto& item : items) {
    if (!item.is_object() || !item.contains("folder") || !item["folder"].is_string()) continue;
    auto inside = pathInsideFolder(exported, item["folder"].get<std::string>(), exported, "folder");
    if (inside) folders.push_back(*inside);
  }
  return folders;
}

Expected<PlanFolderIngest> ingestPlanFolder(Database& database, std::int64_t platformId,
                                            const TuningRequest& request, const fs::path& folder,
                                            const IngestIdentity& identity) {
  ProcessTarget target;
  target.database = &database;
  target.platformId = platformId;
  ProcessMeasurer measurer(request, std::move(target));
  measurer.keyIngestBy(identity);
  auto results = measurer.ingest({}, folder);
  if (!results) return results.error();
  PlanFolderIngest ingested;
  ingested.missing = measurer.missing();
  ingested.alreadyStored = measurer.alreadyStored();
  ingested.stored = results->size() - ingested.alreadyStored;
  ingested.tuning.sessionId = measurer.sessionId();
  ingested.tuning.workDirectory = measurer.workDirectory();
  for (const auto& result : *results)
    ingested.tuning.results.push_back(std::get<TunedConfiguration>(result.detail));
  scoreTuningResult(ingested.tuning);
  return ingested;
}

bool CollectionIngest::check(const TuningRequest& request, const fs::path& folder, const std::string& label) {
  Status checked = checkTuningResults(request, folder);
  if (checked) return true;
  if (checked.error().code() == ErrorCode::kNotFound) {
    logWarn("{}: {}", label, checked.error().message());
    ++counts_.notYet;
  } else {
    logError("{}: {}", label, checked.error().message());
    ++rejected_;
  }
  return false;
}

void CollectionIngest::reject(const Error& why) {
  logError("{}", why.message());
  ++rejected_;
}

Status CollectionIngest::refuseIfRejected(const fs::path& exported, std::size_t items) const {
  if (rejected_ == 0) return success();
  return makeError(ErrorCode::kInvalidInput, "{}: {} of {} items failed the checks above; nothing was stored",
                   exported.string(), rejected_, items);
}

Expected<std::vector<MeasurementRecord>> CollectionIngest::store(Database& database, const PlatformRecord& platform,
                                                                 const TuningRequest& request, const fs::path& folder,
                                                                 const IngestIdentity& identity) {
  auto known = platformIds_.find(platform.fingerprint);
  if (known == platformIds_.end()) {
    auto platformId = database.upsertPlatform(platform);
    if (!platformId) return platformId.error();
    known = platformIds_.emplace(platform.fingerprint, *platformId).first;
  }
  auto ingested = ingestPlanFolder(database, known->second, request, folder, identity);
  if (!ingested) return ingested.error();
  counts_.stored += ingested->stored;
  counts_.alreadyStored += ingested->alreadyStored;
  counts_.missingConfigurations += ingested->missing;
  std::vector<MeasurementRecord> measured;
  for (const TunedConfiguration& result : ingested->tuning.results) {
    MeasurementRecord record;
    record.configuration = result.configuration;
    record.status = result.status;
    record.medianSeconds = result.median;
    record.spreadSeconds = result.spread;
    measured.push_back(std::move(record));
  }
  return measured;
}

}  // namespace mirtune
