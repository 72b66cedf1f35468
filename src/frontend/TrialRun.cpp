// Trial runs: fork, run on a big stack in the child, watch the child's end and its deadline.
#include "frontend/TrialRun.h"

#include "frontend/ForkServer.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace mirtune {

bool compileInProcess() {
  const char* value = std::getenv("MIRTUNE_COMPILE_IN_PROCESS");
  return value != nullptr && std::string_view(value) == "1";
}

void runOnStack(std::size_t stackBytes, const std::function<void()>& work) {
  const bool ran = runOnStack(
      stackBytes, [](void* argument) { (*static_cast<const std::function<void()>*>(argument))(); },
      const_cast<std::function<void()>*>(&work));
  if (!ran) work();  // no thread to be had: the caller's own stack is the fallback
}

Status trialRun(const std::string& name, const std::function<void()>& work, double timeoutSeconds) {
  if (compileInProcess()) return success();
  const pid_t child = ::fork();
  if (child < 0) return makeError(ErrorCode::kIo, "{}: cannot fork a trial parse: {}", name, std::strerror(errno));
  if (child == 0) {
    // Only this thread exists in the child; it parses with the C library and LLVM, never with the parent's
    // loggers or databases, and leaves with _exit so no parent state is flushed or destroyed twice.
    const rlimit noCore{0, 0};
    ::setrlimit(RLIMIT_CORE, &noCore);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    runOnStack(kTrialStackBytes, work);
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
  int status = 0;
  for (auto pause = std::chrono::microseconds(200);; pause = std::min(pause * 2, std::chrono::microseconds(20000))) {
    const pid_t ended = ::waitpid(child, &status, WNOHANG);
    if (ended == child) break;
    if (ended < 0 && errno != EINTR) return makeError(ErrorCode::kInternal, "{}: lost the trial parse", name);
    if (timeoutSeconds > 0 && std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return makeError(ErrorCode::kTimeout, "{}: compiler timed out after {:.0f} s", name, timeoutSeconds);
    }
    std::this_thread::sleep_for(pause);
  }
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return makeError(ErrorCode::kCompileError, "{}: compiler crashed: signal {} ({})", name, signal,
                     ::strsignal(signal));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kCompileError, "{}: the trial parse ended with exit status {}", name,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return success();
}

}  // namespace mirtune
