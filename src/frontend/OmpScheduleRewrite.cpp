// OpenMP schedule rewrite: the AST finds each loop directive and its clauses' exact source ranges; the text
// edits touch only the schedule clause (or the point just after the directive's last token).
#include "frontend/OmpScheduleRewrite.h"

#include "frontend/SourceAst.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/OpenMPClause.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtOpenMP.h>
#include <clang/Basic/OpenMPKinds.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>
#include <llvm/Frontend/OpenMP/OMPConstants.h>

#include <algorithm>
#include <optional>
#include <set>

namespace mirtune {

namespace {

struct FoundSite {
  OmpLoopSite site;
  bool inMainFile = false;
  unsigned offset = 0;  ///< of the directive in its file, for ordering
  std::optional<TextEdit> edit;
};

std::string spelling(const clang::SourceManager& sm, const clang::LangOptions& lang,
                     clang::SourceRange range) {
  return clang::Lexer::getSourceText(clang::CharSourceRange::getTokenRange(range), sm, lang).str();
}

// Offset just past the last token of the directive that starts at `hashOffset`. The preprocessor ends a
// directive at the end of its logical line (backslash continuations included, comments skipped); the raw
// lexer sees the same: the first token that starts a new line, or one at/after the directive's end-of-line
// marker, is no longer part of it.
std::optional<unsigned> directiveTokensEnd(const clang::SourceManager& sm, const clang::LangOptions& lang,
                                           clang::FileID file, unsigned hashOffset,
                                           unsigned endOfLineOffset) {
  llvm::StringRef buffer = sm.getBufferData(file);
  if (hashOffset >= buffer.size()) return std::nullopt;
  clang::Lexer lexer(sm.getLocForStartOfFile(file), lang, buffer.begin(), buffer.begin() + hashOffset,
                     buffer.end());
  clang::Token token;
  std::optional<unsigned> end;
  for (bool first = true;; first = false) {
    bool lastToken = lexer.LexFromRawLexer(token);
    if (token.is(clang::tok::eof)) break;
    unsigned offset = sm.getFileOffset(token.getLocation());
    if (!first && (token.isAtStartOfLine() || offset >= endOfLineOffset)) break;
    end = offset + token.getLength();
    if (lastToken) break;
  }
  return end;
}

class DirectiveCollector : public clang::RecursiveASTVisitor<DirectiveCollector> {
 public:
  explicit DirectiveCollector(clang::ASTContext& context)
      : context_(context), sm_(context.getSourceManager()) {}

  bool VisitOMPLoopDirective(clang::OMPLoopDirective* directive) {
    clang::SourceLocation begin = directive->getBeginLoc();
    if (!seen_.insert(begin.getRawEncoding()).second) return true;
    FoundSite found;
    OmpLoopSite& site = found.site;
    site.directive = llvm::omp::getOpenMPDirectiveName(directive->getDirectiveKind()).str();

    clang::SourceLocation expansion = sm_.getExpansionLoc(begin);
    clang::PresumedLoc presumed = sm_.getPresumedLoc(expansion);
    site.file = presumed.isValid() ? presumed.getFilename() : "";
    site.line = presumed.isValid() ? static_cast<int>(presumed.getLine()) : 0;
    site.column = presumed.isValid() ? static_cast<int>(presumed.getColumn()) : 0;
    found.offset = sm_.getFileOffset(expansion);
    found.inMainFile = sm_.isInMainFile(expansion);
    if (directive->hasAssociatedStmt()) {
      const clang::Stmt* loop = directive->getAssociatedStmt();
      while (const auto* captured = llvm::dyn_cast_or_null<clang::CapturedStmt>(loop))
        loop = captured->getCapturedStmt();
      if (loop != nullptr) site.loopLine = static_cast<int>(sm_.getExpansionLineNumber(loop->getBeginLoc()));
    }

    const auto* schedule = directive->getSingleClause<clang::OMPScheduleClause>();
    if (schedule != nullptr) {
      site.originalSchedule =
          spelling(sm_, context_.getLangOpts(),
                   sm_.getExpansionRange(clang::SourceRange(schedule->getBeginLoc(), schedule->getEndLoc()))
                       .getAsRange());
    }
    site.note = decide(*directive, schedule, begin, found);
    sites_.push_back(std::move(found));
    return true;
  }

  std::vector<FoundSite>& sites() { return sites_; }

