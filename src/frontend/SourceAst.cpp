// In-process Clang parse to an AST: the driver plans the cc1 job for the file's language exactly as
// compileFile does, and a syntax-only action hands the finished translation unit to a visitor.
#include "frontend/SourceAst.h"

#include "frontend/TrialRun.h"

#include "frontend/EmbeddedResources.h"
#include "frontend/Frontend.h"
#include "support/Files.h"
#include "support/Log.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Driver/Compilation.h>
#include <clang/Driver/Driver.h>
#include <clang/Driver/Job.h>
#include <clang/Driver/Tool.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <clang/Frontend/FrontendAction.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/VirtualFileSystem.h>

#include <algorithm>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

// driverArguments() names the built-in headers (OpenCL prelude, CUDA shim) under this folder; Frontend.cpp
// serves them from memory at the same place.
constexpr const char* kBuiltinHeaderDirectory = "/mirtune-builtin";

class ErrorCollector : public clang::DiagnosticConsumer {
 public:
  void HandleDiagnostic(clang::DiagnosticsEngine::Level level, const clang::Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < clang::DiagnosticsEngine::Error) return;
    llvm::SmallString<256> text;
    info.FormatDiagnostic(text);
    std::string location;
    if (info.getLocation().isValid() && info.hasSourceManager()) {
      clang::PresumedLoc presumed = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (presumed.isValid()) {
        location =
            fmt::format("{}:{}:{}: ", presumed.getFilename(), presumed.getLine(), presumed.getColumn());
      }
    }
    errors_.push_back(location + text.str().str());
  }

  /// The first error, prefixed with the file name when clang gave no location.
  Error firstError(const std::string& displayName) const {
    if (errors_.empty())
      return makeError(ErrorCode::kCompileError, "{}: the source does not compile", displayName);
    std::string message = errors_.front();
    if (message.find(displayName) == std::string::npos) message = displayName + ": " + message;
    if (errors_.size() > 1) {
      message += fmt::format(" (and {} more error{})", errors_.size() - 1, errors_.size() > 2 ? "s" : "");
    }
    return Error(ErrorCode::kCompileError, message);
  }

  bool empty() const { return errors_.empty(); }

 private:
  std::vector<std::string> errors_;
};

class VisitingConsumer : public clang::ASTConsumer {
 public:
  VisitingConsumer(const SourceAstVisitor& visit, Language language, Status& result)
      : visit_(visit), language_(language), result_(result) {}

  void HandleTranslationUnit(clang::ASTContext& context) override {
    // A translation unit with errors has holes in its AST; the caller reports the errors instead.
    if (context.getDiagnostics().hasErrorOccurred()) return;
    result_ = visit_(context, language_);
    visited_ = true;
  }

  bool visited() const { return visited_; }

 private:
  const SourceAstVisitor& visit_;
  Language language_;
  Status& result_;
  bool visited_ = false;
};

class VisitingAction : public clang::ASTFrontendAction {
 public:
  VisitingAction(const SourceAstVisitor& visit, Language language, Status& result, bool& visited)
      : visit_(visit), language_(language), result_(result), visited_(visited) {}

  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance& /*compiler*/,
                                                        llvm::StringRef /*file*/) override {
    auto consumer = std::make_unique<VisitingConsumer>(visit_, language_, result_);
    consumer_ = consumer.get();
    return consumer;
  }

  void EndSourceFileAction() override {
    if (consumer_ != nullptr) visited_ = consumer_->visited();
  }

 private:
  const SourceAstVisitor& visit_;
  Language language_;
  Status& result_;
  bool& visited_;
  VisitingConsumer* consumer_ = nullptr;
};

llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> builtinHeaderFileSystem() {
  auto overlay = llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(llvm::vfs::getRealFileSystem());
  auto memory = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  for (const EmbeddedResource& resource : embeddedResources()) {
    memory->addFile(fmt::format("{}/{}", kBuiltinHeaderDirectory, resource.name), 0,
                    llvm::MemoryBuffer::getMemBuffer(
                        llvm::StringRef(resource.content.data(), resource.content.size()), resource.name));
  }
  overlay->pushOverlay(memory);
  return overlay;
}

std::string acceptedExtensions(std::initializer_list<Language> accepted) {
  std::string out;
  for (const LanguageInfo& info : kLanguages) {
    if (std::find(accepted.begin(), accepted.end(), info.language) == accepted.end()) continue;
    for (std::string_view extension : info.extensions) {
      if (extension.empty()) continue;
      if (!out.empty()) out += ", ";
      out += extension;
    }
  }
  return out;
}

}  // namespace

