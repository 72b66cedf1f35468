// End-to-end tests of `mirtune graph`: JSON/DOT output, -o, --validate, exit codes.
#include "ir/GraphFormat.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

SubprocessResult mirtune(const std::vector<std::string>& arguments) { return runMirtune(arguments); }

TEST(CliGraph, JsonReadsBackAndIsStable) {
  const std::string input = (kInputs / "ir" / "graph_small.ll").string();
  auto run = mirtune({"graph", input, "--validate"});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto graph = programGraphFromJson(run.standardOutput);
  ASSERT_TRUE(graph.ok()) << graph.error().message();
  EXPECT_EQ(graph->nodes.size(), 29u);  // counted by hand in GraphTest.cpp
  EXPECT_EQ(graph->edges.size(), 51u);
  EXPECT_EQ(mirtune({"graph", input}).standardOutput, run.standardOutput);
}

TEST(CliGraph, DotAndOutputFile) {
  const std::string input = (kInputs / "saxpy.cl").string();
  auto dot = mirtune({"graph", input, "--format", "dot", "-O0"});
  ASSERT_EQ(dot.exitCode, 0) << dot.standardError;
  EXPECT_EQ(dot.standardOutput.rfind("digraph program_graph {", 0), 0u);

  fs::path dir = fs::temp_directory_path() / ("mirtune-graph-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto toFile = mirtune({"graph", input, "-o", (dir / "g.json").string()});
  ASSERT_EQ(toFile.exitCode, 0) << toFile.standardError;
  EXPECT_TRUE(toFile.standardOutput.empty());
  auto written = readFile(dir / "g.json");
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, mirtune({"graph", input}).standardOutput);
  fs::remove_all(dir);
}

TEST(CliGraph, ExitCodes) {
  auto missing = mirtune({"graph", (kInputs / "no_such_file.cl").string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find("no_such_file.cl"), std::string::npos) << missing.standardError;
  EXPECT_TRUE(missing.standardOutput.empty());
  auto broken = mirtune({"graph", (kInputs / "syntax_error.c").string(), "--validate"});
  EXPECT_EQ(broken.exitCode, 1);
  EXPECT_EQ(mirtune({"graph", (kInputs / "saxpy.cl").string(), "--format", "xml"}).exitCode, 2);
  EXPECT_EQ(mirtune({"graph", (kInputs / "saxpy.cl").string(), "--lang", "fortran"}).exitCode, 2);
}

}  // namespace
}  // namespace mirtune
