// `mirtune-run process`: builds and measures programs as separate process groups and appends JSON-lines
// results.
#pragma once

#include <sys/types.h>

#include <string>

namespace mirtune::runner {

struct ProcessCommandOptions {
  std::string planPath;     ///< the plan (ProcessPlan JSON); relative paths in it are relative to its folder
  std::string resultsPath;  ///< JSON lines, one per finished build or run, appended and fsync'ed
  bool resume = false;      ///< continue a results file: skip items that already have a complete line
  bool jsonProgress = false;  ///< progress on stderr as JSON lines instead of text
  /// Stop (as on SIGTERM) when the process that started the runner dies, e.g. a tuning session killed with
  /// SIGKILL, so a later --resume never races an orphaned runner.
  bool dieWithParent = false;
  /// With dieWithParent: the process that started the runner (directly or through a wrapper); when it is
  /// neither the parent nor an ancestor (it died before the runner could ask to follow it), the runner stops
  /// at once. 0 = the parent at startup.
  pid_t parentPid = 0;
};

/// Exit statuses of `mirtune-run process`.
inline constexpr int kProcessAllOk = 0;          ///< every build and run is ok
inline constexpr int kProcessSomeFailed = 1;     ///< the plan ran to the end, but some item is not ok
inline constexpr int kProcessUnusable = 2;       ///< invalid plan or unusable results file; nothing ran
inline constexpr int kProcessInterrupted = 128;  ///< plus the signal number (SIGTERM -> 143, SIGINT -> 130)

/// Runs the plan: builds first (up to parallel_builds at once), then each run alone. Returns an exit status
/// above. On SIGTERM/SIGINT/SIGHUP the current children's process groups are killed and no line is written
/// for the unfinished items.
int runProcessCommand(const ProcessCommandOptions& options);

}  // namespace mirtune::runner