namespace {

// The parse itself: driver arguments, one cc1 job, the AST, the visit.
Status parseAndVisit(const std::string& displayName, Language language, const std::vector<std::string>& extraFlags,
                     const SourceAstVisitor& visit) {
  ErrorCollector errors;
  llvm::IntrusiveRefCntPtr<clang::DiagnosticOptions> diagnosticOptions = new clang::DiagnosticOptions();
  llvm::IntrusiveRefCntPtr<clang::DiagnosticIDs> diagnosticIds(new clang::DiagnosticIDs());
  clang::DiagnosticsEngine driverDiagnostics(diagnosticIds, &*diagnosticOptions, &errors,
                                             /*ShouldOwnClient=*/false);

  CompileOptions options;
  options.extraArguments = extraFlags;
  std::vector<std::string> arguments = {MIRTUNE_CLANG_EXECUTABLE};
  for (std::string& argument : driverArguments(language, options)) arguments.push_back(std::move(argument));
  arguments.push_back(displayName);
  std::vector<const char*> argumentPointers;
  for (const std::string& argument : arguments) argumentPointers.push_back(argument.c_str());
  logDebug("clang (AST only) {}", fmt::join(arguments.begin() + 1, arguments.end(), " "));

  auto fileSystem = builtinHeaderFileSystem();
  clang::driver::Driver driver(MIRTUNE_CLANG_EXECUTABLE, llvm::sys::getDefaultTargetTriple(),
                               driverDiagnostics, "mirtune", fileSystem);
  std::unique_ptr<clang::driver::Compilation> compilation(driver.BuildCompilation(argumentPointers));
  if (!compilation || driverDiagnostics.hasErrorOccurred()) return errors.firstError(displayName);
  const clang::driver::Command* cc1 = nullptr;
  for (const clang::driver::Command& job : compilation->getJobs()) {
    if (llvm::StringRef(job.getCreator().getName()) == "clang") {
      if (cc1 != nullptr)
        return makeError(ErrorCode::kInternal, "{}: driver planned more than one compile job", displayName);
      cc1 = &job;
    }
  }
  if (cc1 == nullptr)
    return makeError(ErrorCode::kInternal, "{}: driver planned no compile job", displayName);

  auto invocation = std::make_shared<clang::CompilerInvocation>();
  if (!clang::CompilerInvocation::CreateFromArgs(*invocation, cc1->getArguments(), driverDiagnostics) ||
      driverDiagnostics.hasErrorOccurred()) {
    return errors.firstError(displayName);
  }
  invocation->getFrontendOpts().DisableFree = false;
  // Errors come back as values; clang's own "N errors generated." line would go to stderr.
  invocation->getDiagnosticOpts().ShowCarets = false;

  clang::CompilerInstance compiler;
  compiler.setInvocation(std::move(invocation));
  compiler.createDiagnostics(&errors, /*ShouldOwnClient=*/false);
  compiler.createFileManager(fileSystem);

  Status result = success();
  bool visited = false;
  VisitingAction action(visit, language, result, visited);
  bool ok = compiler.ExecuteAction(action);
  if (!ok || compiler.getDiagnostics().hasErrorOccurred() || !errors.empty())
    return errors.firstError(displayName);
  if (!visited)
    return makeError(ErrorCode::kInternal, "{}: the parser produced no translation unit", displayName);
  return result;
}

}  // namespace

Status withSourceAst(const fs::path& source, const std::vector<std::string>& extraFlags,
                     std::initializer_list<Language> accepted, const SourceAstVisitor& visit) {
  const std::string displayName = source.string();
  auto content = readFile(source);
  if (!content) return content.error();
  std::optional<Language> language = languageFromExtension(source.extension().string());
  if (!language || std::find(accepted.begin(), accepted.end(), *language) == accepted.end()) {
    return makeError(ErrorCode::kInvalidInput, "{}: expected a source file ending in one of {}", displayName,
                     acceptedExtensions(accepted));
  }
  if (content->find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
    return makeError(ErrorCode::kInvalidInput, "{}: empty file (no {} code in it)", displayName,
                     languageDisplayName(*language));
  }

  // Clang may crash or recurse past any stack on hostile input: the parse is tried in a child first, then done
  // here on a stack as deep as the child's.
  auto parse = [&] { return parseAndVisit(displayName, *language, extraFlags, visit); };
  if (Status trial = trialRun(displayName, [&] { (void)parse(); }); !trial) return trial.error();
  Status result = success();
  runOnStack(kTrialStackBytes, [&] { result = parse(); });
  return result;
}

Expected<std::string> applyTextEdits(std::string_view text, std::vector<TextEdit> edits) {
  std::stable_sort(edits.begin(), edits.end(),
                   [](const TextEdit& a, const TextEdit& b) { return a.offset < b.offset; });
  std::string out;
  out.reserve(text.size() + 64 * edits.size());
  std::size_t copied = 0;
  for (const TextEdit& edit : edits) {
    if (edit.offset < copied || edit.offset + edit.length > text.size()) {
      return makeError(ErrorCode::kInternal, "overlapping or out-of-range source edit at byte {}",
                       edit.offset);
    }
    out.append(text.substr(copied, edit.offset - copied));
    out += edit.replacement;
    copied = edit.offset + edit.length;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace mirtune
