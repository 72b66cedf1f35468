// The IR of one source loop: the innermost LLVM loop whose debug line is the loop's source line, moved into a
// function of its own in a module of its own, plus its enclosing function, for embedding a single loop.
#pragma once

#include "frontend/Frontend.h"
#include "frontend/IrModule.h"
#include "support/Error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

/// One loop's IR. Both modules are canonicalised (no debug info) and keep only what their code references.
struct LoopSlice {
  std::string function;  ///< the source function named by the caller
  int line = 0;          ///< the loop's source line
  /// True when an LLVM loop with this line was found and extracted; false when `loop` is the enclosing
  /// function (the loop was folded away, fully unrolled or not extractable) and `note` says why.
  bool matched = false;
  std::string note;
  std::string irFunction;  ///< the LLVM function that held the loop (differs after inlining)
  IrModule loop;           ///< the loop's blocks as one function, "loop_slice"
  IrModule enclosing;      ///< the enclosing LLVM function with its callees as declarations
};

/// Compiles a C/C++ file the way loop slices need it: optimised (options.optimizationLevel) with line tables,
/// but without loop unrolling and vectorisation, so each source loop stays one LLVM loop carrying its line
/// and the IR shows the loop before the decisions the unroll task tunes.
Expected<IrModule> compileForLoopSlices(const std::filesystem::path& source, CompileOptions options = {});

/// The slice of the loop starting on `line` of the module's main source file, preferring loops in the LLVM
/// function named `function` (a C name, or the last component of a qualified C++ name) and otherwise any
/// function it was inlined into. kNotFound when no function of that name exists and no loop carries the line;
/// a function without such a loop gives matched = false.
Expected<LoopSlice> sliceLoop(const IrModule& module, const std::string& function, int line);

/// Every innermost loop of `source` (findInnermostLoops, main file only: loops of headers are skipped) with
/// its slice, in source order. Loops whose slice fails are left out with a warning in the log.
struct SourceLoopSlices {
  std::vector<LoopSlice> slices;
  std::vector<std::string> skipped;  ///< "file:line: why" for each loop without a slice
};
Expected<SourceLoopSlices> sliceSourceLoops(const std::filesystem::path& source,
                                            const CompileOptions& options = {});

}  // namespace mirtune
