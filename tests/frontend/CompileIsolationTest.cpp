// Compiles run isolated: inputs that crash Clang 14 or LLVM's IR reader (tests/inputs/hostile, and larger
// ones generated here) become that file's error while this process goes on; hangs and runaway memory end with
// their own errors; and a module that comes back from a worker is the module an in-process compile makes.
#include "frontend/Frontend.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// 10^5 chained conditional operators: the parser recurses once per `?:` (2 MB, so generated, not committed).
std::string ternaryChain() {
  std::string text = "__kernel void ternary(__global int* a) {\n  int x = a[0];\n  a[1] = ";
  for (int i = 0; i < 100000; ++i) text += fmt::format("x == {0} ? {0} :\n", i);
  return text + "0;\n}\n";
}

// 10^4 macros, each the previous one passed through a function-like macro: argument pre-expansion recurses
// once per level.
std::string macroChain() {
  std::string text = "#define F(x) (x)\n#define m0 a[1]\n";
  for (int i = 1; i <= 10000; ++i) text += fmt::format("#define m{} F(m{})\n", i, i - 1);
  return text + "__kernel void macro_chain(__global int* a) { a[0] = m10000; }\n";
}

// A global initialised with 10^5 nested constant bitcasts: LLVM's IR parser recurses once per level.
std::string nestedConstantIr() {
  std::string text = "@g = global i64 0\n@p = global i64* ";
  for (int i = 0; i < 100000; ++i) text += "bitcast (i64* ";
  text += "@g";
  for (int i = 0; i < 100000; ++i) text += " to i64*)";
  return text + "\n";
}

// 2^40 copies of `x` once expanded: no crash, only time and memory without end.
std::string exponentialMacro() {
  std::string text = "#define m0 x\n";
  for (int i = 1; i <= 40; ++i) text += fmt::format("#define m{} m{} + m{}\n", i, i - 1, i - 1);
  return text + "__kernel void exponential(__global int* a) { int x = a[0]; a[0] = m40; }\n";
}

bool endedByTheCompiler(const Error& error) {
  return error.message().find("crashed: signal") != std::string::npos ||
         error.message().find("timed out") != std::string::npos;
}

TEST(CompileIsolation, InputsThatCrashTheCompilerBecomeThatFilesError) {
  TemporaryFolder folder("mirtune-frontend", "hostile");
  writeText(folder.path() / "ternary.cl", ternaryChain());
  writeText(folder.path() / "macro_chain.cl", macroChain());
  writeText(folder.path() / "nested_constant.ll", nestedConstantIr());
  const std::vector<fs::path> hostile = {
      kInputs / "hostile" / "deep_if.cl", kInputs / "hostile" / "unary_minus.cl",
      folder.path() / "ternary.cl", folder.path() / "macro_chain.cl", folder.path() / "nested_constant.ll"};
  for (const fs::path& file : hostile) {
    auto module = compileFile(file);
    ASSERT_FALSE(module.ok()) << file;
    EXPECT_TRUE(endedByTheCompiler(module.error())) << module.error().message();
    EXPECT_EQ(module.error().message().rfind(file.string() + ": ", 0), 0u) << module.error().message();
  }
  // This process is still here, and the next compile is an ordinary one.
  auto good = compileFile(kInputs / "saxpy.cl");
  ASSERT_TRUE(good.ok()) << good.error().message();
  EXPECT_EQ(good->kernelNames(), std::vector<std::string>{"saxpy"});
}

TEST(CompileIsolation, ACrashIsReportedWithItsSignal) {
  auto module = compileFile(kInputs / "hostile" / "unary_minus.cl");
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().code(), ErrorCode::kCompileError);
  EXPECT_EQ(module.error().message(), (kInputs / "hostile" / "unary_minus.cl").string() +
                                          ": compiler crashed: signal 11 (Segmentation fault)");

  auto ir = compileSource(nestedConstantIr(), "nested.ll");
  ASSERT_FALSE(ir.ok());
  EXPECT_EQ(ir.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(ir.error().message(), "nested.ll: LLVM IR reader crashed: signal 11 (Segmentation fault)");
}

TEST(CompileIsolation, IrThatTheReaderAbortsOnBecomesThatFilesError) {
  const fs::path file = kInputs / "hostile" / "broken_debug_info.ll";
  auto module = compileFile(file);
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(module.error().message(),
            file.string() + ": LLVM IR reader failed: Broken module found, compilation aborted!");
}

TEST(CompileIsolation, SourceTextThatCrashesNamesItsVirtualFile) {
  auto module = compileSource(macroChain(), "generated/macro_chain.cl");
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().message().rfind("generated/macro_chain.cl: compiler crashed", 0), 0u)
      << module.error().message();
}

TEST(CompileIsolation, ACompilePastItsDeadlineTimesOut) {
  CompileOptions options;
  options.timeoutSeconds = 1;
  auto start = std::chrono::steady_clock::now();
  auto module = compileSource(exponentialMacro(), "exponential.cl", options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(module.error().message(), "exponential.cl: compiler timed out after 1 s");
  EXPECT_LT(seconds, 20.0);
}

TEST(CompileIsolation, ACompilePastItsMemoryLimitRunsOutOfMemory) {
  CompileOptions options;
  options.memoryLimitMiB = 256;
  options.timeoutSeconds = 120;
  auto module = compileSource(exponentialMacro(), "exponential.cl", options);
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().code(), ErrorCode::kCompileError);
  EXPECT_EQ(module.error().message(), "exponential.cl: compiler ran out of memory (limit 256 MiB)");
}

