// Tests of the subprocess helper: exit status, signals, environment, stdin, and timeouts that kill the tree.
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace mirtune {
namespace {

SubprocessOptions shell(const std::string& script) {
  SubprocessOptions options;
  options.argv = {"/bin/sh", "-c", script};
  return options;
}

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto result = runSubprocess(shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->exitCode, 3);
  EXPECT_EQ(result->standardOutput, "out\n");
  EXPECT_EQ(result->standardError, "err\n");
  EXPECT_FALSE(result->timedOut);
  EXPECT_FALSE(result->succeeded());
  EXPECT_EQ(result->describe(), "exit code 3");
}

TEST(Subprocess, ReportsTheSignalOfACrash) {
  auto result = runSubprocess(shell("kill -SEGV $$"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->termSignal, SIGSEGV);
  EXPECT_NE(result->describe().find("signal 11"), std::string::npos);
}

TEST(Subprocess, EnvironmentOverridesAndRemovals) {
  ::setenv("MIRTUNE_TEST_INHERITED", "kept", 1);
  ::setenv("MIRTUNE_TEST_REMOVED", "present", 1);
  SubprocessOptions options = shell("echo \"$MIRTUNE_TEST_INHERITED,$OMP_NUM_THREADS,${MIRTUNE_TEST_REMOVED:-gone}\"");
  options.environment["OMP_NUM_THREADS"] = "7";
  options.unsetEnvironment.push_back("MIRTUNE_TEST_REMOVED");
  auto result = runSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->standardOutput, "kept,7,gone\n");
}

TEST(Subprocess, ArgumentsAreNotInterpretedByAShell) {
  SubprocessOptions options;
  options.argv = {"printf", "%s|", "a b", "$HOME", "; rm -rf /"};
  auto result = runSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->standardOutput, "a b|$HOME|; rm -rf /|");
}

TEST(Subprocess, FeedsStandardInputAndWorkingDirectory) {
  SubprocessOptions options = shell("cat; pwd");
  options.standardInput = "hello\n";
  options.workingDirectory = "/";
  auto result = runSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->standardOutput, "hello\n/\n");
}

TEST(Subprocess, MissingProgramIsAnError) {
  SubprocessOptions options;
  options.argv = {"mirtune-no-such-program-xyz"};
  auto result = runSubprocess(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  options.argv = {"./no/such/path"};
  EXPECT_FALSE(runSubprocess(options).ok());
}

TEST(Subprocess, LargeOutputIsNotTruncated) {
  auto result = runSubprocess(shell("head -c 3000000 /dev/zero | tr '\\0' x"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->standardOutput.size(), 3000000u);
}

bool processAlive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  // A zombie waiting for its (new) parent to reap it no longer runs.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string field;
  for (int i = 0; i < 3 && stat >> field; ++i) {
  }
  return field != "Z" && field != "X";
}

TEST(Subprocess, TimeoutKillsTheWholeProcessTreeWithinOneSecond) {
  namespace fs = std::filesystem;
  fs::path pidFile = fs::temp_directory_path() / ("mirtune-grandchild-" + std::to_string(::getpid()));
  fs::remove(pidFile);
  // The child starts a grandchild that holds the output pipe open, then hangs itself.
  SubprocessOptions options = shell("sleep 60 & echo $! > '" + pidFile.string() + "'; sleep 60");
  options.timeoutSeconds = 0.3;
  auto start = std::chrono::steady_clock::now();
  auto result = runSubprocess(options);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->timedOut);
  EXPECT_FALSE(result->succeeded());
  EXPECT_LT(elapsed, 0.3 + 1.0);
  auto grandchild = readFile(pidFile);
  ASSERT_TRUE(grandchild.ok());
  pid_t pid = std::stoi(*grandchild);
  // Allow the kernel a moment to tear the process down.
  for (int i = 0; i < 50 && processAlive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(processAlive(pid)) << "grandchild " << pid << " survived the timeout";
  fs::remove(pidFile);
}

TEST(Subprocess, FastChildIsNotReportedAsTimedOut) {
  SubprocessOptions options = shell("exit 0");
  options.timeoutSeconds = 5;
  auto result = runSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->succeeded());
  EXPECT_LT(result->wallSeconds, 2.0);
}

}  // namespace
}  // namespace mirtune
