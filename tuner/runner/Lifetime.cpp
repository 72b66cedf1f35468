// Parent-death signals and the watchdog of the OpenCL modes.
#include "tuner/runner/Lifetime.h"

#include "tuner/runner/ProcessTable.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>

namespace mirtune::runner {

void dieWithParent(int signo, pid_t expectedParent) {
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, signo, 0, 0, 0);
  // An orphan is re-parented (to init or a subreaper), so a changed parent, or a starter no longer above the
  // runner (a wrapper script may stand between them), means the starter is gone and no signal will come.
  if (::getppid() != parent || (expectedParent > 0 && !isAncestor(expectedParent))) ::raise(signo);
}

Watchdog::Watchdog(Clock::time_point start, double seconds, std::function<void()> expire, int exitCode)
    : deadline_(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))),
      expire_(std::move(expire)),
      exitCode_(exitCode),
      thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  disarm();
  thread_.join();
}

void Watchdog::update(const std::function<void()>& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  change();
}

void Watchdog::disarm() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    disarmed_ = true;
  }
  wake_.notify_all();
}

void Watchdog::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (wake_.wait_until(lock, deadline_, [this] { return disarmed_; })) return;
  // The lock stays held: the main thread cannot start writing its own result from here on.
  expire_();
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(exitCode_);
}

}  // namespace mirtune::runner
