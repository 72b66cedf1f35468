// Parses a C, C++, OpenCL C or CUDA source into a Clang AST in-process, for tools that read or rewrite source
// (OpenMP schedules, loop pragmas) rather than compile it.
#pragma once

#include "frontend/Language.h"
#include "support/Error.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace clang {
class ASTContext;
}  // namespace clang

namespace mirtune {

/// Called once with the parsed translation unit; the AST and its SourceManager live only during the call.
using SourceAstVisitor = std::function<Status(clang::ASTContext& context, Language language)>;

/// Parses `source` with the same driver arguments compileFile uses for its language (so OpenMP, the built-in
/// OpenCL prelude and clang's own headers are found) plus `extraFlags` (-I, -D, ...), then calls `visit`.
/// The language comes from the extension and must be one of `accepted`. Errors: kNotFound for a missing
/// file, kInvalidInput for an unusable extension, kCompileError "file:line:col: message" when the source
/// does not compile; otherwise whatever `visit` returns.
Status withSourceAst(const std::filesystem::path& source, const std::vector<std::string>& extraFlags,
                     std::initializer_list<Language> accepted, const SourceAstVisitor& visit);

/// Replace `length` bytes at `offset` of a file's text by `replacement` (length 0: insert).
struct TextEdit {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string replacement;
};

/// `text` with `edits` applied; the edits must not overlap (kInternal error when they do, or run past the
/// end).
Expected<std::string> applyTextEdits(std::string_view text, std::vector<TextEdit> edits);

}  // namespace mirtune
