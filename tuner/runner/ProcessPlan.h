// The process measurement plan and its JSON-lines results, shared by `mirtune-run process` and mirtune_tuner.
#pragma once

#include "tuner/runner/RunPlan.h"
#include "support/MeasureStatus.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::runner {

/// The plan format version this code reads and writes.
inline constexpr int kProcessPlanVersion = 1;

/// Where a run's time comes from: `mirtune-region-seconds: <s>` lines on stdout, or the process wall time.
enum class TimerMode {
  kAuto,    ///< region lines when the program prints them, wall time otherwise
  kRegion,  ///< region lines required: a repetition without one fails the run
  kWall,    ///< wall time from fork to exit, region lines ignored
};
std::string_view timerModeName(TimerMode mode);

/// One compile step: a program run once, in its own process group, killed on timeout.
struct ProcessBuild {
  std::string id;
  std::vector<std::string> argv;  ///< argv[0] with a '/' is a path (relative ones to the plan's folder)
  std::map<std::string, std::string> environment;  ///< set or replaced in the inherited environment
  std::vector<std::string> unsetEnvironment;       ///< removed from the inherited environment
  std::string workingDirectory;                    ///< empty = the plan's folder; relative to it otherwise
  double timeoutSeconds = 600;
};

/// One measured program: warm-up repetitions, then repetitions until the minimum time and count are met.
struct ProcessRun {
  std::string id;
  std::string build;  ///< id of the build this run needs; empty = none
  std::vector<std::string> argv;
  std::map<std::string, std::string> environment;
  std::vector<std::string> unsetEnvironment;
  std::string workingDirectory;
  double timeoutSeconds = 60;   ///< per repetition
  int warmup = 1;               ///< unmeasured repetitions first
  double minTimeSeconds = 1.0;  ///< repeat until the measured total reaches this...
  int minRepetitions = 3;       ///< ...and at least this many ran...
  int maxRepetitions = 50;      ///< ...but never more than this many
  TimerMode timer = TimerMode::kAuto;
};

/// Everything `mirtune-run process` does: the builds (some in parallel), then the runs one at a time.
struct ProcessPlan {
  int parallelBuilds = 1;
  std::vector<ProcessBuild> builds;
  std::vector<ProcessRun> runs;
};

/// Parses a plan; on failure returns false with a message naming the offending key ("runs[2].warmup ...").
/// Unknown keys are errors so that a misspelt option is never silently ignored.
bool parseProcessPlan(const nlohmann::json& json, ProcessPlan& plan, std::string& error);
/// The plan's JSON form (parseProcessPlan reads it back unchanged).
nlohmann::json processPlanToJson(const ProcessPlan& plan);
/// Reads and parses a plan file; `error` names the file (and the line of a JSON syntax error).
bool readProcessPlan(const std::string& path, ProcessPlan& plan, std::string& error);

enum class ProcessItemKind { kBuild, kRun };
std::string_view processItemKindName(ProcessItemKind kind);

/// What the program's own output check said (`mirtune-check: ok` / `mirtune-check: failed ...`).
enum class SelfCheck { kAbsent, kOk, kFailed };
std::string_view selfCheckName(SelfCheck check);

/// One line of a results file. Build lines use the fields up to `standardError`; run lines use all.
struct ProcessResult {
  std::string id;
  ProcessItemKind kind = ProcessItemKind::kRun;
  /// Outcome of the build or run. Runs of a failed build carry the build's status without running.
  MeasureStatus status = MeasureStatus::kOk;
  double seconds = 0;  ///< build: wall time of the compile
  int exitCode = -1;   ///< exit status of the last (or failing) process; -1 when it did not exit
  int signal = 0;      ///< signal that ended it; 0 when none
  /// What went wrong, for people; empty when ok, unless the program left processes outside its process group
  /// that the runner had to kill (then a note says so, for an ok result too).
  std::string message;
  std::string standardError;  ///< tail of the last (or failing) process's stderr

  // Runs only.
  TimerMode timer = TimerMode::kAuto;  ///< kRegion or kWall once a repetition ran; kAuto when none did
  std::vector<double> times;           ///< measured repetitions, seconds, in order
  SampleSummary summary;               ///< of `times`
  int repetitions = 0;                 ///< measured repetitions (== times.size())
  int warmup = 0;                      ///< warm-up repetitions that ran
  SelfCheck selfCheck = SelfCheck::kAbsent;
  std::string stdoutSha256;   ///< SHA-256 of the first measured repetition's stdout without region lines
  std::string stdoutExcerpt;  ///< its first 4 KiB
  bool stdoutStable = true;   ///< every measured repetition's filtered stdout had the same digest
  double wallSeconds = 0;     ///< the whole run, warm-up included
};

/// Reads one parsed results line; false with `error` naming the offending key otherwise.
bool parseProcessResultLine(const nlohmann::json& json, ProcessResult& result, std::string& error);
nlohmann::json processResultToJson(const ProcessResult& result);
/// One results line: the compact JSON (invalid UTF-8 in captured output replaced) and a newline.
std::string processResultLine(const ProcessResult& result);

/// A results file as read back: the complete lines, and how many bytes they span.
struct ProcessResultsFile {
  std::vector<ProcessResult> results;
  std::uint64_t completeBytes = 0;  ///< length of the prefix made of complete lines
  bool droppedTail = false;  ///< the last line was unfinished or unreadable (a killed writer) and ignored
};

/// Reads a results file. A last line without its newline or that does not parse is what a writer killed
/// mid-line leaves: it is ignored (droppedTail). Any earlier bad line is an error naming file and line.
bool readProcessResultsFile(const std::string& path, ProcessResultsFile& file, std::string& error);
/// The complete results of a file, as readProcessResultsFile reads them.
bool readProcessResults(const std::string& path, std::vector<ProcessResult>& results, std::string& error);

}  // namespace mirtune::runner
