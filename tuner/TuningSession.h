// A tuning session: the search loop that asks a planner for each round's candidates and measures them through
// the process backend (tuner/ProcessMeasurer.h), which checks and stores every result as it arrives; an
// interrupted session resumes where it stopped.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// An argument equal to this, in buildArgv or runArgv, is replaced by the path of the configuration's built
/// program (one per buildKey, "bin/<name>" relative to the session's work folder, where builds and runs
/// start: a work folder copied to another machine runs there unchanged).
inline constexpr const char* kBinaryPlaceholder = "@BINARY@";

/// How the task builds and runs one configuration. Configurations with the same buildKey share one build.
struct CandidateCommands {
  std::string buildKey;                ///< empty = nothing to build (the run uses an existing program)
  std::vector<std::string> buildArgv;  ///< writes the program to kBinaryPlaceholder
  std::map<std::string, std::string> buildEnvironment;
  std::vector<std::string> runArgv;  ///< names the built program as kBinaryPlaceholder
  std::map<std::string, std::string> runEnvironment;
  std::vector<std::string> runUnsetEnvironment;
};

/// The commands of a configuration.
using CommandFactory = std::function<Expected<CandidateCommands>(const Configuration& configuration)>;

/// Runner settings for every run of a session (see `mirtune-run process`).
struct MeasurementSettings {
  double buildTimeoutSeconds = 300;
  double runTimeoutSeconds = 60;  ///< per repetition
  int warmup = 1;
  double minTimeSeconds = 0.5;  ///< repeat until the measured repetitions add up to this...
  int minRepetitions = 3;       ///< ...and at least this many ran...
  int maxRepetitions = 30;      ///< ...but no more than this many
  std::string timer = "auto";   ///< auto (region timer when the program prints one, else wall), region, wall
  int parallelBuilds = 2;
  /// When > 0, rounds after the default's stop a repetition that runs longer than this many times the
  /// default's wall time per repetition (at least minRelativeTimeoutSeconds, at most runTimeoutSeconds): a
  /// configuration that slow is recorded as run_timeout instead of costing minutes.
  double relativeTimeout = 0;
  double minRelativeTimeoutSeconds = 5;
};

/// How a finished run's output is judged against the default configuration's.
enum class OutputCheck {
  kSelfCheckOrDigest,  ///< the program's `mirtune-check: ok` line when it prints one, else equal stdout
                       ///< digests
  kDigest,             ///< equal stdout digests (region-timer lines excluded)
  kNone,               ///< exit status only
};

/// One measured (or failed) configuration.
struct TunedConfiguration {
  Configuration configuration;
  MeasureStatus status = MeasureStatus::kRunFailed;
  std::vector<double> times;      ///< measured repetitions, seconds
  std::optional<double> median;   ///< seconds, when ok
  std::optional<double> spread;   ///< interquartile range, seconds
  std::string timer;              ///< "region" or "wall"
  std::string message;            ///< why it failed; empty when ok
  std::optional<double> speedup;  ///< default median / this median, when both are ok
  double wallPerRepetition = 0;   ///< process wall time per repetition (warm-up included), seconds
};

/// The candidates of the next round, given everything measured so far (the default's result is first); an
/// empty list ends the session. Called once per round, after the previous round's results are stored.
using RoundPlanner =
    std::function<Expected<std::vector<Configuration>>(const std::vector<TunedConfiguration>& done)>;

struct TuningRequest {
  std::string task;                                   ///< "omp", "unroll", ... (measurements.task)
  std::string command;                                ///< the session's command line summary
  nlohmann::json options = nlohmann::json::object();  ///< the command's options: with the workload, the
                                                      ///< session's identity for --resume
  WorkloadRecord workload;
  /// Files written into the work folder before the first round (name relative to it -> content), e.g. the
  /// rewritten source the builds compile.
  std::map<std::string, std::string> files;
  const SearchSpace* space = nullptr;  ///< for labels and validation
  /// Round 1 is always the default configuration alone; the planner gives rounds 2, 3, ...
  RoundPlanner planner;
  CommandFactory commands;
  MeasurementSettings settings;
  OutputCheck check = OutputCheck::kSelfCheckOrDigest;
  std::vector<std::string> modelIds;
  std::optional<std::int64_t> seed;
  /// Where plans, results and programs go; empty = <database folder>/tuning/<identity hash>.
  std::filesystem::path workDirectory;
  bool resume = false;  ///< continue the interrupted session of the same identity
  bool force = false;   ///< resume even on a machine with a different platform fingerprint
  bool showProgress = true;
};

struct TuningResult {
  std::int64_t sessionId = 0;
  bool resumed = false;
  std::filesystem::path workDirectory;
  std::vector<TunedConfiguration> results;  ///< in measurement order, default first
  std::optional<std::size_t> best;          ///< index of the fastest ok configuration
  std::size_t reusedResults = 0;            ///< results a resume found already measured
};

/// Runs the session. `platform` is this machine (probePlatform + upsertPlatform), `runner` the mirtune-run
/// executable. Errors: the runner cannot be started, the work folder cannot be written, a resume on another
/// platform without force (kInvalidInput naming both fingerprints), or nothing to resume. A build or run that
/// fails is a result, not an error.
Expected<TuningResult> runTuningSession(Database& database, std::int64_t platformId,
                                        const std::string& platformFingerprint, const TuningRequest& request,
                                        const std::filesystem::path& runner);

/// Writes a work folder that measures `candidates` (the default first) in one round, for `mirtune-run process
/// --plan <folder>/plan-1.json --results <folder>/results-1.jsonl` to carry out on any machine (the folder is
/// self-contained: the request's files, relative paths). Nothing is measured or stored here.
Status exportTuningPlan(const TuningRequest& request, const std::vector<Configuration>& candidates,
                        const std::filesystem::path& folder);

/// Stores the results of an exported folder as a finished session of the platform they were measured on, with
/// the same output checks as runTuningSession. Configurations without a result line (the runner stopped
/// early) are left out and counted in `missing`. The folder is checked through first (checkTuningResults) and
/// nothing is stored unless all of it passes.
struct IngestResult {
  TuningResult tuning;
  std::size_t missing = 0;
};
Expected<IngestResult> ingestTuningResults(Database& database, std::int64_t platformId,
                                           const TuningRequest& request, const std::filesystem::path& folder);

/// Checks an exported folder as ingestTuningResults does, storing nothing: export.json names the request's
/// task and program, the request's files are unchanged, every configuration of candidates-1.json is in the
/// request's space (the default first, none twice), plan-1.json runs the commands mirtune makes for them, and
/// every line of results-1.jsonl passes readCheckedRunResults against that plan. kInvalidInput naming the
/// file, the line or configuration and what is wrong; kNotFound when the runner left no results (no file, or
/// no result of the default configuration).
Status checkTuningResults(const TuningRequest& request, const std::filesystem::path& folder);

/// Where a session of this identity stands in its work folder.
struct TuningSessionState {
  enum class Kind { kNone, kInterrupted, kFinished } kind = Kind::kNone;
  std::int64_t sessionId = 0;
  std::filesystem::path workDirectory;
};
TuningSessionState findTuningSession(const Database& database, const TuningRequest& request);

/// The identity of a session (hash of task, canonical options and workload content), naming its work folder.
std::string tuningSessionIdentity(const TuningRequest& request);

}  // namespace mirtune
