// Tests of the OpenMP schedule(runtime) rewrite: which directives change, exact bytes, compiled result.
#include "frontend/Frontend.h"
#include "frontend/OmpScheduleRewrite.h"
#include "support/Files.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kRewriteInputs = fs::path(MIRTUNE_TEST_INPUTS) / "rewrite";

std::string readText(const fs::path& path) {
  auto text = readFile(path);
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : std::string();
}

// 1-based line of the only occurrence of `needle`.
int lineOf(const std::string& text, const std::string& needle) {
  std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  EXPECT_EQ(text.find(needle, at + 1), std::string::npos) << "not unique: " << needle;
  return at == std::string::npos ? -1
                                 : static_cast<int>(std::count(text.begin(), text.begin() + at, '\n')) + 1;
}

// `text` with the only occurrence of `from` replaced by `to`.
void replaceOnce(std::string& text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  ASSERT_EQ(text.find(from, at + 1), std::string::npos) << "not unique: " << from;
  text.replace(at, from.size(), to);
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

OmpRewriteResult rewriteOk(const fs::path& path, const std::vector<std::string>& flags = {}) {
  auto result = rewriteOmpSchedules(path, flags);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  if (!result.ok()) throw std::runtime_error("rewrite failed");
  return std::move(result).value();
}

const OmpLoopSite& siteAt(const OmpRewriteResult& result, int line) {
  auto it = std::find_if(result.sites.begin(), result.sites.end(), [&](const OmpLoopSite& s) {
    return s.line == line && s.file.find("omp_header_loop.h") == std::string::npos;
  });
  if (it == result.sites.end()) throw std::runtime_error("no directive site on line " + std::to_string(line));
  return *it;
}

TEST(OmpScheduleRewrite, EachWorksharingLoopGetsRuntimeScheduleAndNothingElseChanges) {
  const fs::path source = kRewriteInputs / "omp_schedules.c";
  const std::string original = readText(source);
  OmpRewriteResult result = rewriteOk(source);

  // The whole expected file: the original with exactly these spans changed.
  std::string expected = original;
  replaceOnce(expected, "#pragma omp parallel for\n  for (int i = 0; i < N; ++i) a[i] = 2.0",
              "#pragma omp parallel for schedule(runtime)\n  for (int i = 0; i < N; ++i) a[i] = 2.0");
  replaceOnce(expected, "schedule(dynamic, 4) // chunked", "schedule(runtime) // chunked");
  replaceOnce(expected, "collapse(2) schedule(monotonic: static) firstprivate(b)",
              "collapse(2) schedule(runtime) firstprivate(b)");
  replaceOnce(expected, "reduction(+:s) /* sum of squares */",
              "reduction(+:s) schedule(runtime) /* sum of squares */");
  replaceOnce(expected, "#pragma omp for nowait\n", "#pragma omp for nowait schedule(runtime)\n");
  replaceOnce(expected, "#pragma omp for simd schedule(guided)", "#pragma omp for simd schedule(runtime)");
  replaceOnce(expected, "    collapse(2) \\\n    reduction(+:s)\n",
              "    collapse(2) \\\n    reduction(+:s) schedule(runtime)\n");
  replaceOnce(expected, "#pragma omp parallel for simd\n",
              "#pragma omp parallel for simd schedule(runtime)\n");
  replaceOnce(expected, "map(tofrom: a) schedule(static)", "map(tofrom: a) schedule(runtime)");
  EXPECT_EQ(result.text, expected);
  EXPECT_EQ(result.rewrittenCount(), 9);

  // Independently of the expected text: the same lines, and only directive lines differ.
  std::vector<std::string> before = splitLines(original), after = splitLines(result.text);
  ASSERT_EQ(before.size(), after.size());
  std::vector<int> changedLines;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i] == after[i]) continue;
    changedLines.push_back(static_cast<int>(i) + 1);
    EXPECT_NE(after[i].find("schedule(runtime)"), std::string::npos) << after[i];
    EXPECT_EQ(after[i].find("schedule(runtime)"), after[i].rfind("schedule(runtime)")) << after[i];
  }
  EXPECT_EQ(changedLines.size(), 9u);
}

