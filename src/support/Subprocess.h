// Running a child program: argv only (no shell), environment overrides, a timeout that kills the whole
// process group, stdout/stderr captured.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mirtune {

struct SubprocessOptions {
  /// argv[0] is a path (contains '/') or a program name looked up on PATH.
  std::vector<std::string> argv;
  /// Variables set (or replaced) in the child's environment; everything else is inherited.
  std::map<std::string, std::string> environment;
  /// Variables removed from the child's environment.
  std::vector<std::string> unsetEnvironment;
  /// Wall-clock limit in seconds; <= 0 means none. On expiry the child's whole process group is killed.
  double timeoutSeconds = 0;
  /// Working directory of the child; empty = the current one.
  std::filesystem::path workingDirectory;
  /// Bytes written to the child's stdin (then closed); empty = stdin is /dev/null.
  std::string standardInput;
};

struct SubprocessResult {
  int exitCode = -1;      ///< exit status when the child exited normally, else -1
  int termSignal = 0;     ///< signal that ended the child, 0 if it exited (or was killed on timeout)
  bool timedOut = false;  ///< true when mirtune killed the group on timeout (exitCode is then meaningless)
  std::string standardOutput;
  std::string standardError;
  double wallSeconds = 0;  ///< from start to the end of the child and its pipes

  bool succeeded() const { return !timedOut && termSignal == 0 && exitCode == 0; }
  /// "exit code 3", "killed by signal 11 (Segmentation fault)", "timed out after 2.0 s".
  std::string describe() const;
};

/// Where `program` (a name without a slash) lies on PATH, as runSubprocess looks it up; empty when it is not
/// there.
std::filesystem::path findOnPath(const std::string& program);

/// Runs the program to completion. An Error only when it cannot be started (not found, not executable);
/// a failing, crashing or hanging child is a result, not an Error.
Expected<SubprocessResult> runSubprocess(const SubprocessOptions& options);

}  // namespace mirtune
