// Shared helpers of the tuner tests: the runner path, a device probe that skips without OpenCL, small plans.
#pragma once

#include "tuner/OpenClRun.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace mirtune::testing {

inline std::filesystem::path runnerExecutable() {
  return MIRTUNE_RUN_EXECUTABLE;
}
inline std::filesystem::path tunerInputs() {
  return MIRTUNE_TUNER_TEST_INPUTS;
}

/// The probed devices, or an empty list with the reason in `why` (the caller skips).
inline std::vector<OpenClDevice> devicesOrReason(std::string& why) {
  auto devices = probeOpenClDevices(runnerExecutable());
  if (!devices) {
    why = "OpenCL probe failed: " + devices.error().message();
    return {};
  }
  if (devices->empty()) why = "no OpenCL device (ICD loader lists no platform): install pocl-opencl-icd";
  return *devices;
}

#define MIRTUNE_SKIP_WITHOUT_OPENCL()          \
  do {                                         \
    std::string skipReason;                    \
    if (devicesOrReason(skipReason).empty()) { \
      GTEST_SKIP() << skipReason;              \
    }                                          \
  } while (false)

/// A small /proc file ("" when it cannot be read). Plain read(2): a process may end while it is read, and
/// std::istreambuf_iterator then throws from the stream buffer.
inline std::string readProcFile(const std::filesystem::path& path) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(got));
  ::close(fd);
  return text;
}

/// Live processes (zombies have no command line) whose command line mentions `marker`, or, with `orCwd`,
/// whose working folder lies inside `marker` (a compiler started with relative paths in a plan's folder).
inline std::vector<pid_t> processesMentioning(const std::string& marker, bool orCwd = false) {
  std::vector<pid_t> found;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    const std::string cmdline = readProcFile(entry.path() / "cmdline");
    bool mentions = cmdline.find(marker) != std::string::npos;
    if (!mentions && orCwd && !cmdline.empty()) {
      std::error_code error;
      const std::string cwd = std::filesystem::read_symlink(entry.path() / "cwd", error).string();
      mentions = !error && cwd.rfind(marker, 0) == 0;
    }
    if (mentions) found.push_back(pid);
  }
  return found;
}

/// Waits up to `seconds` for every process mentioning `marker` to end; returns those still there.
inline std::vector<pid_t> survivorsAfter(double seconds, const std::string& marker, bool orCwd = false) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<pid_t> left = processesMentioning(marker, orCwd);
  while (!left.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = processesMentioning(marker, orCwd);
  }
  return left;
}

/// Kills what a failed test left running, so one failure does not spin on after the test.
inline void killAllMentioning(const std::string& marker, bool orCwd = false) {
  for (pid_t pid : processesMentioning(marker, orCwd)) ::kill(pid, SIGKILL);
}

/// Few, short repetitions: the tests check behaviour, not timings.
inline void makeQuick(runner::RunPlan& plan) {
  plan.warmup = 1;
  plan.minTimeSeconds = 0;
  plan.minRepetitions = 2;
  plan.maxRepetitions = 3;
}

}  // namespace mirtune::testing
