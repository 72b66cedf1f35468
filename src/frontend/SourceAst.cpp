// In-process Clang parse to an AST: the driver plans the cc1 job for the file's language exactly as
// compileFile does, and a syntax-only action hands the finished translation unit to a visitor.
#include "frontend/SourceAst.h"

#include "frontend/ClangDriver.h"
#include "frontend/Frontend.h"
#include "frontend/TrialRun.h"
#include "support/Files.h"
#include "support/Log.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>

#include <algorithm>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

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
Status parseAndVisit(const std::string& displayName, Language language,
                     const std::vector<std::string>& extraFlags, const SourceAstVisitor& visit) {
  CompileOptions options;
  options.extraArguments = extraFlags;
  ClangJob job{driverArguments(language, options), displayName, displayName, clangFileSystem()};
  logDebug("clang (AST only) {} {}", fmt::join(job.driverArguments, " "), displayName);
  ClangDiagnostics errors;
  auto compiler = createCompilerInstance(job, errors);
  if (!compiler) return compiler.error();

  Status result = success();
  bool visited = false;
  VisitingAction action(visit, language, result, visited);
  bool ok = (*compiler)->ExecuteAction(action);
  if (!ok || (*compiler)->getDiagnostics().hasErrorOccurred() || !errors.errors().empty())
    return errors.compileError(displayName);
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
