// End-to-end tests of the small commands' shared vocabulary: --json on graph, pretrain's --attention-heads
// (and its deprecated --heads), tokenizer train writing to the user's models folder and exiting 1 when an
// input failed.
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mirtune-small-cli-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

SubprocessResult runWithDataHome(const std::vector<std::string>& arguments, const fs::path& dataHome) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.environment["XDG_DATA_HOME"] = dataHome.string();
  options.unsetEnvironment = {"MIRTUNE_DB"};
  options.timeoutSeconds = 300;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

TEST(CliGraph, JsonFlagIsTheJsonFormat) {
  const std::string file = (kInputs / "saxpy.cl").string();
  auto byFlag = runMirtune({"graph", file, "--json", "--no-tokens"});
  ASSERT_EQ(byFlag.exitCode, 0) << byFlag.standardError;
  auto byFormat = runMirtune({"graph", file, "--no-tokens"});
  ASSERT_EQ(byFormat.exitCode, 0) << byFormat.standardError;
  EXPECT_EQ(byFlag.standardOutput, byFormat.standardOutput);
  EXPECT_TRUE(nlohmann::json::parse(byFlag.standardOutput).contains("nodes"));
  EXPECT_EQ(runMirtune({"graph", file, "--json", "--format", "dot"}).exitCode, 2);
}

TEST(CliPretrain, AttentionHeadsAndItsDeprecatedAlias) {
  const fs::path dir = scratch("pretrain");
  const std::string missing = (dir / "no-corpus").string();
  // Both spellings parse (the run then fails on the missing corpus: exit 1, not a usage error).
  auto current = runMirtune({"pretrain", "--corpus", missing, "--out", (dir / "a").string(), "--attention-heads", "2"});
  EXPECT_EQ(current.exitCode, 1) << current.standardError;
  EXPECT_EQ(current.standardError.find("deprecated"), std::string::npos) << current.standardError;
  auto old = runMirtune({"pretrain", "--corpus", missing, "--out", (dir / "b").string(), "--heads", "2"});
  EXPECT_EQ(old.exitCode, 1) << old.standardError;
  EXPECT_NE(old.standardError.find("--heads is deprecated here; use --attention-heads"), std::string::npos)
      << old.standardError;
  // The alias is hidden from the help.
  auto help = runMirtune({"pretrain", "--help"});
  EXPECT_NE(help.standardOutput.find("--attention-heads"), std::string::npos);
  EXPECT_EQ(help.standardOutput.find("--heads "), std::string::npos) << help.standardOutput;
}

TEST(CliTokenizer, TrainWritesToTheUsersModelsFolderAndExitsOneWhenAnInputFailed) {
  const fs::path dir = scratch("tokenizer");
  const fs::path corpus = dir / "corpus";
  fs::create_directories(corpus);
  for (const char* name : {"saxpy.cl", "two_kernels.cl", "omp_reduction.c", "omp_sqrt.cpp", "vector_add.cu"})
    fs::copy_file(kInputs / name, corpus / name);
  const fs::path dataHome = dir / "data";
  const std::vector<std::string> train = {"tokenizer", "train",          "--corpus", corpus.string(),
                                          "--json",    "--vocab-size",   "400"};
  auto ok = runWithDataHome(train, dataHome);
  ASSERT_EQ(ok.exitCode, 0) << ok.standardError;
  const fs::path expected = dataHome / "mirtune" / "models" / "tokenizer" / "default";
  auto summary = nlohmann::json::parse(ok.standardOutput);
  EXPECT_EQ(summary["out"], expected.string());
  EXPECT_EQ(summary["modules"], 5);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_TRUE(fs::exists(expected / "manifest.json")) << "nothing written to " << expected;

  fs::copy_file(kInputs / "syntax_error.c", corpus / "syntax_error.c");
  auto partial = runWithDataHome(train, dataHome);
  EXPECT_EQ(partial.exitCode, 1) << partial.standardError;
  auto partialSummary = nlohmann::json::parse(partial.standardOutput);  // the output is still written
  EXPECT_EQ(partialSummary["modules"], 5);
  EXPECT_EQ(partialSummary["failed"], 1);
  EXPECT_NE(partial.standardError.find("1 of 6 modules could not be read"), std::string::npos)
      << partial.standardError;
}

}  // namespace
}  // namespace mirtune
