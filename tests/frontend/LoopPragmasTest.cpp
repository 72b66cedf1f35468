// Tests of innermost-loop discovery and loop-pragma insertion: what is found, exact bytes, clang accepts it.
#include "frontend/Frontend.h"
#include "frontend/LoopPragmas.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kRewriteInputs = fs::path(MIRTUNE_TEST_INPUTS) / "rewrite";
const fs::path kLoops = kRewriteInputs / "loops.c";

std::string readText(const fs::path& path) {
  auto text = readFile(path);
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : std::string();
}

int lineOf(const std::string& text, const std::string& needle) {
  std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  EXPECT_EQ(text.find(needle, at + 1), std::string::npos) << "not unique: " << needle;
  return at == std::string::npos ? -1
                                 : static_cast<int>(std::count(text.begin(), text.begin() + at, '\n')) + 1;
}

void replaceOnce(std::string& text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  ASSERT_EQ(text.find(from, at + 1), std::string::npos) << "not unique: " << from;
  text.replace(at, from.size(), to);
}

std::vector<LoopSite> loopsOk(const fs::path& path) {
  auto loops = findInnermostLoops(path, {});
  EXPECT_TRUE(loops.ok()) << (loops.ok() ? "" : loops.error().message());
  return loops.ok() ? *loops : std::vector<LoopSite>{};
}

std::string insertOk(const std::vector<LoopPragma>& pragmas) {
  auto text = insertLoopPragmas(kLoops, pragmas, {});
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message());
  return text.ok() ? *text : std::string();
}

const LoopSite& loopIn(const std::vector<LoopSite>& loops, const std::string& function) {
  auto it =
      std::find_if(loops.begin(), loops.end(), [&](const LoopSite& s) { return s.function == function; });
  if (it == loops.end()) throw std::runtime_error("no loop found in " + function);
  return *it;
}

TEST(LoopPragmas, FindsOnlyInnermostLoopsOfEachKind) {
  const std::string original = readText(kLoops);
  std::vector<LoopSite> loops = loopsOk(kLoops);
  ASSERT_EQ(loops.size(), 9u);

  const LoopSite& matmul = loops[0];
  EXPECT_EQ(matmul.function, "matmul");
  EXPECT_EQ(matmul.kind, LoopKind::kFor);
  EXPECT_EQ(matmul.line, lineOf(original, "for (int k = 0"));
  EXPECT_EQ(matmul.column, 7);
  EXPECT_EQ(matmul.depth, 3);
  EXPECT_TRUE(matmul.insertable);
  EXPECT_EQ(
      std::count_if(loops.begin(), loops.end(), [](const LoopSite& s) { return s.function == "matmul"; }), 1)
      << "the i and j loops contain a loop";

  const LoopSite& saxpy = loopIn(loops, "saxpy");
  EXPECT_EQ(saxpy.column, 2) << "after one tab";
  EXPECT_EQ(saxpy.depth, 1);
  EXPECT_EQ(loopIn(loops, "countdown").kind, LoopKind::kWhile);
  EXPECT_EQ(loopIn(loops, "countdown").line, lineOf(original, "while (n > 1)"));
  EXPECT_EQ(loopIn(loops, "prefix").kind, LoopKind::kDo);
  EXPECT_EQ(loopIn(loops, "prefix").line, lineOf(original, "  do {"));

  const LoopSite& hinted = loopIn(loops, "alreadyHinted");
  EXPECT_EQ(hinted.existingPragmas, std::vector<std::string>{"#pragma clang loop unroll_count(2)"});
  EXPECT_TRUE(hinted.insertable);
  EXPECT_TRUE(loopIn(loops, "saxpy").existingPragmas.empty());

  const LoopSite& sameLine = loopIn(loops, "sameLine");
  EXPECT_EQ(sameLine.column, 13);
  EXPECT_TRUE(sameLine.insertable);

  const LoopSite& macro = loopIn(loops, "viaMacro");
  EXPECT_TRUE(macro.fromMacro);
  EXPECT_FALSE(macro.insertable);
  EXPECT_EQ(macro.line, lineOf(original, "  DOUBLE_ALL(x, n);"));
  EXPECT_NE(macro.note.find("macro 'DOUBLE_ALL'"), std::string::npos) << macro.note;

  const LoopSite& omp = loopIn(loops, "openMpLoop");
  EXPECT_FALSE(omp.insertable);
  EXPECT_NE(omp.note.find("#pragma omp simd"), std::string::npos) << omp.note;

  const LoopSite& header = loops.back();
  EXPECT_EQ(header.function, "sumArray");
  EXPECT_TRUE(header.inHeader);
  EXPECT_FALSE(header.insertable);
  EXPECT_EQ(header.file, (kRewriteInputs / "loop_header.h").string());
  EXPECT_EQ(header.line, 6);
  EXPECT_EQ(header.note, "in header " + header.file + ": skipped");
  for (const LoopSite& loop : loops) EXPECT_EQ(loop.inHeader, &loop == &header) << loop.function;
}

