// A live `mirtune tune` session: a T1 spec's configurations proposed by a search strategy, each built and run on
// one OpenCL device through mirtune-run (or, for an application spec, built and run through its commands), checked
// against the default configuration's output, recorded in SQLite as it arrives, and written as T4 results and a
// Kernel Tuner cache file (which also resumes an interrupted session).
#pragma once

#include "support/Error.h"
#include "support/MeasureStatus.h"
#include "tasks/tune/Search.h"
#include "tasks/tune/TuneSpec.h"
#include "tuner/Comparison.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::tune {

struct TuneSessionOptions {
  std::filesystem::path specFile;
  StrategyKind strategy = StrategyKind::kModel;
  std::size_t budget = 100;   ///< evaluations in all, the default's included; 0 = the whole space
  double timeLimitSeconds = 0;  ///< stop proposing once the session ran this long; 0 = no limit
  std::uint64_t seed = 0;
  std::filesystem::path databasePath;
  std::filesystem::path runner;  ///< mirtune-run
  std::string device;            ///< "P:D"; empty = the first GPU, else the first device
  std::filesystem::path t4File;     ///< empty = none
  std::filesystem::path cacheFile;  ///< empty = none; an existing file is continued only with `resume`
  /// Continue an interrupted session: a kernel spec's results are read back from cacheFile (which must then
  /// exist), an application spec's from its tuning session in the database.
  bool resume = false;
  /// Where plans, results and output buffers go; empty = a folder beside the database, named by the session.
  std::filesystem::path workDirectory;
  std::string commandLine;  ///< recorded with the session
  /// For the transfer strategy: the encoder folder that embeds the kernel (empty = the shipped model).
  std::filesystem::path encoderModel;
  bool showProgress = true;
  std::string nvcc;      ///< CUDA specs: the nvcc that builds; empty = on PATH, else /usr/local/cuda/bin/nvcc
  std::string cudaArch;  ///< CUDA specs: nvcc -arch; empty = the device's own (live), sm_90 (--export)
  /// --export of an application spec: configurations per plan folder besides the default (each plan folder
  /// measures the default first, as the reference its outputs are checked against).
  std::size_t configurationsPerPlan = 8;
};

/// What a task that builds an application spec in memory (`omp --app`) sets beyond the spec and the session
/// options; `mirtune tune` leaves all of it as it is.
struct ApplicationSessionHooks {
  std::string task = "tune";  ///< measurements.task
  std::string command;        ///< the session's command summary; empty = options.commandLine, else "tune"
  /// The program the session tunes (its workload record); absent = the spec file.
  std::optional<WorkloadRecord> workload;
  /// The session's identity options (what --resume compares); null = the spec, strategy, budget, seed and
  /// settings.
  nlohmann::json identity;
  std::vector<std::string> modelIds;
  bool force = false;  ///< resume even on a machine with another platform fingerprint
  /// This machine as the caller probed and stored it already (probing runs the runner); null = probe it.
  const Machine* machine = nullptr;
  /// When set, replaces the search strategy: called once the default is measured (again on a resume, with the
  /// same stored result), it gives the configurations to measure after the default, in that order (a model's
  /// ranking); the session ends when they are measured or the budget is spent. `strategyName` names it.
  std::function<Expected<std::vector<Configuration>>(const TunedConfiguration& defaultResult)> proposalOrder;
  std::string strategyName;
};

/// One evaluated configuration.
struct TuneEvaluation {
  Configuration configuration;
  MeasureStatus status = MeasureStatus::kRunFailed;
  std::string message;
  std::vector<double> samples;   ///< seconds (kernel time for OpenCL, the run's timer for applications)
  std::optional<double> median;  ///< seconds, when ok
  std::optional<double> spread;  ///< interquartile range, seconds
  double compileSeconds = 0;
  double frameworkSeconds = 0;  ///< the runner's wall time outside the build and the measured repetitions
  double strategySeconds = 0;   ///< what proposing this configuration cost
  double validationSeconds = 0;  ///< comparing its outputs with the default's
  std::string timestamp;         ///< ISO 8601, UTC
  bool fromCache = false;        ///< read back from the cache file, not run now
};

struct TuneSessionResult {
  std::string name;           ///< the spec's
  std::string device;         ///< "P:D TYPE name", or "this machine" for an application
  std::string strategy;
  std::size_t spaceSize = 0;  ///< valid configurations
  std::size_t budget = 0;
  std::vector<TuneEvaluation> evaluations;  ///< in evaluation order; the default first
  std::optional<std::size_t> best;          ///< the fastest ok evaluation
  std::optional<Comparison> bestAgainstDefault;
  std::string stoppedBy;  ///< "budget", "time", "space"
  double wallSeconds = 0;
  std::size_t reused = 0;  ///< evaluations read back from the cache file
  std::int64_t sessionId = 0;  ///< an ingest's: the default's machine's session; 0 when it stored nothing new
  std::filesystem::path ingested;  ///< the folder an ingest read
  /// Set by ingestTuneSession: what it stored new, found stored already, and the plan folders not measured
  /// yet.
  std::optional<IngestCounts> ingest;
  bool resumed = false;  ///< an application session continued from the database
  /// An application session's results as the process backend scored them (speedups over the default, timers).
  std::optional<TuningResult> processSession;
};

