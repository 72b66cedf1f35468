// Driver -> cc1 job -> CompilerInvocation -> CompilerInstance, written once for compiling, AST visits and
// coarsening rewrites.
#include "frontend/ClangDriver.h"

#include "frontend/EmbeddedResources.h"

#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Driver/Compilation.h>
#include <clang/Driver/Driver.h>
#include <clang/Driver/Job.h>
#include <clang/Driver/Tool.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/MemoryBuffer.h>

#include <fmt/format.h>

namespace mirtune {

llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> clangFileSystem(std::string_view inMemoryName,
                                                                std::string_view inMemoryContent) {
  auto overlay = llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(llvm::vfs::getRealFileSystem());
  auto memory = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  for (const EmbeddedResource& resource : embeddedResources()) {
    memory->addFile(fmt::format("{}/{}", kBuiltinHeaderDirectory, resource.name), 0,
                    llvm::MemoryBuffer::getMemBuffer(
                        llvm::StringRef(resource.content.data(), resource.content.size()), resource.name));
  }
  if (!inMemoryName.empty()) {
    memory->addFile(
        llvm::StringRef(inMemoryName.data(), inMemoryName.size()), 0,
        llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(inMemoryContent.data(), inMemoryContent.size()),
                                             llvm::StringRef(inMemoryName.data(), inMemoryName.size())));
  }
  overlay->pushOverlay(memory);
  return overlay;
}

void ClangDiagnostics::HandleDiagnostic(clang::DiagnosticsEngine::Level level,
                                        const clang::Diagnostic& info) {
  DiagnosticConsumer::HandleDiagnostic(level, info);
  const bool isError = level >= clang::DiagnosticsEngine::Error;
  const bool isWarning = level == clang::DiagnosticsEngine::Warning;
  if (!isError && !(isWarning && keepWarnings_)) return;
  llvm::SmallString<256> text;
  info.FormatDiagnostic(text);
  std::string location;
  if (info.getLocation().isValid() && info.hasSourceManager()) {
    clang::PresumedLoc presumed = info.getSourceManager().getPresumedLoc(info.getLocation());
    if (presumed.isValid()) {
      location = fmt::format("{}:{}:{}: ", presumed.getFilename(), presumed.getLine(), presumed.getColumn());
    }
  }
  if (isError) {
    errors_.push_back(location + text.str().str());
  } else {
    warnings_.push_back(fmt::format("{}warning: {}", location, text.str().str()));
  }
}

Error ClangDiagnostics::compileError(const std::string& displayName) const {
  if (errors_.empty()) return makeError(ErrorCode::kCompileError, "{}: compilation failed", displayName);
  std::string message = errors_.front();
  if (message.find(displayName) == std::string::npos) message = displayName + ": " + message;
  if (errors_.size() > 1)
    message += fmt::format(" (and {} more error{})", errors_.size() - 1, errors_.size() > 2 ? "s" : "");
  return Error(ErrorCode::kCompileError, message);
}

Expected<std::shared_ptr<clang::CompilerInvocation>> createCompilerInvocation(const ClangJob& job,
                                                                              ClangDiagnostics& diagnostics) {
  llvm::IntrusiveRefCntPtr<clang::DiagnosticOptions> diagnosticOptions = new clang::DiagnosticOptions();
  llvm::IntrusiveRefCntPtr<clang::DiagnosticIDs> diagnosticIds(new clang::DiagnosticIDs());
  clang::DiagnosticsEngine driverDiagnostics(diagnosticIds, &*diagnosticOptions, &diagnostics,
                                             /*ShouldOwnClient=*/false);

  std::vector<const char*> argumentPointers = {MIRTUNE_CLANG_EXECUTABLE};
  for (const std::string& argument : job.driverArguments) argumentPointers.push_back(argument.c_str());
  argumentPointers.push_back(job.inputPath.c_str());

  clang::driver::Driver driver(MIRTUNE_CLANG_EXECUTABLE, llvm::sys::getDefaultTargetTriple(),
                               driverDiagnostics, "mirtune",
                               job.fileSystem ? job.fileSystem : clangFileSystem());
  // Callers have read the input already, or serve it from memory, where the driver's check cannot see it.
  driver.setCheckInputsExist(false);
  std::unique_ptr<clang::driver::Compilation> compilation(driver.BuildCompilation(argumentPointers));
  if (!compilation || driverDiagnostics.hasErrorOccurred()) return diagnostics.compileError(job.displayName);
  const clang::driver::Command* cc1 = nullptr;
  for (const clang::driver::Command& command : compilation->getJobs()) {
    if (llvm::StringRef(command.getCreator().getName()) != "clang") continue;
    if (cc1 != nullptr) {
      return makeError(ErrorCode::kInternal, "{}: driver planned more than one compile job", job.displayName);
    }
    cc1 = &command;
  }
  if (cc1 == nullptr)
    return makeError(ErrorCode::kInternal, "{}: driver planned no compile job", job.displayName);

  auto invocation = std::make_shared<clang::CompilerInvocation>();
  if (!clang::CompilerInvocation::CreateFromArgs(*invocation, cc1->getArguments(), driverDiagnostics) ||
      driverDiagnostics.hasErrorOccurred()) {
    return diagnostics.compileError(job.displayName);
  }
  invocation->getFrontendOpts().DisableFree = false;
  // Errors come back as values; clang's own "N errors generated." line would only add noise on stderr.
  invocation->getDiagnosticOpts().ShowCarets = false;
  return std::move(invocation);
}

Expected<std::unique_ptr<clang::CompilerInstance>> createCompilerInstance(const ClangJob& job,
                                                                          ClangDiagnostics& diagnostics) {
  ClangJob resolved = job;
  if (!resolved.fileSystem) resolved.fileSystem = clangFileSystem();
  auto invocation = createCompilerInvocation(resolved, diagnostics);
  if (!invocation) return invocation.error();
  auto compiler = std::make_unique<clang::CompilerInstance>();
  compiler->setInvocation(std::move(*invocation));
  compiler->createDiagnostics(&diagnostics, /*ShouldOwnClient=*/false);
  compiler->createFileManager(resolved.fileSystem);
  return std::move(compiler);
}

}  // namespace mirtune
