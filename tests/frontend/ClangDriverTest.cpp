// Tests of the Clang driver helper: one cc1 job into an invocation, errors that name the input, the built-in
// headers and in-memory sources served through its file system, warnings kept on request.
#include "frontend/ClangDriver.h"
#include "frontend/Frontend.h"

#include <clang/Frontend/FrontendActions.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

ClangJob openClJob(const std::string& path, bool prelude = true) {
  CompileOptions options;
  options.language = Language::kOpenCl;
  options.openClCompatPrelude = prelude;
  return ClangJob{driverArguments(Language::kOpenCl, options), path, path, nullptr};
}

TEST(ClangDriver, PlansOneCompileJobForAnOpenClSource) {
  const std::string path = (kInputs / "saxpy.cl").string();
  ClangDiagnostics diagnostics;
  auto invocation = createCompilerInvocation(openClJob(path), diagnostics);
  ASSERT_TRUE(invocation.ok()) << invocation.error().message();
  const auto& inputs = (*invocation)->getFrontendOpts().Inputs;
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs.front().getFile().str(), path);
  EXPECT_FALSE((*invocation)->getFrontendOpts().DisableFree);
  EXPECT_FALSE((*invocation)->getDiagnosticOpts().ShowCarets);
  EXPECT_TRUE(diagnostics.errors().empty());
}

TEST(ClangDriver, DriverErrorsNameTheInput) {
  ClangJob job = openClJob("kernel.cl");
  job.driverArguments.push_back("-fno-such-option-anywhere");
  ClangDiagnostics diagnostics;
  auto invocation = createCompilerInvocation(job, diagnostics);
  ASSERT_FALSE(invocation.ok());
  EXPECT_EQ(invocation.error().code(), ErrorCode::kCompileError);
  EXPECT_EQ(invocation.error().message().rfind("kernel.cl: ", 0), 0u) << invocation.error().message();
  EXPECT_NE(invocation.error().message().find("-fno-such-option-anywhere"), std::string::npos)
      << invocation.error().message();
}

TEST(ClangDriver, CompilesAnInMemorySourceThatIncludesABuiltinHeader) {
  // The OpenCL prelude is served from memory under kBuiltinHeaderDirectory; the source is not on disk either.
  const std::string name = "/in-memory/uses_shim.cl";
  const std::string source = std::string("#include \"") + kBuiltinHeaderDirectory +
                             "/opencl_compat.h\"\n__kernel void k(__global int* x) { x[0] = 1; }\n";
  ClangJob job = openClJob(name, /*prelude=*/false);
  job.fileSystem = clangFileSystem(name, source);
  ClangDiagnostics diagnostics;
  auto compiler = createCompilerInstance(job, diagnostics);
  ASSERT_TRUE(compiler.ok()) << compiler.error().message();
  clang::SyntaxOnlyAction action;
  EXPECT_TRUE((*compiler)->ExecuteAction(action)) << diagnostics.compileError(name).message();
  EXPECT_TRUE(diagnostics.errors().empty());
}

TEST(ClangDiagnostics, CollectsErrorsWithLocationsAndWarningsOnRequest) {
  const std::string name = "/in-memory/warns.cl";
  const std::string source =
      "__kernel void k(__global int* x) { int unused; x[0] = y; x[1] = z; }\n"
      "#warning careful\n";
  for (bool keepWarnings : {false, true}) {
    ClangJob job = openClJob(name);
    // driverArguments() silences warnings (-w); this test wants to see them.
    job.driverArguments.erase(std::remove(job.driverArguments.begin(), job.driverArguments.end(), "-w"),
                              job.driverArguments.end());
    job.fileSystem = clangFileSystem(name, source);
    ClangDiagnostics diagnostics(keepWarnings);
    auto compiler = createCompilerInstance(job, diagnostics);
    ASSERT_TRUE(compiler.ok()) << compiler.error().message();
    clang::SyntaxOnlyAction action;
    (*compiler)->ExecuteAction(action);
    ASSERT_EQ(diagnostics.errors().size(), 2u);
    EXPECT_EQ(diagnostics.errors()[0].rfind(name + ":1:", 0), 0u) << diagnostics.errors()[0];
    Error error = diagnostics.compileError(name);
    EXPECT_EQ(error.code(), ErrorCode::kCompileError);
    EXPECT_NE(error.message().find("(and 1 more error)"), std::string::npos) << error.message();
    if (keepWarnings) {
      ASSERT_FALSE(diagnostics.warnings().empty());
      bool sawWarning = false;
      for (const std::string& warning : diagnostics.warnings())
        sawWarning = sawWarning || warning.find("warning: careful") != std::string::npos;
      EXPECT_TRUE(sawWarning);
    } else {
      EXPECT_TRUE(diagnostics.warnings().empty());
    }
  }
}

TEST(ClangDiagnostics, NoCollectedErrorStillNamesTheInput) {
  ClangDiagnostics diagnostics;
  Error error = diagnostics.compileError("a.cl");
  EXPECT_EQ(error.code(), ErrorCode::kCompileError);
  EXPECT_EQ(error.message(), "a.cl: compilation failed");
}

}  // namespace
}  // namespace mirtune