/// Runs a session. Errors: the spec (readTuneSpec's), no OpenCL device or the named one missing, the runner or the
/// database failing, a cache file of another kernel or space. A configuration that fails to build, crashes, times
/// out or gives wrong output is an evaluation with that status; the search goes on.
Expected<TuneSessionResult> runTuneSession(const TuneSessionOptions& options);

/// An application spec's session: each configuration built and run through the spec's commands by the process
/// backend (TuningSession), its output checked against the default's, every result stored as it arrives and
/// the T4 and cache files (options.t4File, options.cacheFile) rewritten after each one. A resume continues
/// the interrupted session from the database (and the cache file, which must then exist or not yet have been
/// written). runTuneSession calls it for application specs; `hooks` let a task run a spec it built in memory.
Expected<TuneSessionResult> runApplicationSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                                  const ApplicationSessionHooks& hooks = {});

/// Writes a folder that measures a kernel spec's configurations on another machine: the default and the
/// strategy's picks up to the budget (exhaustive or random only: the adaptive strategies choose from
/// results), each an OpenCL plan, with a run-all.sh for `mirtune-run` there and tune.json naming the spec (by
/// its SHA-256) and the configurations, and a new export-id (see OpenClMeasurer::exportBatch). Nothing is
/// measured. Returns the number of configurations.
Expected<std::size_t> exportTuneSession(const TuneSessionOptions& options, const std::filesystem::path& folder);

/// An application spec is exported as process plan folders instead ("1", "2", ...; each the default and up to
/// options.configurationsPerPlan more, for `mirtune-run process`, run-all.sh or `mirtune campaign submit`),
/// with tune.json and an export-id; see exportApplicationSession.
///
/// Stores what an exported folder measured, as sessions of the machines it ran on (each plan folder's own,
/// see machineRecordFolder): every result checked as OpenClMeasurer::ingest does, then each configuration's
/// outputs against the default's on the default's session device (the session's device: options.device, else
/// the first GPU, else the first device of the machine that measured the plan folder), then recorded once (by
/// ingest key: an ingest again stores only what is new, and begins no session when nothing is) and written to
/// T4 and the cache file as runTuneSession does. Plan folders with no results yet are left for a later ingest
/// (result.ingest counts them); while the default's has none, nothing is stored. kInvalidInput naming the
/// file when the folder was exported from another spec or any check fails; nothing is stored then.
Expected<TuneSessionResult> ingestTuneSession(const TuneSessionOptions& options, const std::filesystem::path& folder);

/// The application form of exportTuneSession: the default and the strategy's picks (exhaustive or random, up
/// to the budget), options.configurationsPerPlan of them besides the default per plan folder. Files the spec
/// lists (mirtune.Application.Files) travel in every plan folder; commands that name @SPEC_DIR@ run only
/// where this machine's path exists (a warning says so). Returns the number of configurations.
Expected<std::size_t> exportApplicationSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                               const std::filesystem::path& folder);

/// The application form of ingestTuneSession: every plan folder checked first (checkTuningResults: the spec's
/// commands, files and space, the runner's result lines, outputs against the plan folder's default), then
/// each one's results stored once under the machine that measured it (keyed by export-id, plan folder and
/// configuration: a second ingest stores nothing new); plan folders without results are counted in
/// result.ingest and left for a later ingest. The best configuration is compared with the default of its own
/// plan folder. T4 and cache files are written as runApplicationSession writes them.
Expected<TuneSessionResult> ingestApplicationSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                                     const std::filesystem::path& folder);

/// {"name", "device", "strategy", "space_size", "budget", "evaluations": n, "stopped_by", "wall_seconds",
///  "default": {...}, "best": {"configuration", "median_s", "spread_s", "against_default": {"verdict", "speedup",
///  "interval": [lo, hi], "p_value"}}, "results": [...]}
nlohmann::json tuneSessionJson(const TuneSessionResult& result);
/// A few lines for the terminal: the best configuration, its time, and how it compares with the default.
std::string tuneSessionText(const TuneSessionResult& result);

/// The results in T4 format (schema 1.0.0): one entry per evaluation with timestamp, configuration, objectives
/// ["time"], times {compilation_time, runtimes, framework, search_algorithm, validation} (ms), invalidity
/// (correct, compile, runtime, timeout, correctness), correctness, measurements [{name, value, unit}].
nlohmann::json t4Results(const TuneSessionResult& result);
/// "correct", "compile", "timeout", "runtime" or "correctness".
std::string_view t4Invalidity(MeasureStatus status);

}  // namespace mirtune::tune
