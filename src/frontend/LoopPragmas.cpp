// Innermost-loop discovery over the Clang AST and line-based pragma insertion. Loop hints already in the
// source are found through the LoopHintAttr clang attaches to the loop, so "the pragma before this loop" is
// the compiler's own answer, not a guess from the text.
#include "frontend/LoopPragmas.h"

#include "frontend/SourceAst.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/Attr.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtOpenMP.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>
#include <llvm/Frontend/OpenMP/OMPConstants.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace mirtune {

namespace {

// [begin, end) of the logical line holding `offset`: backslash-continued physical lines belong to it, and
// `end` is past its newline (or the end of the text).
std::pair<std::size_t, std::size_t> logicalLine(std::string_view text, std::size_t offset) {
  auto continues = [&](std::size_t newline) {  // does the physical line ending at `newline` end with '\'?
    std::size_t i = newline;
    if (i > 0 && text[i - 1] == '\r') --i;
    return i > 0 && text[i - 1] == '\\';
  };
  std::size_t begin = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  begin = (begin == std::string_view::npos || offset == 0) ? 0 : begin + 1;
  while (begin > 0 && continues(begin - 1)) {
    std::size_t previous = begin >= 2 ? text.rfind('\n', begin - 2) : std::string_view::npos;
    begin = previous == std::string_view::npos ? 0 : previous + 1;
  }
  std::size_t end = offset;
  while (true) {
    end = text.find('\n', end);
    if (end == std::string_view::npos) return {begin, text.size()};
    if (!continues(end)) return {begin, end + 1};
    ++end;
  }
}

std::string_view trimmed(std::string_view text) {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  std::size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

struct FoundLoop {
  LoopSite site;
  unsigned keywordOffset = 0;  ///< in the main file, when the site is in it
  /// Logical lines (main-file offsets) of the loop pragmas attached to this loop.
  std::vector<std::pair<std::size_t, std::size_t>> pragmaLines;
};

class LoopCollector : public clang::RecursiveASTVisitor<LoopCollector> {
  using Base = clang::RecursiveASTVisitor<LoopCollector>;

 public:
  explicit LoopCollector(clang::ASTContext& context) : context_(context), sm_(context.getSourceManager()) {}

  // Overriding without the data-recursion queue makes the base traverse children before returning, which the
  // loop stack below relies on.
  bool TraverseDecl(clang::Decl* decl) {
    auto* function = llvm::dyn_cast_or_null<clang::FunctionDecl>(decl);
    if (function == nullptr) return Base::TraverseDecl(decl);
    std::vector<Frame> outer;
    std::swap(outer, stack_);
    functions_.push_back(function);
    bool keepGoing = Base::TraverseDecl(decl);
    functions_.pop_back();
    std::swap(outer, stack_);
    return keepGoing;
  }
  bool TraverseForStmt(clang::ForStmt* loop) {
    return traverseLoop(loop, LoopKind::kFor, [&] { return Base::TraverseForStmt(loop); });
  }
  bool TraverseCXXForRangeStmt(clang::CXXForRangeStmt* loop) {
    return traverseLoop(loop, LoopKind::kRangeFor, [&] { return Base::TraverseCXXForRangeStmt(loop); });
  }
  bool TraverseWhileStmt(clang::WhileStmt* loop) {
    return traverseLoop(loop, LoopKind::kWhile, [&] { return Base::TraverseWhileStmt(loop); });
  }
  bool TraverseDoStmt(clang::DoStmt* loop) {
    return traverseLoop(loop, LoopKind::kDo, [&] { return Base::TraverseDoStmt(loop); });
  }

  bool VisitAttributedStmt(clang::AttributedStmt* statement) {
    for (const clang::Attr* attr : statement->getAttrs()) {
      if (const auto* hint = llvm::dyn_cast<clang::LoopHintAttr>(attr))
        hints_[statement->getSubStmt()].push_back(hint);
    }
    return true;
  }

  bool VisitOMPLoopDirective(clang::OMPLoopDirective* directive) {
    if (!directive->hasAssociatedStmt()) return true;
    clang::Stmt* body = directive->getAssociatedStmt();
    while (auto* captured = llvm::dyn_cast_or_null<clang::CapturedStmt>(body))
      body = captured->getCapturedStmt();
    std::string name = llvm::omp::getOpenMPDirectiveName(directive->getDirectiveKind()).str();
    clang::OMPLoopDirective::doForAllLoops(body, /*TryImperfectlyNestedLoops=*/true,
                                           directive->getLoopsNumber(), [&](unsigned, clang::Stmt* loop) {
                                             ompLoops_[loop] = name;
                                             return false;
                                           });
    return true;
  }

  std::vector<FoundLoop> finish() {
    std::vector<FoundLoop> loops;
    for (const Innermost& innermost : innermost_) loops.push_back(describe(innermost));
    std::stable_sort(loops.begin(), loops.end(), [](const FoundLoop& a, const FoundLoop& b) {
      if (a.site.inHeader != b.site.inHeader) return !a.site.inHeader;
      if (a.site.file != b.site.file) return a.site.file < b.site.file;
      if (a.site.line != b.site.line) return a.site.line < b.site.line;
      return a.site.column < b.site.column;
    });
    return loops;
  }

 private:
  struct Frame {
    bool hasInnerLoop = false;
  };
  struct Innermost {
    clang::Stmt* loop;
    LoopKind kind;
    int depth;
    const clang::FunctionDecl* function;
  };

  template <typename TraverseChildren>
  bool traverseLoop(clang::Stmt* loop, LoopKind kind, TraverseChildren traverseChildren) {
    // Loops from system headers are not the user's to tune and would flood the list.
    if (sm_.isInSystemHeader(sm_.getExpansionLoc(loop->getBeginLoc()))) return traverseChildren();
    if (!stack_.empty()) stack_.back().hasInnerLoop = true;
    stack_.push_back(Frame{});
    int depth = static_cast<int>(stack_.size());
    bool keepGoing = traverseChildren();
    bool innermost = !stack_.back().hasInnerLoop;
    stack_.pop_back();
    if (innermost && seen_.insert(loop->getBeginLoc().getRawEncoding()).second) {
      innermost_.push_back({loop, kind, depth, functions_.empty() ? nullptr : functions_.back()});
    }
    return keepGoing;
  }

  FoundLoop describe(const Innermost& innermost) {
    FoundLoop found;
    LoopSite& site = found.site;
    const clang::LangOptions& lang = context_.getLangOpts();
    clang::SourceLocation keyword = innermost.loop->getBeginLoc();
    clang::SourceLocation expansion = sm_.getExpansionLoc(keyword);
    clang::PresumedLoc presumed = sm_.getPresumedLoc(expansion);
    site.file = presumed.isValid() ? presumed.getFilename() : "";
    site.line = presumed.isValid() ? static_cast<int>(presumed.getLine()) : 0;
    site.column = presumed.isValid() ? static_cast<int>(presumed.getColumn()) : 0;
    site.kind = innermost.kind;
    site.depth = innermost.depth;
    if (innermost.function != nullptr) {
      site.function = lang.CPlusPlus ? innermost.function->getQualifiedNameAsString()
                                     : innermost.function->getNameAsString();
    }
    site.inHeader = !sm_.isInMainFile(expansion);
    site.fromMacro = keyword.isMacroID();
    bool inMain = !site.inHeader;
    if (inMain) found.keywordOffset = sm_.getFileOffset(expansion);

    std::set<std::pair<unsigned, std::size_t>> pragmaStarts;  // (file, line start): one entry per pragma line
    if (auto hints = hints_.find(innermost.loop); hints != hints_.end()) {
      for (const clang::LoopHintAttr* hint : hints->second) {
        clang::SourceLocation where = sm_.getExpansionLoc(hint->getLocation());
        clang::FileID file = sm_.getFileID(where);
        std::string_view fileText = sm_.getBufferData(file);
        auto line = logicalLine(fileText, sm_.getFileOffset(where));
        if (!pragmaStarts.insert({file.getHashValue(), line.first}).second) continue;
        site.existingPragmas.emplace_back(trimmed(fileText.substr(line.first, line.second - line.first)));
        if (file == sm_.getMainFileID()) found.pragmaLines.push_back(line);
      }
    }

    if (site.inHeader) {
      site.note = fmt::format("in header {}: skipped", site.file);
    } else if (site.fromMacro) {
      std::string macro = clang::Lexer::getImmediateMacroName(keyword, sm_, lang).str();
      site.note = macro.empty() ? "loop comes from a macro expansion: no pragma can be put before it"
                                : fmt::format(
                                      "loop comes from the expansion of macro '{}': no pragma can be put "
                                      "before it",
                                      macro);
    } else if (auto omp = ompLoops_.find(innermost.loop); omp != ompLoops_.end()) {
      site.note =
          fmt::format("associated with '#pragma omp {}': no loop pragma may stand between them", omp->second);
    } else if (found.pragmaLines.size() != site.existingPragmas.size()) {
      site.note = "its loop pragma comes from a header or macro: not replaceable";
    } else if (std::any_of(found.pragmaLines.begin(), found.pragmaLines.end(), [&](const auto& line) {
                 return found.keywordOffset >= line.first && found.keywordOffset < line.second;
               })) {
      site.note = "the loop shares a line with its loop pragma";
    } else {
      site.insertable = true;
    }
    return found;
  }

  clang::ASTContext& context_;
  clang::SourceManager& sm_;
  std::vector<Frame> stack_;
  std::vector<const clang::FunctionDecl*> functions_;
  std::vector<Innermost> innermost_;
  std::set<clang::SourceLocation::UIntTy> seen_;
  std::map<const clang::Stmt*, std::vector<const clang::LoopHintAttr*>> hints_;
  std::map<const clang::Stmt*, std::string> ompLoops_;
};

constexpr std::initializer_list<Language> kLoopLanguages = {Language::kC, Language::kCxx, Language::kOpenCl,
                                                            Language::kCuda};

// Parses `source` and hands the innermost loops, with the main file's text, to `use`.
Status withLoops(const std::filesystem::path& source, const std::vector<std::string>& extraFlags,
                 const std::function<Status(std::vector<FoundLoop>&, std::string_view)>& use) {
  return withSourceAst(source, extraFlags, kLoopLanguages,
                       [&](clang::ASTContext& context, Language) -> Status {
                         LoopCollector collector(context);
                         collector.TraverseDecl(context.getTranslationUnitDecl());
                         std::vector<FoundLoop> loops = collector.finish();
                         const clang::SourceManager& sm = context.getSourceManager();
                         return use(loops, sm.getBufferData(sm.getMainFileID()));
                       });
}

std::string describeLines(const std::vector<FoundLoop>& loops) {
  std::vector<int> lines;
  for (const FoundLoop& loop : loops) {
    if (loop.site.insertable) lines.push_back(loop.site.line);
  }
  if (lines.empty()) return "it has none that can take a pragma";
  return fmt::format("insertable innermost loops start on line{} {}", lines.size() > 1 ? "s" : "",
                     fmt::join(lines, ", "));
}

}  // namespace

std::string_view loopKindName(LoopKind kind) {
  switch (kind) {
    case LoopKind::kFor:
      return "for";
    case LoopKind::kRangeFor:
      return "range-for";
    case LoopKind::kWhile:
      return "while";
    case LoopKind::kDo:
      return "do";
  }
  return "unknown";
}

LoopPragma LoopPragma::unrollCount(int line, int count) {
  return {line, fmt::format("clang loop unroll_count({})", count)};
}

LoopPragma LoopPragma::unrollDisable(int line) {
  return {line, "clang loop unroll(disable)"};
}

LoopPragma LoopPragma::vectorize(int line, int width, int interleave) {
  return {line, fmt::format("clang loop vectorize_width({}) interleave_count({})", width, interleave)};
}

LoopPragma LoopPragma::compilerDefault(int line) {
  return {line, ""};
}

Expected<std::vector<LoopSite>> findInnermostLoops(const std::filesystem::path& source,
                                                   const std::vector<std::string>& extraFlags) {
  std::vector<LoopSite> sites;
  Status status =
      withLoops(source, extraFlags, [&](std::vector<FoundLoop>& loops, std::string_view) -> Status {
        for (FoundLoop& loop : loops) sites.push_back(std::move(loop.site));
        return success();
      });
  if (!status) return status.error();
  return sites;
}

Expected<std::string> insertLoopPragmas(const std::filesystem::path& source,
                                        const std::vector<LoopPragma>& pragmas,
                                        const std::vector<std::string>& extraFlags) {
  const std::string name = source.string();
  std::set<int> named;
  for (const LoopPragma& pragma : pragmas) {
    if (!named.insert(pragma.line).second) {
      return makeError(ErrorCode::kUsage, "{}:{}: two pragmas for the same loop line", name, pragma.line);
    }
    if (pragma.text.find_first_of("\r\n") != std::string::npos) {
      return makeError(ErrorCode::kUsage, "{}:{}: a loop pragma must be one line, got '{}'", name,
                       pragma.line, pragma.text);
    }
  }
  std::string result;
  Status status =
      withLoops(source, extraFlags, [&](std::vector<FoundLoop>& loops, std::string_view text) -> Status {
        std::vector<TextEdit> edits;
        for (const LoopPragma& pragma : pragmas) {
          std::vector<const FoundLoop*> matches;
          for (const FoundLoop& loop : loops) {
            if (!loop.site.inHeader && loop.site.line == pragma.line) matches.push_back(&loop);
          }
          if (matches.empty()) {
            return makeError(ErrorCode::kInvalidInput, "{}:{}: no innermost loop starts on this line ({})",
                             name, pragma.line, describeLines(loops));
          }
          if (matches.size() > 1) {
            return makeError(
                ErrorCode::kInvalidInput,
                "{}:{}: {} innermost loops start on this line; put each loop on its own line to address it",
                name, pragma.line, matches.size());
          }
          const FoundLoop& loop = *matches.front();
          if (!loop.site.insertable) {
            return makeError(ErrorCode::kInvalidInput, "{}:{}: the {} loop here cannot take a pragma: {}",
                             name, pragma.line, loopKindName(loop.site.kind), loop.site.note);
          }
          for (const auto& [begin, end] : loop.pragmaLines) edits.push_back(TextEdit{begin, end - begin, ""});
          if (pragma.text.empty()) continue;

          std::size_t lineStart = text.rfind('\n', loop.keywordOffset == 0 ? 0 : loop.keywordOffset - 1);
          lineStart = (lineStart == std::string_view::npos || loop.keywordOffset == 0) ? 0 : lineStart + 1;
          std::string_view beforeKeyword = text.substr(lineStart, loop.keywordOffset - lineStart);
          std::string_view indent = beforeKeyword.substr(0, beforeKeyword.find_first_not_of(" \t"));
          std::size_t lineEnd = text.find('\n', loop.keywordOffset);
          bool crlf = lineEnd != std::string_view::npos && lineEnd > 0 && text[lineEnd - 1] == '\r';
          std::string newline = crlf ? "\r\n" : "\n";
          std::string line = fmt::format("{}#pragma {}{}", indent, pragma.text, newline);
          if (indent.size() == beforeKeyword.size()) {
            edits.push_back(TextEdit{lineStart, 0, line});
          } else {
            // Code before the loop on its line (`else for`, `if (c) while`): the pragma gets its own line
            // there.
            edits.push_back(TextEdit{loop.keywordOffset, 0, newline + line + std::string(indent)});
          }
        }
        auto edited = applyTextEdits(text, std::move(edits));
        if (!edited) return edited.error().withContext(name);
        result = std::move(*edited);
        return success();
      });
  if (!status) return status.error();
  return result;
}

}  // namespace mirtune