TEST(LoopPragmas, InsertsOnePragmaLineWithTheLoopsIndentation) {
  const std::string original = readText(kLoops);
  int line = lineOf(original, "\tfor (int i = 0; i < n; ++i) {");
  std::string text = insertOk({LoopPragma::unrollCount(line, 4)});
  std::string expected = original;
  replaceOnce(expected, "\tfor (int i = 0; i < n; ++i) {\n",
              "\t#pragma clang loop unroll_count(4)\n\tfor (int i = 0; i < n; ++i) {\n");
  EXPECT_EQ(text, expected);

  // Clang attaches it to the loop: the IR carries the unroll count.
  CompileOptions options;
  options.optimizationLevel = 0;
  auto module = compileSource(text, (kRewriteInputs / "loops.unrolled.c").string(), options);
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_NE(module->text().find("!\"llvm.loop.unroll.count\", i32 4}"), std::string::npos);
  auto plain = compileFile(kLoops, options);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->text().find("!\"llvm.loop.unroll.count\", i32 4}"), std::string::npos);
}

TEST(LoopPragmas, ReplacesAnExistingLoopPragmaInsteadOfStacking) {
  const std::string original = readText(kLoops);
  int line = lineOf(original, "for (int i = 0; i < n; ++i) x[i] = x[i] * x[i];");
  std::string expected = original;
  replaceOnce(expected, "  #pragma clang loop unroll_count(2)\n", "  #pragma clang loop unroll(disable)\n");
  EXPECT_EQ(insertOk({LoopPragma::unrollDisable(line)}), expected);

  std::string withoutPragma = original;
  replaceOnce(withoutPragma, "  #pragma clang loop unroll_count(2)\n", "");
  EXPECT_EQ(insertOk({LoopPragma::compilerDefault(line)}), withoutPragma);
  EXPECT_EQ(insertOk({}), original);
}

TEST(LoopPragmas, SeveralLoopsAtOnceAndClangHonoursEveryPragmaAtO3) {
  const std::string original = readText(kLoops);
  std::vector<LoopPragma> pragmas = {
      LoopPragma::vectorize(lineOf(original, "for (int k = 0"), 4, 2),
      LoopPragma::unrollCount(lineOf(original, "while (n > 1)"), 2),
      LoopPragma::unrollDisable(lineOf(original, "  do {")),
      LoopPragma::unrollCount(lineOf(original, "if (flag) for"), 8),
  };
  std::string text = insertOk(pragmas);
  std::string expected = original;
  replaceOnce(expected, "      for (int k = 0",
              "      #pragma clang loop vectorize_width(4) interleave_count(2)\n      for (int k = 0");
  replaceOnce(expected, "  while (n > 1)", "  #pragma clang loop unroll_count(2)\n  while (n > 1)");
  replaceOnce(expected, "  do {", "  #pragma clang loop unroll(disable)\n  do {");
  replaceOnce(expected, "  if (flag) for", "  if (flag) \n  #pragma clang loop unroll_count(8)\n  for");
  EXPECT_EQ(text, expected);

  // clang -O3 -Werror=pass-failed turns a transformation the optimiser could not do into an error.
  TemporaryFolder folder("mirtune-loops", "o3");
  fs::path copy = folder.path() / "loops.c";
  ASSERT_TRUE(writeFileAtomically(copy, text).ok());
  auto compileO3 = [&](const fs::path& file) {
    SubprocessOptions run;
    run.argv = {MIRTUNE_CLANG_EXECUTABLE,
                "-O3",
                "-c",
                "-Werror=pass-failed",
                "-I",
                kRewriteInputs.string(),
                file.string(),
                "-o",
                (folder.path() / "out.o").string()};
    run.timeoutSeconds = 120;
    auto result = runSubprocess(run);
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result : SubprocessResult{};
  };
  SubprocessResult accepted = compileO3(copy);
  EXPECT_TRUE(accepted.succeeded()) << accepted.standardError;
  EXPECT_EQ(accepted.standardError, "");
  // The check is real: a loop that cannot be vectorised under a forced width fails it.
  fs::path impossible = folder.path() / "impossible.c";
  ASSERT_TRUE(writeFileAtomically(impossible,
                                  "void g(void);\nvoid f(int n) {\n#pragma clang loop vectorize(enable)\n"
                                  "  for (int i = 0; i < n; ++i) g();\n}\n")
                  .ok());
  SubprocessResult refused = compileO3(impossible);
  EXPECT_FALSE(refused.succeeded());
  EXPECT_NE(refused.standardError.find("loop not vectorized"), std::string::npos) << refused.standardError;
}

