// A source that crashes Clang 14 or LLVM's IR reader (tests/inputs/hostile) costs its own file only:
// `mirtune ir` reports it, a `devmap predict` batch writes the other rows and an error for its row, `mirtune
// embed DIR` embeds the rest; MIRTUNE_COMPILE_IN_PROCESS=1 brings back the in-process compile whose crash
// ends mirtune.
#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"
#include "support/Files.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const std::string kInputs = MIRTUNE_TEST_INPUTS;
const std::string kRoot = MIRTUNE_SOURCE_ROOT;
const std::string kCrasher = kInputs + "/hostile/unary_minus.cl";

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

TEST(CompileIsolationCli, IrReportsACompilerCrashAsTheFilesError) {
  auto result = runMirtune({"ir", kCrasher, "--json"});
  EXPECT_EQ(result.termSignal, 0) << result.describe();
  EXPECT_EQ(result.exitCode, 1) << result.describe();
  EXPECT_NE(result.standardError.find(kCrasher + ": compiler crashed: signal 11 (Segmentation fault)"),
            std::string::npos)
      << result.standardError;
  EXPECT_EQ(result.standardOutput, "");
}

TEST(CompileIsolationCli, InProcessCompilesAreTheDebuggingEscapeHatch) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE, "ir", kCrasher, "--json"};
  options.environment["MIRTUNE_COMPILE_IN_PROCESS"] = "1";
  options.timeoutSeconds = 120;
  auto result = runSubprocess(options);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->termSignal, SIGSEGV) << result->describe();

  // The same switch compiles good input as before.
  options.argv = {MIRTUNE_EXECUTABLE, "ir", kInputs + "/saxpy.cl", "--json"};
  auto good = runSubprocess(options);
  ASSERT_TRUE(good.ok()) << good.error().message();
  ASSERT_EQ(good->exitCode, 0) << good->describe();
  auto isolated = runMirtune({"ir", kInputs + "/saxpy.cl", "--json"});
  EXPECT_EQ(good->standardOutput, isolated.standardOutput);
}

TEST(CompileIsolationCli, ABatchWithACrasherAnswersEveryOtherRow) {
  TemporaryFolder folder("mirtune-cli", "isolation-predict");
  fs::path input = folder.path() / "rows.csv";
  std::ofstream(input) << "file,kernel,transfer,wgsize\n"
                       << kRoot << "/kernels/opencl/vector_add.cl,vector_add,4096,32\n"
                       << kCrasher << ",,4096,32\n"
                       << kInputs << "/hostile/deep_if.cl,deep_if,1024,64\n"
                       << kInputs << "/hostile/broken_debug_info.ll,,1024,64\n"
                       << kInputs << "/two_kernels.cl,,1048576,128\n";
  fs::path output = folder.path() / "out.csv";
  auto result = runMirtune({"--db", folder.db(), "devmap", "predict", "--input", input.string(), "--platform",
                            "nvidia", "-o", output.string()},
                           300);
  ASSERT_EQ(result.termSignal, 0) << result.describe();
  // Rows failed, so the exit status is 1; the output is still written for every row.
  ASSERT_EQ(result.exitCode, 1) << result.describe();
  auto text = readFile(output);
  ASSERT_TRUE(text.ok()) << text.error().message();
  std::vector<std::string> lines = linesOf(*text);
  ASSERT_EQ(lines.size(), 7u) << *text;  // header, one row each for the first four, two kernels of the last
  EXPECT_EQ(lines[0], "file,kernel,transfer,wgsize,device,probability,error");
  EXPECT_TRUE(lines[1].find(",vector_add,4096,32,GPU,") != std::string::npos ||
              lines[1].find(",vector_add,4096,32,CPU,") != std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("unary_minus.cl: compiler crashed: signal 11 (Segmentation fault)"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find("deep_if.cl: compiler crashed: signal 11 (Segmentation fault)"), std::string::npos)
      << lines[3];
  EXPECT_NE(lines[4].find("broken_debug_info.ll: LLVM IR reader failed: Broken module found"),
            std::string::npos)
      << lines[4];
  EXPECT_NE(lines[5].find(",squares,1048576,128,"), std::string::npos) << lines[5];
  EXPECT_NE(lines[6].find(",fill,1048576,128,"), std::string::npos) << lines[6];
  for (int good : {1, 5, 6}) EXPECT_EQ(lines[good].back(), ',') << "no error expected: " << lines[good];
}

TEST(CompileIsolationCli, EmbeddingAFolderWithACrasherEmbedsTheRest) {
  TemporaryFolder folder("mirtune-cli", "isolation-embed");
  fs::path sources = folder.path() / "sources";
  fs::create_directories(sources);
  fs::copy_file(kInputs + "/saxpy.cl", sources / "saxpy.cl");
  fs::copy_file(kCrasher, sources / "unary_minus.cl");
  fs::copy_file(kInputs + "/simple.ll", sources / "simple.ll");
  auto result = runMirtune({"--db", folder.db(), "embed", sources.string()}, 300);
  ASSERT_EQ(result.termSignal, 0) << result.describe();
  EXPECT_EQ(result.exitCode, 1) << result.describe();  // some inputs failed
  EXPECT_NE(result.standardError.find((sources / "unary_minus.cl").string() +
                                      ": compiler crashed: signal 11 (Segmentation fault)"),
            std::string::npos)
      << result.standardError;
  nlohmann::json output = nlohmann::json::parse(result.standardOutput);
  std::vector<std::string> embedded;
  for (const auto& row : output["embeddings"]) {
    embedded.push_back(fs::path(row["file"].get<std::string>()).filename().string());
    EXPECT_EQ(row["vector"].size(), output["dimension"].get<std::size_t>());
  }
  std::sort(embedded.begin(), embedded.end());
  EXPECT_EQ(embedded, (std::vector<std::string>{"saxpy.cl", "simple.ll"}));
}

}  // namespace
}  // namespace mirtune
