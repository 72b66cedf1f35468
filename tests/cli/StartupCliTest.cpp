// Which shared libraries each command loads, read from the dynamic loader's own report (LD_DEBUG=files): commands
// that need no model load neither LibTorch nor XGBoost nor SentencePiece; the ones that read the tokenizer load
// SentencePiece only; prediction loads XGBoost and SentencePiece but never LibTorch (the encoder runs without it).
// A new link dependency that brings one of them back into every start fails here.
#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

struct Loaded {
  int exitCode = -1;
  std::string report;  ///< the loader's lines (stderr), the command's own stderr among them
  bool has(const std::string& library) const {
    // "file=libtorch_cpu.so.1.13 [0];  needed by ..." or "file=/path/libmirtune_mlp.so [0];  dynamically loaded by ..."
    for (std::size_t at = report.find("file="); at != std::string::npos; at = report.find("file=", at + 5)) {
      const std::size_t end = report.find_first_of(" \n", at);
      if (report.substr(at, end - at).find(library) != std::string::npos) return true;
    }
    return false;
  }
};

// The database the commands write, removed after each test.
fs::path databasePath() { return fs::temp_directory_path() / ("mirtune-startup-" + std::to_string(::getpid()) + ".db"); }

class Startup : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(databasePath().string() + suffix, ignored);
  }
};

Loaded run(const std::vector<std::string>& arguments) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.environment["LD_DEBUG"] = "files";
  options.environment["MIRTUNE_DB"] = databasePath().string();
  options.timeoutSeconds = 300;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  Loaded loaded;
  if (result.ok()) {
    loaded.exitCode = result->exitCode;
    loaded.report = result->standardError;
  }
  return loaded;
}

const std::string saxpy = (kInputs / "saxpy.cl").string();

TEST_F(Startup, CommandsWithoutAModelLoadNoModelLibrary) {
  ASSERT_EQ(run({"devmap", saxpy}).exitCode, 0) << "a prediction creates the database `db info` reads";
  const std::vector<std::vector<std::string>> commands = {
      {"ir", saxpy}, {"graph", saxpy, "--no-tokens"}, {"info"}, {"db", "info"}, {"rewrite", "loops", (kInputs / "omp_reduction.c").string()},
      {"pretrain", "--help"}};
  for (const auto& command : commands) {
    Loaded loaded = run(command);
    const std::string name = command.front() + (command.size() > 1 ? " " + command[1] : std::string());
    EXPECT_EQ(loaded.exitCode, 0) << name << "\n" << loaded.report.substr(0, 2000);
    ASSERT_NE(loaded.report.find("file="), std::string::npos) << "no loader report: LD_DEBUG not honoured?";
    EXPECT_FALSE(loaded.has("libtorch")) << name;
    EXPECT_FALSE(loaded.has("libc10")) << name;
    EXPECT_FALSE(loaded.has("libxgboost")) << name;
    EXPECT_FALSE(loaded.has("sentencepiece")) << name;
    EXPECT_FALSE(loaded.has("libmirtune_mlp")) << name;
  }
}

TEST_F(Startup, TheTokenizerLoadsSentencePieceAlone) {
  for (const auto& command : std::vector<std::vector<std::string>>{{"tokens", saxpy}, {"graph", saxpy}}) {
    Loaded loaded = run(command);
    EXPECT_EQ(loaded.exitCode, 0) << command[0];
    EXPECT_TRUE(loaded.has("libmirtune_sentencepiece")) << command[0];
    EXPECT_FALSE(loaded.has("libtorch")) << command[0];
    EXPECT_FALSE(loaded.has("libxgboost")) << command[0];
  }
}

TEST_F(Startup, PredictionRunsTheEncoderWithoutLibTorch) {
  Loaded loaded = run({"devmap", saxpy});
  ASSERT_EQ(loaded.exitCode, 0) << loaded.report.substr(0, 2000);
  EXPECT_TRUE(loaded.has("libxgboost")) << "the shipped device-mapping heads are XGBoost";
  EXPECT_TRUE(loaded.has("libmirtune_sentencepiece"));
  EXPECT_FALSE(loaded.has("libtorch"));
  EXPECT_FALSE(loaded.has("libc10"));
}

}  // namespace
}  // namespace mirtune
