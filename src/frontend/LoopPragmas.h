// Innermost loops of a source file and `#pragma clang loop` insertion before them, for the unroll task: the
// tuner names a loop by its line and gets back the file with exactly one pragma line added or replaced.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

enum class LoopKind { kFor, kRangeFor, kWhile, kDo };

/// "for", "range-for", "while", "do".
std::string_view loopKindName(LoopKind kind);

/// One innermost loop (no loop nested inside it).
struct LoopSite {
  std::string file;      ///< the file holding the loop keyword: the source itself, or a header it includes
  std::string function;  ///< enclosing function, qualified in C++ ("ns::Grid::step")
  int line = 0;    ///< 1-based line of the loop keyword (of the macro use when the loop comes from a macro)
  int column = 0;  ///< 1-based column of the same
  LoopKind kind = LoopKind::kFor;
  int depth = 1;                             ///< nesting level inside its function, 1 = not nested
  bool inHeader = false;                     ///< in an included header: reported, never rewritten
  bool fromMacro = false;                    ///< the loop statement is produced by a macro expansion
  bool insertable = false;                   ///< insertLoopPragmas accepts this loop's line
  std::vector<std::string> existingPragmas;  ///< loop pragma lines already on it, as written
  std::string note;                          ///< why it is not insertable ("in header x.h: skipped", ...)
};

/// A pragma for the loop on `line` (as findInnermostLoops reports it). `text` follows "#pragma ", e.g.
/// "clang loop unroll_count(4)"; an empty text means no pragma at all (the compiler's own heuristics).
struct LoopPragma {
  int line = 0;
  std::string text;

  /// "clang loop unroll_count(N)": unroll by exactly `count` (count >= 1).
  static LoopPragma unrollCount(int line, int count);
  /// "clang loop unroll(disable)".
  static LoopPragma unrollDisable(int line);
  /// "clang loop vectorize_width(W) interleave_count(I)".
  static LoopPragma vectorize(int line, int width, int interleave);
  /// No pragma: removes an existing loop pragma, adds nothing.
  static LoopPragma compilerDefault(int line);
};

/// Every innermost for/range-for/while/do loop of `source` (C, C++, OpenCL C or CUDA) and of the headers it
/// includes from outside the system folders, in source order, main file first. Loops directly under an
/// OpenMP loop directive, loops made by a macro and loops in headers are listed with insertable = false and
/// a note. `extraFlags` go to the compiler as they are. Errors: kNotFound, kInvalidInput, kCompileError
/// "file:line:col: message".
Expected<std::vector<LoopSite>> findInnermostLoops(const std::filesystem::path& source,
                                                   const std::vector<std::string>& extraFlags = {});

/// The text of `source` with `#pragma <text>` on its own line just before each named loop, indented like the
/// loop's line. Loop pragmas already attached to that loop (`#pragma clang loop`, `unroll`, `nounroll`,
/// `GCC unroll`) are replaced rather than stacked; every other byte is unchanged. Errors: kUsage for a line
/// named twice or a multi-line text; kInvalidInput "file:line: ..." for a line where no insertable
/// innermost loop starts; the parse errors of findInnermostLoops.
Expected<std::string> insertLoopPragmas(const std::filesystem::path& source,
                                        const std::vector<LoopPragma>& pragmas,
                                        const std::vector<std::string>& extraFlags = {});

}  // namespace mirtune