TEST(OmpScheduleRewrite, SitesDescribeEveryLoopDirective) {
  const fs::path source = kRewriteInputs / "omp_schedules.c";
  const std::string original = readText(source);
  OmpRewriteResult result = rewriteOk(source);
  // 13 loop directives in the file, one in the header; the plain `parallel` region is not a loop.
  EXPECT_EQ(result.sites.size(), 14u);
  EXPECT_TRUE(std::none_of(result.sites.begin(), result.sites.end(),
                           [](const OmpLoopSite& s) { return s.directive == "parallel"; }));
  EXPECT_EQ(result.sites.back().file, (kRewriteInputs / "omp_header_loop.h").string());

  const OmpLoopSite& plain =
      siteAt(result, lineOf(original, "#pragma omp parallel for\n  for (int i = 0; i < N; ++i) a[i] = 2.0"));
  EXPECT_EQ(plain.directive, "parallel for");
  EXPECT_EQ(plain.column, 1);
  EXPECT_EQ(plain.loopLine, plain.line + 1);
  EXPECT_EQ(plain.originalSchedule, "");
  EXPECT_TRUE(plain.rewritten);
  EXPECT_EQ(plain.note, "");

  const OmpLoopSite& chunked = siteAt(result, lineOf(original, "schedule(dynamic, 4)"));
  EXPECT_EQ(chunked.column, 3);
  EXPECT_EQ(chunked.originalSchedule, "schedule(dynamic, 4)");
  EXPECT_TRUE(chunked.rewritten);
  EXPECT_EQ(siteAt(result, lineOf(original, "schedule(monotonic: static)")).originalSchedule,
            "schedule(monotonic: static)");

  const OmpLoopSite& worksharing = siteAt(result, lineOf(original, "#pragma omp for nowait"));
  EXPECT_EQ(worksharing.directive, "for");
  EXPECT_TRUE(worksharing.rewritten);
  EXPECT_EQ(siteAt(result, lineOf(original, "#pragma omp for simd")).directive, "for simd");

  const OmpLoopSite& continued = siteAt(result, lineOf(original, "#pragma omp parallel for \\"));
  EXPECT_TRUE(continued.rewritten);
  EXPECT_EQ(continued.loopLine, continued.line + 3);

  const OmpLoopSite& simd = siteAt(result, lineOf(original, "#pragma omp simd\n"));
  EXPECT_EQ(simd.directive, "simd");
  EXPECT_FALSE(simd.rewritten);
  EXPECT_FALSE(simd.runtimeSchedule);
  EXPECT_NE(simd.note.find("not a worksharing loop"), std::string::npos) << simd.note;
  EXPECT_EQ(siteAt(result, lineOf(original, "#pragma omp parallel for simd")).directive, "parallel for simd");

  const OmpLoopSite& ordered = siteAt(result, lineOf(original, "for ordered schedule(static, 1)"));
  EXPECT_FALSE(ordered.rewritten);
  EXPECT_EQ(ordered.originalSchedule, "schedule(static, 1)");
  EXPECT_NE(ordered.note.find("ordered"), std::string::npos) << ordered.note;

  const OmpLoopSite& macro = siteAt(result, lineOf(original, "  PARALLEL_FOR\n"));
  EXPECT_EQ(macro.directive, "parallel for");
  EXPECT_FALSE(macro.rewritten);
  EXPECT_NE(macro.note.find("macro"), std::string::npos) << macro.note;

  const OmpLoopSite& runtime = siteAt(result, lineOf(original, "schedule(runtime)"));
  EXPECT_FALSE(runtime.rewritten);
  EXPECT_TRUE(runtime.runtimeSchedule);
  EXPECT_EQ(runtime.originalSchedule, "schedule(runtime)");

  EXPECT_EQ(siteAt(result, lineOf(original, "#pragma omp target teams")).directive,
            "target teams distribute parallel for");

  const OmpLoopSite& header = result.sites.back();
  EXPECT_EQ(header.line, 5);
  EXPECT_EQ(header.originalSchedule, "schedule(static)");
  EXPECT_FALSE(header.rewritten);
  EXPECT_EQ(header.note, "in header " + header.file + ": not rewritten");
}

// libomp schedule numbers in the loop-init calls clang emits: kmp_sch_static 34, kmp_sch_runtime 37 (with
// the nonmonotonic bit 1 << 30 that OpenMP 5 makes the default: 1073741861), kmp_ord_static_chunked 65,
// kmp_distribute_static 92.
std::map<std::string, int> loopInitCalls(const std::string& ir) {
  static const std::regex kCall(
      R"(call void @__kmpc_(dispatch_init_4|for_static_init_4)\([^,]+, i32 [^,]+, i32 (\d+))");
  std::map<std::string, int> calls;
  for (auto it = std::sregex_iterator(ir.begin(), ir.end(), kCall); it != std::sregex_iterator(); ++it) {
    ++calls[(*it)[1].str() + " " + (*it)[2].str()];
  }
  return calls;
}

TEST(OmpScheduleRewrite, RewrittenFileCompilesAndItsLoopsReadTheScheduleAtRunTime) {
  const fs::path source = kRewriteInputs / "omp_schedules.c";
  OmpRewriteResult result = rewriteOk(source);
  // On disk, not in memory: clang names target regions after the file's inode. -I finds the header.
  TemporaryFolder folder("mirtune-omp", "compile");
  fs::path copy = folder.path() / "omp_schedules.c";
  ASSERT_TRUE(writeFileAtomically(copy, result.text).ok());
  CompileOptions options;
  options.optimizationLevel = 0;
  options.includeDirectories = {kRewriteInputs.string()};
  auto rewritten = compileFile(copy, options);
  ASSERT_TRUE(rewritten.ok()) << rewritten.error().message();
  auto original = compileFile(source, options);
  ASSERT_TRUE(original.ok()) << original.error().message();

  std::map<std::string, int> before = loopInitCalls(original->text());
  std::map<std::string, int> after = loopInitCalls(rewritten->text());
  EXPECT_EQ(before["dispatch_init_4 1073741861"], 1) << "only the loop written schedule(runtime)";
  EXPECT_GT(before["for_static_init_4 34"], 2);
  // Left static: the macro-made loop and the header's loop. The ordered loop keeps its own schedule.
  EXPECT_EQ(after["for_static_init_4 34"], 2);
  EXPECT_EQ(after["dispatch_init_4 65"], 1);
  EXPECT_GE(after["dispatch_init_4 1073741861"], 10);
  for (const auto& [call, count] : after) {
    bool expected = call == "for_static_init_4 34" || call == "for_static_init_4 92" ||
                    call == "dispatch_init_4 65" || call == "dispatch_init_4 1073741861";
    EXPECT_TRUE(expected) << call << " x" << count;
  }
}

