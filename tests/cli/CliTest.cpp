// End-to-end tests of the mirtune executable: output, exit codes (0 ok, 1 bad input, 2 usage), no partial files.
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

SubprocessResult mirtune(const std::vector<std::string>& arguments) { return runMirtune(arguments); }

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mirtune-cli-" + std::to_string(::getpid())) / name;
  fs::create_directories(dir);
  return dir;
}

TEST(CliIr, JsonSummary) {
  auto run = mirtune({"ir", (kInputs / "two_kernels.cl").string(), "--json"});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto summary = nlohmann::json::parse(run.standardOutput);
  EXPECT_EQ(summary["file"], (kInputs / "two_kernels.cl").string());
  EXPECT_EQ(summary["language"], "opencl");
  EXPECT_EQ(summary["ir_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(summary["kernels"], nlohmann::json({"squares", "fill"}));
  EXPECT_GE(summary["functions"].get<int>(), 2);
  EXPECT_GT(summary["instructions"].get<int>(), 0);
}

TEST(CliIr, EachLanguageFromTheCommandLine) {
  for (const auto& [file, language] : std::vector<std::pair<std::string, std::string>>{
           {"saxpy.cl", "opencl"}, {"omp_reduction.c", "c"}, {"omp_sqrt.cpp", "cxx"},
           {"vector_add.cu", "cuda"}, {"simple.ll", "llvm"}}) {
    auto run = mirtune({"ir", (kInputs / file).string(), "--json", "-O1"});
    ASSERT_EQ(run.exitCode, 0) << file << ": " << run.standardError;
    EXPECT_EQ(nlohmann::json::parse(run.standardOutput)["language"], language);
  }
}

TEST(CliIr, TextIrToStdoutOrFile) {
  auto run = mirtune({"ir", (kInputs / "saxpy.cl").string()});
  ASSERT_EQ(run.exitCode, 0);
  EXPECT_NE(run.standardOutput.find("spir_kernel void @saxpy("), std::string::npos);
  fs::path out = scratch("out") / "saxpy.ll";
  auto toFile = mirtune({"ir", (kInputs / "saxpy.cl").string(), "-o", out.string()});
  ASSERT_EQ(toFile.exitCode, 0);
  EXPECT_TRUE(toFile.standardOutput.empty());
  EXPECT_EQ(*readFile(out), run.standardOutput);
  // The written IR is itself valid input.
  EXPECT_EQ(mirtune({"ir", out.string(), "--json"}).exitCode, 0);
}

TEST(CliIr, PreprocessorAndStandardOptions) {
  EXPECT_EQ(mirtune({"ir", (kInputs / "uses_define.cl").string(), "-DWIDTH=8"}).exitCode, 0);
  EXPECT_EQ(mirtune({"ir", (kInputs / "uses_define.cl").string(), "-D", "WIDTH=8"}).exitCode, 0);
  EXPECT_EQ(mirtune({"ir", (kInputs / "uses_include.cl").string(), "-I", (kInputs / "include").string()}).exitCode, 0);
  EXPECT_EQ(mirtune({"ir", (kInputs / "cl20_generic.cl").string(), "--cl-std", "CL2.0"}).exitCode, 0);
  EXPECT_EQ(mirtune({"ir", (kInputs / "cl20_generic.cl").string()}).exitCode, 1);
  EXPECT_EQ(mirtune({"ir", (kInputs / "clc_names.cl").string(), "--no-cl-prelude"}).exitCode, 1);
}

TEST(CliIr, BadInputExitsOneWithAMessageNamingTheFile) {
  fs::path dir = scratch("bad");
  { std::ofstream(dir / "empty.cl"); }
  {
    std::ofstream junk(dir / "junk.cl", std::ios::binary);
    for (int i = 0; i < 256; ++i) junk.put(static_cast<char>(i));
  }
  { std::ofstream(dir / "kernel.xyz") << "int x;\n"; }
  struct Case {
    fs::path file;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{{dir / "missing.cl", "missing.cl: no such file"},
                                         {dir / "empty.cl", "empty.cl: empty file"},
                                         {dir / "junk.cl", "junk.cl: binary data"},
                                         {dir / "kernel.xyz", "kernel.xyz: unknown file extension"},
                                         {kInputs / "undeclared.cl", "undeclared.cl:2:10: use of undeclared identifier 'b'"}}) {
    auto run = mirtune({"ir", c.file.string()});
    EXPECT_EQ(run.exitCode, 1) << c.file;
    EXPECT_TRUE(run.standardOutput.empty()) << c.file;
    EXPECT_NE(run.standardError.find(c.expected), std::string::npos) << run.standardError;
    EXPECT_EQ(std::count(run.standardError.begin(), run.standardError.end(), '\n'), 1) << run.standardError;
  }
}

TEST(CliIr, UsageErrorsExitTwo) {
  EXPECT_EQ(mirtune({"ir"}).exitCode, 2);
  EXPECT_EQ(mirtune({"ir", (kInputs / "saxpy.cl").string(), "-O7"}).exitCode, 2);
  EXPECT_EQ(mirtune({"ir", (kInputs / "saxpy.cl").string(), "--lang", "fortran"}).exitCode, 2);
  EXPECT_EQ(mirtune({"ir", (kInputs / "saxpy.cl").string(), "--cl-std", "CL9.9"}).exitCode, 2);
  EXPECT_EQ(mirtune({"no-such-command"}).exitCode, 2);
  EXPECT_EQ(mirtune({}).exitCode, 2);
  EXPECT_EQ(mirtune({"--version"}).exitCode, 0);
  EXPECT_EQ(mirtune({"--help"}).exitCode, 0);
}

TEST(CliIr, FailureNeverLeavesAPartialOrClobberedOutputFile) {
  fs::path dir = scratch("partial");
  fs::path fresh = dir / "fresh.ll";
  EXPECT_EQ(mirtune({"ir", (kInputs / "undeclared.cl").string(), "-o", fresh.string()}).exitCode, 1);
  EXPECT_FALSE(fs::exists(fresh));
  fs::path existing = dir / "existing.ll";
  { std::ofstream(existing) << "previous content\n"; }
  EXPECT_EQ(mirtune({"ir", (kInputs / "syntax_error.c").string(), "-o", existing.string()}).exitCode, 1);
  EXPECT_EQ(*readFile(existing), "previous content\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u) << "no temporary files left behind";
}

// The README's test command and .ci/run must stay the same command.
TEST(ProjectFiles, CiRunsTheReadmeTestCommand) {
  auto readme = readFile(fs::path(MIRTUNE_SOURCE_ROOT) / "README.md");
  auto ci = readFile(fs::path(MIRTUNE_SOURCE_ROOT) / ".ci" / "run");
  ASSERT_TRUE(readme.ok() && ci.ok());
  std::string command;
  std::istringstream lines(*ci);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#' && line.rfind("set ", 0) != 0 && line.rfind("cd ", 0) != 0) command = line;
  }
  ASSERT_FALSE(command.empty());
  EXPECT_NE(readme->find(command), std::string::npos) << "README.md lacks the .ci/run command: " << command;
}

}  // namespace
}  // namespace mirtune
