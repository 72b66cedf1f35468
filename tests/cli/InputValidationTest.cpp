// Values and files mirtune did not make are checked before use: numbers on the command line (NaN, zero sizes,
// integers past 64 bits), a database it cannot write to, and JSON manifests whose fields have the wrong type.
#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"
#include "support/Files.h"
#include "tasks/omp/OmpApp.h"
#include "tuner/KernelManifest.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;
const fs::path kKernels = fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "opencl";

TEST(InputValidation, NonFiniteLaunchNumbersAreUsageErrors) {
  TemporaryFolder folder("mirtune-validation", "numbers");
  for (const char* value : {"nan", "NaN", "inf", "-inf", "1e999"}) {
    for (const char* option : {"--transfer", "--wgsize"}) {
      auto run = runMirtune({"--db", folder.db(), "devmap", (kInputs / "saxpy.cl").string(), option, value});
      EXPECT_EQ(run.exitCode, 2) << option << " " << value << ": " << run.standardError;
      EXPECT_NE(run.standardError.find(option), std::string::npos) << run.standardError;
    }
  }
}

TEST(InputValidation, AZeroWorkSizeIsAUsageErrorNamingTheOption) {
  TemporaryFolder folder("mirtune-validation", "zero");
  const std::string kernel = (kInputs / "saxpy.cl").string();
  const std::vector<std::vector<std::string>> lines = {
      {"devmap", kernel, "--run", "--global", "0"},
      {"devmap", kernel, "--run", "--global", "64", "--local", "0"},
      {"coarsen", kernel, "--run", "--global", "64,0"},
      {"rewrite", "coarsen", kernel, "--kernel", "saxpy", "--factor", "2", "--global", "0"}};
  for (auto line : lines) {
    line.insert(line.begin(), {"--db", folder.db()});
    auto run = runMirtune(line);
    EXPECT_EQ(run.exitCode, 2) << run.standardError;
    EXPECT_TRUE(run.standardError.find("--global") != std::string::npos ||
                run.standardError.find("--local") != std::string::npos)
        << run.standardError;
  }
}

TEST(InputValidation, AnIntegerArgumentPast64BitsIsNamedNotAnInternalError) {
  TemporaryFolder folder("mirtune-validation", "stoll");
  for (const char* value : {"n=99999999999999999999", "n=1e30", "n=nan"}) {
    auto run = runMirtune({"--db", folder.db(), "devmap", (kInputs / "saxpy.cl").string(), "--run", "--global",
                           "64", "--arg", value, "--min-time", "0"});
    EXPECT_EQ(run.exitCode, 1) << value << ": " << run.standardError;
    // The kernel's report (stdout) says why it was not run; nothing is an internal error.
    const std::string said = run.standardOutput + run.standardError;
    EXPECT_EQ(said.find("internal error"), std::string::npos) << said;
    EXPECT_NE(said.find(std::string("scalar ") + value), std::string::npos) << said;
  }
}

// Overwrites the start of every page but the first (the header) with random bytes: SQLite opens the file, and
// every table read or write then fails with "database disk image is malformed".
void corruptPages(const fs::path& database) {
  auto bytes = readFile(database);
  ASSERT_TRUE(bytes.ok());
  std::string data = *bytes;
  const std::size_t pageSize = 4096;
  std::mt19937 random(7);
  for (std::size_t page = 2; (page + 1) * pageSize <= data.size(); ++page) {
    for (std::size_t i = 0; i < 100; ++i) data[page * pageSize + i] = static_cast<char>(random());
  }
  std::ofstream(database, std::ios::binary | std::ios::trunc) << data;
}

TEST(InputValidation, ADatabaseThatCannotRecordFailsTheCommand) {
  TemporaryFolder folder("mirtune-validation", "corrupt");
  const std::string kernel = (kKernels / "matmul_tiled.cl").string();
  auto first = runMirtune({"--db", folder.db(), "devmap", kernel});
  ASSERT_EQ(first.exitCode, 0) << first.standardError;
  corruptPages(folder.db());
  for (const std::vector<std::string>& line :
       {std::vector<std::string>{"devmap", kernel}, std::vector<std::string>{"embed", kernel},
        std::vector<std::string>{"coarsen", kernel}}) {
    std::vector<std::string> arguments = {"--db", folder.db()};
    arguments.insert(arguments.end(), line.begin(), line.end());
    auto run = runMirtune(arguments);
    EXPECT_EQ(run.exitCode, 1) << line[0] << ": " << run.standardError;
    EXPECT_NE(run.standardError.find("malformed"), std::string::npos) << run.standardError;
    EXPECT_NE(run.standardError.find("error:"), std::string::npos) << run.standardError;
  }
}

TEST(InputValidation, ManifestFieldsOfTheWrongTypeNameTheFile) {
  TemporaryFolder folder("mirtune-validation", "manifests");
  std::ofstream(folder.path() / "k.cl") << "__kernel void k(__global float* a) { a[0] = 1; }\n";
  nlohmann::json kernel = {{"name", "k"},           {"source", "k.cl"},      {"kernel", "k"},
                           {"reference", "saxpy"},  {"sizes", {64}},        {"tolerance", "tight"}};
  const fs::path kernelManifest = folder.path() / "k.json";
  std::ofstream(kernelManifest) << kernel.dump();
  auto loaded = loadKernelManifest(kernelManifest);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find(kernelManifest.string()), std::string::npos)
      << loaded.error().message();

  std::ofstream(folder.path() / "app.c") << "int main(void) { return 0; }\n";
  const nlohmann::json app = {{"name", "app"}, {"source", "app.c"}, {"description", 5}, {"sizes", {{"small", {"1"}}}}};
  const fs::path appManifest = folder.path() / "app.json";
  std::ofstream(appManifest) << app.dump();
  auto appLoaded = omp::loadOmpApp(appManifest);
  ASSERT_FALSE(appLoaded.ok());
  EXPECT_NE(appLoaded.error().message().find(appManifest.string()), std::string::npos)
      << appLoaded.error().message();
}

}  // namespace
}  // namespace mirtune