 private:
  // Fills found.edit when the directive can be rewritten; otherwise returns why not.
  std::string decide(const clang::OMPLoopDirective& directive, const clang::OMPScheduleClause* schedule,
                     clang::SourceLocation begin, FoundSite& found) {
    OmpLoopSite& site = found.site;
    const clang::LangOptions& lang = context_.getLangOpts();
    if (!llvm::omp::isAllowedClauseForDirective(directive.getDirectiveKind(), llvm::omp::OMPC_schedule,
                                                lang.OpenMP)) {
      return fmt::format("'{}' is not a worksharing loop: it takes no schedule clause", site.directive);
    }
    if (directive.getSingleClause<clang::OMPOrderedClause>() != nullptr) {
      return "ordered loop: its schedule is left as written";
    }
    if (begin.isMacroID()) {
      std::string macro = clang::Lexer::getImmediateMacroName(begin, sm_, lang).str();
      return macro.empty()
                 ? "directive comes from a macro expansion (_Pragma): not rewritten"
                 : fmt::format("directive comes from the expansion of macro '{}' (_Pragma): not rewritten",
                               macro);
    }
    if (!found.inMainFile) return fmt::format("in header {}: not rewritten", site.file);
    if (schedule != nullptr) {
      if (schedule->getBeginLoc().isMacroID() || schedule->getEndLoc().isMacroID()) {
        return "schedule clause comes from a macro expansion: not rewritten";
      }
      if (schedule->getScheduleKind() == clang::OMPC_SCHEDULE_runtime &&
          schedule->getFirstScheduleModifier() == clang::OMPC_SCHEDULE_MODIFIER_unknown &&
          schedule->getSecondScheduleModifier() == clang::OMPC_SCHEDULE_MODIFIER_unknown) {
        site.runtimeSchedule = true;
        return "already schedule(runtime)";
      }
      unsigned start = sm_.getFileOffset(schedule->getBeginLoc());
      unsigned end =
          sm_.getFileOffset(clang::Lexer::getLocForEndOfToken(schedule->getEndLoc(), 0, sm_, lang));
      if (end <= start) return "could not locate the schedule clause's text: not rewritten";
      found.edit = TextEdit{start, end - start, kRuntimeScheduleClause};
    } else {
      clang::SourceLocation endOfLine = directive.getEndLoc();
      if (endOfLine.isMacroID() || !sm_.isInMainFile(endOfLine)) {
        return "directive ends inside a macro expansion: not rewritten";
      }
      std::optional<unsigned> insertAt =
          directiveTokensEnd(sm_, lang, sm_.getMainFileID(), found.offset, sm_.getFileOffset(endOfLine));
      if (!insertAt) return "could not find the end of the directive: not rewritten";
      found.edit = TextEdit{*insertAt, 0, std::string(" ") + kRuntimeScheduleClause};
    }
    site.rewritten = true;
    site.runtimeSchedule = true;
    return "";
  }

  clang::ASTContext& context_;
  clang::SourceManager& sm_;
  std::set<clang::SourceLocation::UIntTy> seen_;
  std::vector<FoundSite> sites_;
};

}  // namespace

int OmpRewriteResult::rewrittenCount() const {
  return static_cast<int>(
      std::count_if(sites.begin(), sites.end(), [](const OmpLoopSite& s) { return s.rewritten; }));
}

Expected<OmpRewriteResult> rewriteOmpSchedules(const std::filesystem::path& source,
                                               const std::vector<std::string>& extraFlags) {
  OmpRewriteResult result;
  Status parsed = withSourceAst(
      source, extraFlags, {Language::kC, Language::kCxx},
      [&](clang::ASTContext& context, Language) -> Status {
        DirectiveCollector collector(context);
        collector.TraverseDecl(context.getTranslationUnitDecl());
        std::vector<FoundSite>& found = collector.sites();
        std::stable_sort(found.begin(), found.end(), [](const FoundSite& a, const FoundSite& b) {
          if (a.inMainFile != b.inMainFile) return a.inMainFile;
          if (a.site.file != b.site.file) return a.site.file < b.site.file;
          return a.offset < b.offset;
        });
        std::vector<TextEdit> edits;
        for (FoundSite& site : found) {
          if (site.edit) edits.push_back(*site.edit);
          result.sites.push_back(std::move(site.site));
        }
        const clang::SourceManager& sm = context.getSourceManager();
        auto text = applyTextEdits(sm.getBufferData(sm.getMainFileID()), std::move(edits));
        if (!text) return text.error().withContext(source.string());
        result.text = std::move(*text);
        return success();
      });
  if (!parsed) return parsed.error();
  return result;
}

}  // namespace mirtune
