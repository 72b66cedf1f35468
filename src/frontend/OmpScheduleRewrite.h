// Rewrites the schedule of every OpenMP worksharing loop in a C/C++ file to schedule(runtime), so one binary
// can be run under each OMP_SCHEDULE setting; every other byte of the file stays as it was.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

/// One OpenMP loop directive found in the file (or in a header it includes).
struct OmpLoopSite {
  std::string file;              ///< the file that holds the directive (the source, or a header)
  int line = 0;                  ///< 1-based line of the directive's `#pragma` (or `_Pragma`)
  int column = 0;                ///< 1-based column of the same
  int loopLine = 0;              ///< 1-based line of the associated loop's `for`
  std::string directive;         ///< OpenMP spelling: "for", "parallel for", "parallel for simd", "simd", ...
  std::string originalSchedule;  ///< the schedule clause as written ("schedule(dynamic, 4)"), "" when none
  bool rewritten = false;        ///< the file text was changed for this directive
  bool runtimeSchedule = false;  ///< after the rewrite the loop takes its schedule from OMP_SCHEDULE
  std::string note;              ///< why it was left alone, or "" when rewritten
};

struct OmpRewriteResult {
  std::string text;                ///< the rewritten file (equal to the input when nothing changed)
  std::vector<OmpLoopSite> sites;  ///< every loop directive, in source order (main file first)

  /// Sites whose text was changed.
  int rewrittenCount() const;
};

/// The schedule clause every rewritten loop gets.
inline constexpr const char* kRuntimeScheduleClause = "schedule(runtime)";

/// Parses `source` (.c or C++ extension; OpenMP on) and makes each worksharing loop directive in it
/// (`for`, `parallel for`, `for simd`, `parallel for simd`, `distribute parallel for`, target/teams forms)
/// use schedule(runtime): an existing schedule clause is replaced where it stands, a directive without one
/// gets " schedule(runtime)" after its last clause (before a trailing comment, on the last continuation
/// line). Left alone with a note: `ordered` loops, directives that take no schedule (`simd`, `distribute`,
/// `taskloop`, ...), directives in headers, and directives or schedule clauses made by macro expansion.
/// `extraFlags` go to the compiler as they are (-I, -D, -std=...). Errors: kNotFound, kInvalidInput (not
/// C/C++), kCompileError "file:line:col: message" when the source does not compile.
Expected<OmpRewriteResult> rewriteOmpSchedules(const std::filesystem::path& source,
                                               const std::vector<std::string>& extraFlags = {});

}  // namespace mirtune