TEST(OmpScheduleRewrite, CxxTemplatesAndRangesAndAFixedPoint) {
  const fs::path source = kRewriteInputs / "omp_template.cpp";
  OmpRewriteResult result = rewriteOk(source);
  ASSERT_EQ(result.sites.size(), 2u) << "a template's loop is listed once, not per instantiation";
  EXPECT_EQ(result.sites[0].originalSchedule, "schedule(static, 16)");
  EXPECT_TRUE(result.sites[0].rewritten && result.sites[1].rewritten);
  EXPECT_NE(result.text.find("#pragma omp parallel for schedule(runtime)\n"), std::string::npos);
  EXPECT_NE(result.text.find("reduction(+ : sum) schedule(runtime)\n"), std::string::npos);
  auto compiled = compileSource(result.text, (kRewriteInputs / "omp_template.rewritten.cpp").string());
  EXPECT_TRUE(compiled.ok()) << compiled.error().message();

  // Rewriting the rewritten C file again changes nothing (and -I reaches the header from elsewhere).
  TemporaryFolder folder("mirtune-omp", "fixed-point");
  OmpRewriteResult first = rewriteOk(kRewriteInputs / "omp_schedules.c");
  fs::path copy = folder.path() / "omp_schedules.c";
  ASSERT_TRUE(writeFileAtomically(copy, first.text).ok());
  OmpRewriteResult second = rewriteOk(copy, {"-I" + kRewriteInputs.string()});
  EXPECT_EQ(second.text, first.text);
  EXPECT_EQ(second.rewrittenCount(), 0);
  EXPECT_EQ(std::count_if(second.sites.begin(), second.sites.end(),
                          [](const OmpLoopSite& s) { return s.runtimeSchedule; }),
            10);
}

TEST(OmpScheduleRewrite, WindowsLineEndingsAndContinuationsKeepTheirBytes) {
  TemporaryFolder folder("mirtune-omp", "crlf");
  fs::path source = folder.path() / "crlf.c";
  const std::string original =
      "void f(float* a, int n) {\r\n"
      "#pragma omp parallel for // note\r\n"
      "  for (int i = 0; i < n; ++i) a[i] = 0;\r\n"
      "#pragma omp parallel for \\\r\n"
      "  schedule(dynamic)\r\n"
      "  for (int i = 0; i < n; ++i) a[i] = 1;\r\n"
      "}\r\n";
  ASSERT_TRUE(writeFileAtomically(source, original).ok());
  OmpRewriteResult result = rewriteOk(source);
  std::string expected = original;
  replaceOnce(expected, "for // note\r\n", "for schedule(runtime) // note\r\n");
  replaceOnce(expected, "  schedule(dynamic)\r\n", "  schedule(runtime)\r\n");
  EXPECT_EQ(result.text, expected);
  ASSERT_EQ(result.sites.size(), 2u);
  EXPECT_EQ(result.sites[1].line, 4);
  EXPECT_EQ(result.sites[1].loopLine, 6);
}

TEST(OmpScheduleRewrite, BadInputNamesTheFileAndLine) {
  auto broken = rewriteOmpSchedules(kRewriteInputs / "omp_broken.c", {});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code(), ErrorCode::kCompileError);
  EXPECT_NE(broken.error().message().find((kRewriteInputs / "omp_broken.c").string() + ":4:"),
            std::string::npos)
      << broken.error().message();
  EXPECT_NE(broken.error().message().find("undefined_name"), std::string::npos) << broken.error().message();

  auto missing = rewriteOmpSchedules(kRewriteInputs / "no_such_file.c", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  auto openCl = rewriteOmpSchedules(fs::path(MIRTUNE_TEST_INPUTS) / "saxpy.cl", {});
  ASSERT_FALSE(openCl.ok());
  EXPECT_EQ(openCl.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(openCl.error().message().find("saxpy.cl"), std::string::npos);

  auto brokenByFlags = rewriteOmpSchedules(kRewriteInputs / "omp_schedules.c", {"-Ddouble=int oops"});
  ASSERT_FALSE(brokenByFlags.ok());
  EXPECT_EQ(brokenByFlags.error().code(), ErrorCode::kCompileError);
}

}  // namespace
}  // namespace mirtune
