// The one path from a clang command line to an in-process compiler: driver, its single cc1 job, a
// CompilerInvocation and a CompilerInstance, with clang's diagnostics collected as text. Internal to
// mirtune_frontend (it exposes Clang types).
#pragma once

#include "support/Error.h"

#include <clang/Basic/Diagnostic.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <llvm/ADT/IntrusiveRefCntPtr.h>
#include <llvm/Support/VirtualFileSystem.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// The folder driverArguments() names the built-in headers (OpenCL prelude, CUDA shim) under;
/// clangFileSystem() serves them there from memory, so nothing is written to disk.
inline constexpr const char* kBuiltinHeaderDirectory = "/mirtune-builtin";

/// The real file system with the built-in headers laid over it and, when `inMemoryName` is not empty, one
/// more file of that name holding `inMemoryContent` (a source that is not on disk).
llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> clangFileSystem(std::string_view inMemoryName = {},
                                                                std::string_view inMemoryContent = {});

/// Collects clang's diagnostics as text, each prefixed "file:line:col: " when clang gives a location:
/// every error, and the warnings too when asked.
class ClangDiagnostics : public clang::DiagnosticConsumer {
 public:
  explicit ClangDiagnostics(bool keepWarnings = false) : keepWarnings_(keepWarnings) {}

  void HandleDiagnostic(clang::DiagnosticsEngine::Level level, const clang::Diagnostic& info) override;

  const std::vector<std::string>& errors() const { return errors_; }
  /// "file:line:col: warning: text" (empty unless constructed with keepWarnings).
  const std::vector<std::string>& warnings() const { return warnings_; }

  /// kCompileError: the first error, with `displayName` put in front when the error does not name it (driver
  /// errors, errors inside an included file), and "(and N more errors)"; "<displayName>: compilation failed"
  /// when clang reported none.
  Error compileError(const std::string& displayName) const;

 private:
  bool keepWarnings_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

/// One compile as the driver sees it: `clang <driverArguments> <inputPath>`.
struct ClangJob {
  std::vector<std::string> driverArguments;  ///< everything between the clang executable and the input
  std::string inputPath;                     ///< the input as clang opens it (on disk or in fileSystem)
  std::string displayName;                   ///< the input as error messages name it
  llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fileSystem;  ///< clangFileSystem() when null
};

/// Runs the clang driver on `job` and turns the one cc1 job it plans into a CompilerInvocation that frees
/// its memory and prints no carets (errors come back as values). Errors: the driver's or the invocation's
/// diagnostics as `diagnostics.compileError(job.displayName)`; kInternal naming the input when the driver
/// planned no compile job or more than one.
Expected<std::shared_ptr<clang::CompilerInvocation>> createCompilerInvocation(const ClangJob& job,
                                                                              ClangDiagnostics& diagnostics);

/// createCompilerInvocation, then a CompilerInstance using it, reporting to `diagnostics` (not owned, must
/// outlive the instance) and reading files through the job's file system: ready for ExecuteAction.
Expected<std::unique_ptr<clang::CompilerInstance>> createCompilerInstance(const ClangJob& job,
                                                                          ClangDiagnostics& diagnostics);

}  // namespace mirtune
