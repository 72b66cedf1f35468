// The IR front end: OpenCL C, C/C++ with OpenMP, CUDA device code and LLVM IR (.ll/.bc) → IrModule, compiled
// in-process by Clang 14 (no subprocess), with clear errors for bad input.
#pragma once

#include "frontend/IrModule.h"
#include "frontend/Language.h"
#include "support/Error.h"

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
};

/// Compiles (or, for .ll/.bc, parses and verifies) one file. Errors are one message naming the file, with
/// line:column and the compiler's own diagnostic for compile errors; kNotFound for a missing file,
/// kInvalidInput for empty, binary or unrecognised input, kCompileError for rejected code.
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
