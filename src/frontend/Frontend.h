// The IR front end: OpenCL C, C/C++ with OpenMP, CUDA device code and LLVM IR (.ll/.bc) → IrModule, compiled
// by the Clang 14 linked into mirtune (no clang executable) in an isolated worker process, with clear errors
// for bad input and for inputs that crash or hang the compiler.
#pragma once

#include "frontend/IrModule.h"
#include "frontend/Language.h"
#include "support/Error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

struct CompileOptions {
  /// Overrides the language derived from the file extension.
  std::optional<Language> language;
  /// -O0..-O3. The default, 2, matches the optimised IR of the published data sets.
  int optimizationLevel = 2;
  /// -D values: "NAME" or "NAME=VALUE".
  std::vector<std::string> defines;
  /// -I folders.
  std::vector<std::string> includeDirectories;
  /// OpenCL C standard: "CL1.2", "CL2.0" or "CL3.0".
  std::string openClStandard = "CL1.2";
  /// Prepend mirtune's OpenCL compatibility prelude (names the data sets' kernels expect from their build,
  /// see resources/opencl_compat.h). Every name is #ifndef-guarded, so a kernel's own definitions win.
  bool openClCompatPrelude = true;
  /// GPU architecture for CUDA device code (clang 14 knows sm_20 … sm_86).
  std::string cudaArchitecture = "sm_80";
  /// Passed to the Clang driver as they are (advanced use).
  std::vector<std::string> extraArguments;
  /// Wall-clock limit of one compile or IR parse, in seconds; past it the worker is killed and the result is
  /// a kTimeout error. 0: no limit.
  double timeoutSeconds = 300;
  /// Memory one compile may map beyond what its worker inherits, in MiB; an allocation past it ends the
  /// compile with an error. 0: no limit.
  std::uint64_t memoryLimitMiB = 4096;
};

/// Compiles (or, for .ll/.bc, parses and verifies) one file. Errors are one message naming the file, with
/// line:column and the compiler's own diagnostic for compile errors; kNotFound for a missing file,
/// kInvalidInput for empty, binary or unrecognised input, kCompileError for rejected code and for a compiler
/// that crashed ("FILE: compiler crashed: signal 11 (Segmentation fault)"), ran out of memory or hit an LLVM
/// fatal error (kInvalidInput when that was the LLVM IR reader), kTimeout for one that ran past
/// options.timeoutSeconds.
///
/// The compile runs in a worker process forked from a server that mirtune starts on the first compile (see
/// ForkServer.h), on an 8 MiB stack like the clang executable's, so a compiler crash ends that compile only;
/// the module comes back as bitcode and is identical to one compiled in this process. Thread-safe. For
/// debugging the compiler, MIRTUNE_COMPILE_IN_PROCESS=1 in the environment compiles in the calling thread
/// instead, without limits: a compiler crash then ends the process.
Expected<IrModule> compileFile(const std::filesystem::path& path, const CompileOptions& options = {});

/// Compiles source text held in memory; `name` is the file name diagnostics show (its extension picks the
/// language unless options.language is set).
Expected<IrModule> compileSource(std::string_view source, const std::string& name,
                                 const CompileOptions& options = {});

/// "Debian clang version 14.0.6" or similar: the Clang that is linked in.
std::string clangVersion();

/// The Clang driver arguments (after "clang") mirtune uses for a language; exposed for tests and --verbose.
std::vector<std::string> driverArguments(Language language, const CompileOptions& options);

}  // namespace mirtune