// Sets MIRTUNE_COMPILE_IN_PROCESS for one scope.
class InProcessCompiles {
 public:
  InProcessCompiles() { ::setenv("MIRTUNE_COMPILE_IN_PROCESS", "1", 1); }
  ~InProcessCompiles() { ::unsetenv("MIRTUNE_COMPILE_IN_PROCESS"); }
};

TEST(CompileIsolation, ModulesFromAWorkerEqualInProcessOnes) {
  struct Case {
    fs::path file;
    CompileOptions options;
  };
  CompileOptions o0;
  o0.optimizationLevel = 0;
  CompileOptions includes;
  includes.includeDirectories = {(kInputs / "include").string()};
  CompileOptions defines;
  defines.defines = {"WIDTH=16"};
  // Debug info: its intrinsics take metadata, and the bitcode reader verifies such modules.
  CompileOptions debug;
  debug.extraArguments = {"-g"};
  std::vector<Case> cases = {{kInputs / "saxpy.cl", {}},
                             {kInputs / "two_kernels.cl", o0},
                             {kInputs / "two_kernels.cl", {}},
                             {kInputs / "cl20_generic.cl", {}},
                             {kInputs / "clc_names.cl", {}},
                             {kInputs / "uses_include.cl", includes},
                             {kInputs / "uses_define.cl", defines},
                             {kInputs / "omp_reduction.c", {}},
                             {kInputs / "omp_sqrt.cpp", {}},
                             {kInputs / "vector_add.cu", {}},
                             {kInputs / "simple.ll", {}},
                             {kInputs / "legacy_byval.ll", {}},
                             {kInputs / "saxpy.cl", debug},
                             {kInputs / "omp_reduction.c", debug}};
  for (const fs::path& kernel :
       fs::directory_iterator(kInputs.parent_path().parent_path() / "kernels" / "opencl")) {
    if (kernel.extension() == ".cl") cases.push_back({kernel, {}});
  }
  // Bitcode input, written from a module compiled here.
  TemporaryFolder folder("mirtune-frontend", "bitcode");
  {
    InProcessCompiles inProcess;
    auto saxpy = compileFile(kInputs / "saxpy.cl");
    ASSERT_TRUE(saxpy.ok()) << saxpy.error().message();
    std::error_code ec;
    llvm::raw_fd_ostream out((folder.path() / "saxpy.bc").string(), ec);
    ASSERT_FALSE(ec);
    llvm::WriteBitcodeToFile(saxpy->module(), out);
  }
  cases.push_back({folder.path() / "saxpy.bc", {}});
  // IR as LLVM 4 wrote it (the data sets' NCC files): a bitcode round trip would respell its data layout and
  // frame-pointer attributes, and with them its hash.
  writeText(folder.path() / "old.ll", R"(target datalayout = "e-m:o-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-apple-macosx10.12.0"

define void @A(float* nocapture %a) #0 {
  store float 1.000000e+00, float* %a, align 4
  ret void
}

attributes #0 = { nounwind ssp uwtable "no-frame-pointer-elim"="true" "no-frame-pointer-elim-non-leaf" }
)");
  cases.push_back({folder.path() / "old.ll", {}});
  for (const Case& c : cases) {
    auto isolated = compileFile(c.file, c.options);
    auto local = [&] {
      InProcessCompiles inProcess;
      return compileFile(c.file, c.options);
    }();
    ASSERT_EQ(isolated.ok(), local.ok()) << c.file;
    if (!local.ok()) {
      EXPECT_EQ(isolated.error().message(), local.error().message());
      continue;
    }
    // Whole modules: a difference is named by file, not printed.
    EXPECT_TRUE(isolated->text() == local->text()) << c.file;
    EXPECT_TRUE(isolated->canonicalText() == local->canonicalText()) << c.file;
    EXPECT_EQ(isolated->irSha256(), local->irSha256()) << c.file;
    EXPECT_EQ(isolated->kernelNames(), local->kernelNames()) << c.file;
    EXPECT_EQ(isolated->language(), local->language()) << c.file;
    EXPECT_EQ(isolated->sourcePath(), local->sourcePath()) << c.file;
  }
  // Source text compiled from memory.
  const std::string source = "kernel void k(global float* a) { a[0] = sqrt(a[1]); }";
  auto fromWorker = compileSource(source, "memory.cl");
  ASSERT_TRUE(fromWorker.ok()) << fromWorker.error().message();
  InProcessCompiles inProcess;
  auto fromHere = compileSource(source, "memory.cl");
  ASSERT_TRUE(fromHere.ok());
  EXPECT_TRUE(fromWorker->text() == fromHere->text());
}

TEST(CompileIsolation, CompilerErrorsAreTheSameAsInProcess) {
  for (const char* name : {"undeclared.cl", "syntax_error.c", "broken_ssa.ll"}) {
    auto isolated = compileFile(kInputs / name);
    ASSERT_FALSE(isolated.ok()) << name;
    InProcessCompiles inProcess;
    auto local = compileFile(kInputs / name);
    ASSERT_FALSE(local.ok()) << name;
    EXPECT_EQ(isolated.error().code(), local.error().code()) << name;
    EXPECT_EQ(isolated.error().message(), local.error().message()) << name;
  }
}

}  // namespace
}  // namespace mirtune
