// How long a runner lives: it can end with the process that started it, and a watchdog thread ends a run
// stuck past its deadline (a hung kernel blocks inside the driver, where nothing else can stop it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mirtune::runner {

/// Asks the kernel to send `signo` to this process when its parent ends (PR_SET_PDEATHSIG), and sends it at
/// once when the parent is gone already: `expectedParent` (when > 0) is the process that started the
/// runner, directly or through a wrapper script, which closes the window between fork and this call; it
/// must be the parent or an ancestor. The kernel tracks the thread that forked the runner, so a caller that
/// starts a runner from a worker thread must keep that thread alive until the runner ends; and through a
/// wrapper, the signal follows the wrapper, not the starter.
void dieWithParent(int signo, pid_t expectedParent);

/// Runs `expire` on its own thread if `seconds` pass (counted from `start`) before disarm(), then ends the
/// process with `exitCode` through _exit: the main thread may be stuck inside a driver call, so nothing
/// waits for it and no destructor runs. `expire` writes whatever the process must leave behind.
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  Watchdog(Clock::time_point start, double seconds, std::function<void()> expire, int exitCode);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Runs `change` under the lock `expire` runs under, so shared state is never read half-written.
  void update(const std::function<void()>& change);
  /// After this the watchdog never fires. Called before the main thread writes its own result; if the
  /// watchdog is writing a timeout at that moment, this blocks until the process ends.
  void disarm();

 private:
  void watch();

  Clock::time_point deadline_;
  std::function<void()> expire_;
  int exitCode_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool disarmed_ = false;
  std::thread thread_;
};

}  // namespace mirtune::runner
