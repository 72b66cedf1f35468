// Every command that reads a source file, on every hostile input (tests/inputs/hostile and inputs generated
// here): mirtune must exit 1 or 2, name the input, not die by a signal or hang, and leave no output file behind
// (sources that are valid but crash Clang by their depth may also be answered).
#include "common/TemporaryFolder.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kHostile = fs::path(MIRTUNE_TEST_INPUTS) / "hostile";

// One command line; "{in}" is replaced by the input's path and "{out}" by an output path that must not exist
// afterwards.
struct CommandLine {
  std::vector<std::string> argv;
};

const std::vector<CommandLine>& commandLines() {
  static const std::vector<CommandLine> lines = {
      {{"ir", "{in}", "-o", "{out}"}},
      {{"ir", "{in}", "--json"}},
      {{"ir", "{in}", "--normalised"}},
      {{"tokens", "{in}"}},
      {{"graph", "{in}", "-o", "{out}"}},
      {{"embed", "{in}", "-o", "{out}"}},
      {{"embed", "{in}", "--format", "npy", "-o", "{out}"}},
      {{"devmap", "{in}"}},
      {{"devmap", "{in}", "--json", "-o", "{out}"}},
      {{"coarsen", "{in}"}},
      {{"unroll", "{in}"}},
      {{"rewrite", "loops", "{in}"}},
      {{"rewrite", "omp", "{in}", "-o", "{out}"}},
      {{"rewrite", "coarsen", "{in}", "--kernel", "k", "--factor", "2", "-o", "{out}"}},
      {{"omp", "--app", "{in}", "--strategy", "predict"}},
  };
  return lines;
}

void writeBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Inputs made at run time: what cannot be committed (a missing file, a folder, odd names) or is too large. Each
// is made only by the test that uses it; listing the tests writes nothing.
struct GeneratedInput {
  const char* name;
  void (*make)(const fs::path& path);
};

const std::vector<GeneratedInput>& generatedInputs() {
  static const std::vector<GeneratedInput> inputs = {
      {"missing.cl", [](const fs::path&) {}},
      {"a_folder.cl", [](const fs::path& path) { fs::create_directories(path); }},
      // A 1 MB identifier that is never declared: the error message quotes it.
      {"huge_identifier.cl",
       [](const fs::path& path) {
         writeBytes(path, "__kernel void k(__global int* a) { a[0] = " + std::string(1 << 20, 'x') + "; }\n");
       }},
      {"it's \"quoted\" $(touch PWNED) `touch PWNED`.cl",
       [](const fs::path& path) { writeBytes(path, "__kernel void k( { }\n"); }},
      // A source that crashes Clang 14 itself by its depth (the committed deep_if.cl and unary_minus.cl are
      // others).
      {"conditional_chain.cl",
       [](const fs::path& path) {
         std::string conditional = "__kernel void k(__global int* a) { a[0] = ";
         for (int i = 0; i < 100000; ++i) conditional += "a[1] ? 1 : ";
         writeBytes(path, conditional + "0; }\n");
       }},
  };
  return inputs;
}

std::vector<fs::path> committedInputs() {
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(kHostile)) {
    if (entry.path().filename() != "README.md") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

struct Outcome {
  std::string command;
  SubprocessResult result;
  bool outputLeft = false;
};

Outcome runOn(const std::vector<std::string>& pattern, const fs::path& input, const TemporaryFolder& folder) {
  const fs::path out = folder.path() / "out" / "result";
  fs::create_directories(out.parent_path());
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE, "--db", folder.db(), "-q"};
  for (const std::string& argument : pattern) {
    if (argument == "{in}") {
      options.argv.push_back(input.string());
    } else if (argument == "{out}") {
      options.argv.push_back(out.string());
    } else {
      options.argv.push_back(argument);
    }
  }
  options.timeoutSeconds = 120;
  options.workingDirectory = folder.path();
  Outcome outcome;
  for (std::size_t i = 1; i < options.argv.size(); ++i) outcome.command += options.argv[i] + " ";
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  if (result.ok()) outcome.result = *result;
  // No output at all: neither the file nor a sidecar (the .npy's file list) nor a temporary left behind.
  outcome.outputLeft = !fs::is_empty(out.parent_path());
  fs::remove_all(out.parent_path());
  return outcome;
}

// Sources that are valid code but crash Clang 14 by their depth: a command may also answer them (exit 0).
bool validButDeep(const fs::path& input) {
  const std::string name = input.filename().string();
  return name == "deep_if.cl" || name == "unary_minus.cl" || name == "conditional_chain.cl";
}

void expectRefused(const fs::path& input, const TemporaryFolder& folder) {
  for (const CommandLine& line : commandLines()) {
    const Outcome outcome = runOn(line.argv, input, folder);
    const SubprocessResult& r = outcome.result;
    SCOPED_TRACE(outcome.command);
    EXPECT_FALSE(r.timedOut) << "hung";
    EXPECT_EQ(r.termSignal, 0) << r.describe() << "\n" << r.standardError;
    if (r.exitCode == 0 && validButDeep(input)) continue;
    EXPECT_TRUE(r.exitCode == 1 || r.exitCode == 2) << r.describe() << "\n" << r.standardError;
    // The message names the input (its path as given, or at least its file name).
    EXPECT_NE(r.standardError.find(input.filename().string()), std::string::npos) << r.standardError;
    EXPECT_EQ(r.standardError.find("internal error"), std::string::npos) << r.standardError;
    EXPECT_FALSE(outcome.outputLeft) << "an output file was written";
  }
  EXPECT_FALSE(fs::exists(folder.path() / "PWNED")) << "a file name was run through a shell";
}

class HostileInput : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileInput, EveryCommandRefusesItCleanly) {
  TemporaryFolder folder("mirtune-hostile", "run");
  const std::string name = GetParam();
  fs::path input = kHostile / name;
  for (const GeneratedInput& generated : generatedInputs()) {
    if (name == generated.name) {
      input = folder.path() / name;
      generated.make(input);
    }
  }
  expectRefused(input, folder);
}

std::vector<std::string> allInputNames() {
  std::vector<std::string> names;
  for (const fs::path& path : committedInputs()) names.push_back(path.filename().string());
  for (const GeneratedInput& generated : generatedInputs()) names.emplace_back(generated.name);
  return names;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileInput, ::testing::ValuesIn(allInputNames()), testName);

}  // namespace
}  // namespace mirtune