TEST(LoopPragmas, CxxRangeForWindowsLineEndingsAndOtherLoopHints) {
  TemporaryFolder folder("mirtune-loops", "cxx");
  fs::path source = folder.path() / "grid.cpp";
  const std::string original =
      "#include <vector>\r\n"
      "namespace ns {\r\n"
      "struct Grid {\r\n"
      "  void step(std::vector<float>& v) {\r\n"
      "    for (float& x : v) x *= 2;\r\n"
      "#pragma unroll 4\r\n"
      "    for (std::size_t i = 0; i < v.size(); ++i) v[i] += 1;\r\n"
      "  }\r\n"
      "};\r\n"
      "}  // namespace ns\r\n";
  ASSERT_TRUE(writeFileAtomically(source, original).ok());
  auto loops = findInnermostLoops(source, {});
  ASSERT_TRUE(loops.ok()) << loops.error().message();
  ASSERT_EQ(loops->size(), 2u) << "loops inside <vector> are not the user's";
  EXPECT_EQ((*loops)[0].kind, LoopKind::kRangeFor);
  EXPECT_EQ((*loops)[0].function, "ns::Grid::step");
  EXPECT_EQ((*loops)[1].existingPragmas, std::vector<std::string>{"#pragma unroll 4"});

  auto text = insertLoopPragmas(source, {LoopPragma::unrollCount(5, 2), LoopPragma::unrollDisable(7)}, {});
  ASSERT_TRUE(text.ok()) << text.error().message();
  std::string expected = original;
  replaceOnce(expected, "    for (float& x", "    #pragma clang loop unroll_count(2)\r\n    for (float& x");
  replaceOnce(expected, "#pragma unroll 4\r\n", "    #pragma clang loop unroll(disable)\r\n");
  EXPECT_EQ(*text, expected);
}

TEST(LoopPragmas, LinesThatAreNotInsertableLoopsAreErrors) {
  const std::string original = readText(kLoops);
  struct Case {
    LoopPragma pragma;
    ErrorCode code;
    std::string message;
  };
  int outer = lineOf(original, "for (int i = 0; i < n; ++i) {\n    for (int j");
  int macro = lineOf(original, "  DOUBLE_ALL(x, n);");
  int omp = lineOf(original, "for (int i = 0; i < n; ++i) x[i] += 1.0f;");
  std::vector<Case> cases = {
      {LoopPragma::unrollCount(outer, 2), ErrorCode::kInvalidInput,
       fmt::format("{}:{}: no innermost loop starts on this line", kLoops.string(), outer)},
      {LoopPragma::unrollCount(1, 2), ErrorCode::kInvalidInput, "loops.c:1: no innermost loop"},
      {LoopPragma::unrollCount(macro, 2), ErrorCode::kInvalidInput, "macro 'DOUBLE_ALL'"},
      {LoopPragma::unrollCount(omp, 2), ErrorCode::kInvalidInput, "#pragma omp simd"},
      {LoopPragma{outer, "clang loop unroll_count(2)\n#pragma other"}, ErrorCode::kUsage, "must be one line"},
  };
  for (const Case& c : cases) {
    auto text = insertLoopPragmas(kLoops, {c.pragma}, {});
    ASSERT_FALSE(text.ok()) << c.message;
    EXPECT_EQ(text.error().code(), c.code) << text.error().message();
    EXPECT_NE(text.error().message().find(c.message), std::string::npos) << text.error().message();
  }
  int saxpy = lineOf(original, "\tfor (int i");
  auto twice =
      insertLoopPragmas(kLoops, {LoopPragma::unrollCount(saxpy, 2), LoopPragma::unrollDisable(saxpy)}, {});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code(), ErrorCode::kUsage);

  auto broken = findInnermostLoops(kRewriteInputs / "omp_broken.c", {});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("omp_broken.c:4:"), std::string::npos) << broken.error().message();
}

TEST(LoopPragmas, OpenClKernelsToo) {
  const fs::path kernel = kRewriteInputs / "loop_kernel.cl";
  auto loops = findInnermostLoops(kernel, {});
  ASSERT_TRUE(loops.ok()) << loops.error().message();
  ASSERT_EQ(loops->size(), 1u);
  EXPECT_EQ((*loops)[0].function, "rowSums");
  EXPECT_EQ((*loops)[0].line, 5);
  auto text = insertLoopPragmas(kernel, {LoopPragma::unrollCount(5, 4)}, {});
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_NE(text->find("  #pragma clang loop unroll_count(4)\n  for (int j"), std::string::npos) << *text;
  CompileOptions options;
  options.optimizationLevel = 0;
  auto module = compileSource(*text, (kRewriteInputs / "loop_kernel.unrolled.cl").string(), options);
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_NE(module->text().find("!\"llvm.loop.unroll.count\", i32 4}"), std::string::npos);

  auto ir = findInnermostLoops(fs::path(MIRTUNE_TEST_INPUTS) / "simple.ll", {});
  ASSERT_FALSE(ir.ok());
  EXPECT_EQ(ir.error().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace mirtune
