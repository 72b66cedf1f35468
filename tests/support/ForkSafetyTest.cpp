// Tests that a child forked while other threads log or report progress can still log and exit.
#include "support/ForkSafety.h"
#include "support/Log.h"
#include "support/Progress.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mirtune {
namespace {

using namespace std::chrono_literals;

/// Sends stderr to /dev/null while alive (the tests log thousands of lines), then restores it.
class SilencedStderr {
 public:
  SilencedStderr() : saved_(dup(STDERR_FILENO)) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    close(null);
  }
  ~SilencedStderr() {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
  }

 private:
  int saved_;
};

/// Forks; the child runs `child` and exits 0. Returns whether the child exited 0 within the deadline (a child
/// still running then is killed).
template <typename Child>
bool childExitsInTime(Child child, std::chrono::milliseconds deadline = 5s) {
  pid_t pid = fork();
  if (pid == 0) {
    child();
    _exit(0);
  }
  if (pid < 0) return false;
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

constexpr int kForks = 300;

TEST(ForkSafety, HandlersAreRegistered) { EXPECT_TRUE(installForkSafeLogging()); }

TEST(ForkSafety, ChildLogsWhileAnotherThreadLogsInALoop) {
  SilencedStderr silenced;
  std::atomic<bool> stop{false};
  std::thread logger([&] {
    while (!stop.load()) logError("{}", std::string(200, 'x'));
  });
  int stuck = 0;
  for (int i = 0; i < kForks && stuck == 0; ++i) {
    if (!childExitsInTime([] { logError("child {}", getpid()); })) ++stuck;
  }
  stop.store(true);
  logger.join();
  EXPECT_EQ(stuck, 0) << "a child forked while another thread logged could not log";
}

TEST(ForkSafety, ChildLogsAndAdvancesWhileAProgressHeartbeatRuns) {
  SilencedStderr silenced;
  ProgressOptions options;
  options.terminal = false;  // log mode with the heartbeat thread
  options.logEveryTime = 1ms;
  options.logMinimumInterval = 0ms;
  options.logEveryItems = 1;
  ProgressLine progress("forking", 0, options);
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop.load()) progress.advance();
  });
  int stuck = 0;
  for (int i = 0; i < kForks && stuck == 0; ++i) {
    if (!childExitsInTime([&] {
          progress.advance();
          logError("child {}", getpid());
          progress.finish();  // no heartbeat thread to join here: must return
        })) {
      ++stuck;
    }
  }
  stop.store(true);
  worker.join();
  progress.finish();
  EXPECT_EQ(stuck, 0) << "a child forked while a progress line logged could not log";
  EXPECT_GT(progress.done(), 0u);
}

}  // namespace
}  // namespace mirtune
