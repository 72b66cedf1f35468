// Where the shipped files are found: the source tree for a build-tree program, $MIRTUNE_SHARE and the other
// overrides, and the runner of an installed prefix for a program that lives outside it.
#include "support/Files.h"
#include "support/Platform.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace mirtune;

namespace {

/// Clears the variables these tests set, before and after each test.
class SharePaths : public ::testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* name : {"MIRTUNE_SHARE", "MIRTUNE_MODELS", "MIRTUNE_RUNNER"}) ::unsetenv(name);
  }
};

/// A fresh scratch folder under the system's temporary folder, removed with the object.
struct ScratchFolder {
  fs::path path;
  ScratchFolder() {
    path = fs::temp_directory_path() / ("mirtune-share-paths-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchFolder() { fs::remove_all(path); }
};

}  // namespace

TEST_F(SharePaths, BuildTreeProgramUsesTheSourceTree) {
  // This test is built in the build tree, where no ../share/mirtune exists beside its executable.
  EXPECT_EQ(shareDirectory(), fs::path(MIRTUNE_SOURCE_ROOT));
  EXPECT_EQ(sourceDirectory(), shareDirectory());
  EXPECT_EQ(shippedModelDirectory("mirencoder-1.0"),
            fs::path(MIRTUNE_SOURCE_ROOT) / "embeddings/models/mirencoder-1.0");
  EXPECT_TRUE(fs::exists(shippedModelDirectory("mirencoder-1.0") / "manifest.json"));
}

TEST_F(SharePaths, ExecutableDirectoryIsWhereThisTestRuns) {
  EXPECT_EQ(executableDirectory(), fs::path(MIRTUNE_TEST_BINARY_DIR));
}

TEST_F(SharePaths, EnvironmentOverridesTheShareRoot) {
  ::setenv("MIRTUNE_SHARE", "/opt/elsewhere/share/mirtune", 1);
  EXPECT_EQ(shareDirectory(), fs::path("/opt/elsewhere/share/mirtune"));
  EXPECT_EQ(sourceDirectory(), fs::path("/opt/elsewhere/share/mirtune"));
  EXPECT_EQ(shippedModelDirectory("m"), fs::path("/opt/elsewhere/share/mirtune/embeddings/models/m"));
  // MIRTUNE_MODELS names the models folder itself and wins over the share root.
  ::setenv("MIRTUNE_MODELS", "/models", 1);
  EXPECT_EQ(shippedModelDirectory("m"), fs::path("/models/m"));
  ::unsetenv("MIRTUNE_SHARE");
  ::unsetenv("MIRTUNE_MODELS");
  EXPECT_EQ(shareDirectory(), fs::path(MIRTUNE_SOURCE_ROOT));
}

TEST_F(SharePaths, RunnerOfAnInstalledPrefixForAProgramOutsideIt) {
  // No mirtune-run beside this test: the build gives it a folder of its own.
  ASSERT_FALSE(fs::exists(fs::path(MIRTUNE_TEST_BINARY_DIR) / "mirtune-run"));
  EXPECT_EQ(runnerExecutablePath(), fs::path(MIRTUNE_TEST_BINARY_DIR) / "mirtune-run");

  ScratchFolder prefix;
  fs::create_directories(prefix.path / "share" / "mirtune");
  fs::create_directories(prefix.path / "bin");
  ::setenv("MIRTUNE_SHARE", (prefix.path / "share" / "mirtune").c_str(), 1);
  // The prefix has no runner yet: the fallback stays beside the executable.
  EXPECT_EQ(runnerExecutablePath(), fs::path(MIRTUNE_TEST_BINARY_DIR) / "mirtune-run");
  std::ofstream(prefix.path / "bin" / "mirtune-run") << "#!/bin/sh\n";
  EXPECT_EQ(runnerExecutablePath(), prefix.path / "bin" / "mirtune-run");
  ::setenv("MIRTUNE_RUNNER", "/usr/local/bin/my-runner", 1);
  EXPECT_EQ(runnerExecutablePath(), fs::path("/usr/local/bin/my-runner"));
}
