// Process measurement: each build and repetition is a fresh process group with a timeout that kills the whole
// group; stdout is scanned for region timers and self-checks and hashed; results are appended as JSON lines.
#include "tuner/runner/ProcessExecute.h"

#include "tuner/runner/Lifetime.h"
#include "tuner/runner/ProcessPlan.h"
#include "tuner/runner/ProcessTable.h"
#include "support/Sha256.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace mirtune::runner {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kStderrHeadBytes = 16384;  ///< kept to find a compiler's first error line
constexpr std::size_t kStderrTailBytes = 8192;   ///< kept for messages and the results' "stderr"
constexpr std::size_t kExcerptBytes = 4096;
/// A marker line is short; a longer unfinished line is ordinary output and is hashed as it streams.
constexpr std::size_t kMaxMarkerLineBytes = 65536;
constexpr std::string_view kRegionPrefix = "mirtune-region-seconds:";
constexpr std::string_view kCheckPrefix = "mirtune-check:";
/// After the group leader ends: how long the rest of its group and its pipes may take to go away.
constexpr double kGroupGraceSeconds = 2.0;
/// After the group leader ends and its group is killed, output still open past this belongs to a process
/// that left the group (setsid): it is found and killed rather than waited for.
constexpr double kEscapeGraceSeconds = 0.1;
/// How often a still-open output is looked into again (a holder may have forked before it was killed).
constexpr auto kHolderRecheck = std::chrono::milliseconds(50);
/// How long the runner tries to kill what a finished program left running before it gives up.
constexpr double kSweepSeconds = 2.0;

// ---------------------------------------------------------------------------------------------------------
// Signals: one self-pipe wakes poll() for SIGCHLD and for the signals that stop the runner.

int gSignalPipe[2] = {-1, -1};
volatile sig_atomic_t gInterruptSignal = 0;

void onSignal(int signo) {
  const int savedErrno = errno;
  if (signo != SIGCHLD) gInterruptSignal = signo;
  const auto byte = static_cast<unsigned char>(signo);
  // A full pipe already holds a wake-up; dropping this byte loses nothing.
  [[maybe_unused]] const ssize_t written = ::write(gSignalPipe[1], &byte, 1);
  errno = savedErrno;
}

bool installSignalHandlers(std::string& error) {
  if (::pipe2(gSignalPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = fmt::format("cannot create a pipe: {}", std::strerror(errno));
    return false;
  }
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signo, &action, nullptr);
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &action, nullptr);
  // A closed stderr must not kill the runner mid-plan; children get the default action back before exec.
  ::signal(SIGPIPE, SIG_IGN);
  // Grandchildren orphaned by a killed group are re-parented to us, so we can reap them and know they are
  // gone (a container's init may never reap zombies).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  return true;
}

void drainSignalPipe() {
  unsigned char buffer[64];
  while (::read(gSignalPipe[0], buffer, sizeof buffer) > 0) {
  }
}

double secondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string signalDescription(int signo) {
  const char* name = ::strsignal(signo);
  return fmt::format("killed by signal {} ({})", signo, name != nullptr ? name : "unknown signal");
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

// ---------------------------------------------------------------------------------------------------------
// Captured output.

/// The head and the tail of a stream whose total size is unbounded.
class CapturedText {
 public:
  void append(std::string_view data) {
    if (head_.size() < kStderrHeadBytes) head_.append(data.substr(0, kStderrHeadBytes - head_.size()));
    tail_.append(data);
    if (tail_.size() > 2 * kStderrTailBytes) tail_.erase(0, tail_.size() - kStderrTailBytes);
  }
  const std::string& head() const { return head_; }
  std::string tail() const {
    return tail_.size() > kStderrTailBytes ? tail_.substr(tail_.size() - kStderrTailBytes) : tail_;
  }

 private:
  std::string head_;
  std::string tail_;
};

/// Streams stdout: sums `mirtune-region-seconds:` lines, notes `mirtune-check:` lines, and hashes and
/// excerpts everything else, so the digest does not depend on the timings a program prints.
class StdoutScanner {
 public:
  void feed(std::string_view data) {
    while (!data.empty()) {
      const std::size_t newline = data.find('\n');
      const std::string_view piece =
          data.substr(0, newline == std::string_view::npos ? data.size() : newline + 1);
      data.remove_prefix(piece.size());
      if (passThrough_) {
        keep(piece);
        passThrough_ = piece.back() != '\n';
        continue;
      }
      pending_.append(piece);
      if (pending_.back() == '\n') {
        scanLine(pending_);
        pending_.clear();
      } else if (pending_.size() > kMaxMarkerLineBytes) {
        keep(pending_);
        pending_.clear();
        passThrough_ = true;
      }
    }
  }

  /// Call once at end of stream.
  void finish() {
    if (!pending_.empty()) scanLine(pending_);
    pending_.clear();
    const auto digest = hasher_.finish();
    digest_ = mirtune::toHex(digest.data(), digest.size());
  }

  int regionLines() const { return regionLines_; }
  double regionSeconds() const { return regionSeconds_; }
  const std::string& regionError() const { return regionError_; }
  bool checkOk() const { return checkOk_; }
  bool checkFailed() const { return !checkFailure_.empty(); }
  const std::string& checkFailure() const { return checkFailure_; }
  const std::string& digest() const { return digest_; }
  const std::string& excerpt() const { return excerpt_; }

 private:
  void keep(std::string_view text) {
    hasher_.update(text);
    if (excerpt_.size() < kExcerptBytes) excerpt_.append(text.substr(0, kExcerptBytes - excerpt_.size()));
  }

  void scanLine(std::string_view line) {
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
    if (startsWith(content, kRegionPrefix)) {
      ++regionLines_;
      const std::string value(trim(content.substr(kRegionPrefix.size())));
      char* end = nullptr;
      errno = 0;
      const double seconds = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || errno != 0 || !std::isfinite(seconds) ||
          seconds < 0) {
        if (regionError_.empty()) regionError_ = fmt::format("unreadable timer line '{}'", content);
      } else {
        regionSeconds_ += seconds;
      }
      return;
    }
    keep(line);
    if (startsWith(content, kCheckPrefix)) {
      // The verdict's case does not matter: "failed", "FAILED", "ok", "OK".
      std::string verdict(trim(content.substr(kCheckPrefix.size())));
      std::transform(verdict.begin(), verdict.end(), verdict.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (startsWith(verdict, "failed")) {
        if (checkFailure_.empty()) checkFailure_ = std::string(content);
      } else if (verdict == "ok") {
        checkOk_ = true;
      }
    }
  }

  mirtune::Sha256 hasher_;
  std::string pending_;
  bool passThrough_ = false;
  std::string excerpt_;
  std::string digest_;
  int regionLines_ = 0;
  double regionSeconds_ = 0;
  std::string regionError_;
  bool checkOk_ = false;
  std::string checkFailure_;
};

// ---------------------------------------------------------------------------------------------------------
// One child process group.

/// What to start: argv[0] resolved against the plan folder, the complete environment, an absolute folder.
struct CommandSpec {
  std::vector<std::string> argv;
  std::vector<std::string> environment;  ///< "NAME=value"
  std::string workingDirectory;
  double timeoutSeconds = 60;
};

struct ChildOutcome {
  std::string startError;  ///< the program could not be started (exec or chdir failed); nothing else is set
  int exitCode = -1;
  int signal = 0;
  bool timedOut = false;
  double wallSeconds = 0;  ///< fork to the leader's exit
  StdoutScanner standardOutput;
  CapturedText standardError;
  /// Processes outside the group that still held stdout/stderr after the leader ended; the runner killed
  /// them.
  std::vector<ProcessEntry> outputHolders;
  bool outputAbandoned = false;  ///< the output stayed open to the end of the grace and was no longer read

  /// "exit code 3", "killed by signal 11 (Segmentation fault)", "timed out after 2 s"; empty when it
  /// succeeded.
  std::string failure(double timeoutSeconds) const {
    if (!startError.empty()) return startError;
    if (timedOut) return fmt::format("timed out after {:g} s", timeoutSeconds);
    if (signal != 0) return signalDescription(signal);
    if (exitCode != 0) return fmt::format("exit code {}", exitCode);
    return "";
  }
};

/// A program running as the leader of its own process group; driven by waitForChildren().
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!done_) abandon();
  }

  void start(const CommandSpec& spec) {
    timeoutSeconds_ = spec.timeoutSeconds;
    int outPipe[2];
    int errPipe[2];
    int execPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0 ||
        ::pipe2(execPipe, O_CLOEXEC) != 0) {
      finishWithStartError(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
      return;
    }
    const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    // Everything the child needs is built before fork: between fork and exec it only makes system calls.
    std::vector<char*> argv;
    for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& entry : spec.environment) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
    const char* folder = spec.workingDirectory.empty() ? nullptr : spec.workingDirectory.c_str();

    // Signals stay blocked across fork so the child never runs the runner's handlers.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &previous);
    const pid_t parent = ::getpid();
    start_ = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (::getppid() != parent) ::_exit(127);  // the runner died before prctl took effect
      for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) ::signal(signo, SIG_DFL);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      if (devNull >= 0) ::dup2(devNull, STDIN_FILENO);
      ::dup2(outPipe[1], STDOUT_FILENO);
      ::dup2(errPipe[1], STDERR_FILENO);
      int report[2] = {0, 0};
      if (folder != nullptr && ::chdir(folder) != 0) {
        report[1] = errno;
      } else {
        // execvp searches the PATH of `environ`, so a plan that sets PATH is searched with its own PATH.
        environ = envp.data();
        ::execvp(argv[0], argv.data());
        report[0] = 1;
        report[1] = errno;
      }
      [[maybe_unused]] const ssize_t written = ::write(execPipe[1], report, sizeof report);
      ::_exit(127);
    }
    const int forkErrno = errno;
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    ::close(execPipe[1]);
    if (devNull >= 0) ::close(devNull);
    if (pid < 0) {
      ::close(outPipe[0]);
      ::close(errPipe[0]);
      ::close(execPipe[0]);
      finishWithStartError(fmt::format("cannot fork: {}", std::strerror(forkErrno)));
      return;
    }
    pid_ = pid;
    ::setpgid(pid_, pid_);  // also done by the child; whichever runs first wins the race, both are harmless
    outFd_ = outPipe[0];
    errFd_ = errPipe[0];
    pipeInodes_ = {pipeInode(outFd_), pipeInode(errFd_)};
    ::fcntl(outFd_, F_SETFL, ::fcntl(outFd_, F_GETFL) | O_NONBLOCK);
    ::fcntl(errFd_, F_SETFL, ::fcntl(errFd_, F_GETFL) | O_NONBLOCK);
    deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(spec.timeoutSeconds));

    // The exec pipe closes on a successful exec (O_CLOEXEC); a report on it means the program never started.
    int report[2] = {0, 0};
    ssize_t got;
    do {
      got = ::read(execPipe[0], report, sizeof report);
    } while (got < 0 && errno == EINTR);
    ::close(execPipe[0]);
    if (got == static_cast<ssize_t>(sizeof report)) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      closeFd(outFd_);
      closeFd(errFd_);
      finishWithStartError(
          report[0] == 1 ? fmt::format("cannot execute '{}': {}", spec.argv[0], std::strerror(report[1]))
                         : fmt::format("cannot change to folder '{}': {}", spec.workingDirectory,
                                       std::strerror(report[1])));
    }
  }

  bool finished() const { return done_; }
  ChildOutcome& outcome() { return outcome_; }
  double timeoutSeconds() const { return timeoutSeconds_; }

  /// Reaps what can be reaped, enforces the timeout and decides whether everything is over.
  void update(Clock::time_point now) {
    if (done_) return;
    reap();
    if (!leaderReaped_ && now >= deadline_) {
      outcome_.timedOut = true;
      killGroup();
    }
    if (!leaderReaped_) return;
    const bool groupGone = ::killpg(pid_, 0) != 0 && errno == ESRCH;
    const bool outputOpen = outFd_ >= 0 || errFd_ >= 0;
    if (groupGone && !outputOpen) {
      finish();
    } else if (now >= graceDeadline_) {
      outcome_.outputAbandoned = outputOpen;
      finish();
    } else if (outputOpen && now >= nextHolderCheck_) {
      killOutputHolders();
      nextHolderCheck_ = now + kHolderRecheck;
    }
  }

  /// When update() must run next even without any event; nullopt when only an event can change things.
  std::optional<Clock::time_point> nextWake(Clock::time_point now) const {
    if (done_) return std::nullopt;
    if (!leaderReaped_) return deadline_;
    // Members of the group that are not our children send no SIGCHLD: look again soon.
    return std::min(graceDeadline_, now + std::chrono::milliseconds(5));
  }

  void addPollFds(std::vector<pollfd>& fds, std::vector<Child*>& owners) {
    for (int fd : {outFd_, errFd_}) {
      if (fd < 0) continue;
      fds.push_back({fd, POLLIN, 0});
      owners.push_back(this);
    }
  }

  void readFrom(int fd) {
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got > 0) {
        const std::string_view data(buffer, static_cast<std::size_t>(got));
        if (fd == outFd_) {
          outcome_.standardOutput.feed(data);
        } else {
          outcome_.standardError.append(data);
        }
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      closeFd(fd == outFd_ ? outFd_ : errFd_);  // end of file or a read error
      return;
    }
  }

  /// Kills the group and waits for the leader, for a runner that is stopping.
  void abandon() {
    if (done_ || pid_ <= 0) return;
    killGroup();
    int status = 0;
    if (!leaderReaped_) {
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      leaderReaped_ = true;
    }
    const auto until = Clock::now() + std::chrono::milliseconds(500);
    while (Clock::now() < until && !(::killpg(pid_, 0) != 0 && errno == ESRCH)) {
      reap();
      ::usleep(2000);
    }
    finish();
  }

 private:
  void reap() {
    int status = 0;
    if (!leaderReaped_) {
      // Asked by pid too: a program may have left its group (setsid) and waitpid(-group) would miss it.
      const pid_t got = ::waitpid(pid_, &status, WNOHANG);
      if (got == pid_) leaderExited(status);
    }
    while (true) {
      const pid_t got = ::waitpid(-pid_, &status, WNOHANG);
      if (got <= 0) break;
      if (got == pid_ && !leaderReaped_) leaderExited(status);
    }
  }

  void leaderExited(int status) {
    const auto now = Clock::now();
    leaderReaped_ = true;
    nextHolderCheck_ =
        now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kEscapeGraceSeconds));
    outcome_.wallSeconds = secondsBetween(start_, now);
    if (WIFEXITED(status)) outcome_.exitCode = WEXITSTATUS(status);
    if (WIFSIGNALED(status) && !outcome_.timedOut) outcome_.signal = WTERMSIG(status);
    // Whatever the leader left running in its group would overlap the next measurement.
    killGroup();
    graceDeadline_ =
        now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kGroupGraceSeconds));
  }

  void killGroup() {
    ::killpg(pid_, SIGKILL);
    if (!leaderReaped_) ::kill(pid_, SIGKILL);
  }

  /// The group is killed, yet its output is open: whoever outside the group holds it left the group (setsid)
  /// and would keep the runner reading until the grace ends. The runner is a subreaper, so such a process is
  /// its descendant.
  void killOutputHolders() {
    for (const auto& holder : descendantsHoldingPipes(pipeInodes_, pid_)) {
      if (::kill(holder.pid, SIGKILL) != 0) continue;
      const bool known = std::any_of(outcome_.outputHolders.begin(), outcome_.outputHolders.end(),
                                     [&](const ProcessEntry& seen) { return seen.pid == holder.pid; });
      if (!known) outcome_.outputHolders.push_back(holder);
    }
  }

  void finishWithStartError(std::string message) {
    outcome_.startError = std::move(message);
    outcome_.wallSeconds = secondsBetween(start_, Clock::now());
    finish();
  }

  void finish() {
    closeFd(outFd_);
    closeFd(errFd_);
    outcome_.standardOutput.finish();
    done_ = true;
  }

  static void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  pid_t pid_ = -1;
  int outFd_ = -1;
  int errFd_ = -1;
  double timeoutSeconds_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point deadline_;
  Clock::time_point graceDeadline_;
  Clock::time_point nextHolderCheck_;
  std::vector<unsigned long> pipeInodes_;
  bool leaderReaped_ = false;
  bool done_ = false;
  ChildOutcome outcome_;
};

/// Waits until at least one of `children` has finished. False when the runner was told to stop.
bool waitForChildren(const std::vector<Child*>& children) {
  for (;;) {
    if (gInterruptSignal != 0) return false;
    const auto now = Clock::now();
    std::optional<Clock::time_point> wake;
    for (Child* child : children) {
      child->update(now);
      if (child->finished()) return true;
      const auto next = child->nextWake(now);
      if (next && (!wake || *next < *wake)) wake = next;
    }
    std::vector<pollfd> fds = {{gSignalPipe[0], POLLIN, 0}};
    std::vector<Child*> owners = {nullptr};
    for (Child* child : children) child->addPollFds(fds, owners);
    int timeoutMs = 1000;  // a bound, in case a signal's wake-up byte was ever lost
    if (wake) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
      timeoutMs = static_cast<int>(std::clamp<long long>(left, 0, 1000));
    }
    const int ready = ::poll(fds.data(), fds.size(), timeoutMs);
    if (ready <= 0) continue;  // timeout or EINTR: update() runs next
    if (fds[0].revents != 0) drainSignalPipe();
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents != 0) owners[i]->readFrom(fds[i].fd);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The results file.

class ResultsWriter {
 public:
  ~ResultsWriter() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// Opens (and with resume reads back) the results file; `done` receives its complete lines.
  bool open(const std::string& path, bool resume, std::vector<ProcessResult>& done, std::string& error) {
    path_ = path;
    struct stat info {};
    const bool exists = ::stat(path.c_str(), &info) == 0;
    if (exists && !resume && info.st_size > 0) {
      error = fmt::format("{}: already holds results; pass --resume to continue it, or remove it", path);
      return false;
    }
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      error = fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno));
      return false;
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      error = fmt::format("{}: another mirtune-run is writing it", path);
      return false;
    }
    if (!resume || !exists) return true;
    ProcessResultsFile file;
    if (!readProcessResultsFile(path, file, error)) return false;
    if (file.droppedTail) {
      // A runner killed mid-write leaves half a line; cut it so the next line starts cleanly.
      if (::ftruncate(fd_, static_cast<off_t>(file.completeBytes)) != 0) {
        error = fmt::format("{}: cannot truncate the unfinished last line: {}", path, std::strerror(errno));
        return false;
      }
      fmt::print(stderr, "mirtune-run: {}: dropped an unfinished last line left by an interrupted run\n",
                 path);
    }
    done = std::move(file.results);
    return true;
  }

  /// Appends one line with a single write and makes it durable before the next item starts.
  bool append(const ProcessResult& result, std::string& error) {
    const std::string line = processResultLine(result);
    std::size_t written = 0;
    while (written < line.size()) {
      const ssize_t got = ::write(fd_, line.data() + written, line.size() - written);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        error = fmt::format("{}: cannot write: {}", path_, std::strerror(errno));
        return false;
      }
      written += static_cast<std::size_t>(got);
    }
    if (::fsync(fd_) != 0) {
      error = fmt::format("{}: cannot sync: {}", path_, std::strerror(errno));
      return false;
    }
    return true;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------------------
// Building commands, results and progress.

class CommandFactory {
 public:
  explicit CommandFactory(std::string planFolder) : planFolder_(std::move(planFolder)) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string text = *entry;
      const auto equals = text.find('=');
      if (equals != std::string::npos) inherited_[text.substr(0, equals)] = text.substr(equals + 1);
    }
  }

  CommandSpec make(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& environment,
                   const std::vector<std::string>& unsetEnvironment, const std::string& workingDirectory,
                   double timeoutSeconds) const {
    CommandSpec spec;
    spec.argv = argv;
    if (spec.argv[0].find('/') != std::string::npos) spec.argv[0] = resolve(spec.argv[0]);
    spec.workingDirectory = workingDirectory.empty() ? planFolder_ : resolve(workingDirectory);
    std::map<std::string, std::string> variables = inherited_;
    for (const auto& [name, value] : environment) variables[name] = value;
    for (const auto& name : unsetEnvironment) variables.erase(name);
    for (const auto& [name, value] : variables) spec.environment.push_back(name + "=" + value);
    spec.timeoutSeconds = timeoutSeconds;
    return spec;
  }

 private:
  std::string resolve(const std::string& path) const {
    return path.front() == '/' ? path : planFolder_ + "/" + path;
  }

  std::string planFolder_;
  std::map<std::string, std::string> inherited_;
};

/// The line of a compiler's output most worth showing: its first "error:" line, else its first line.
std::string firstErrorLine(const ChildOutcome& outcome) {
  for (std::string_view marker : {"error:", "error", ""}) {
    for (const std::string* text : {&outcome.standardError.head(), &outcome.standardOutput.excerpt()}) {
      std::string_view rest = *text;
      while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = trim(rest.substr(0, newline));
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        if (!line.empty() && line.find(marker) != std::string_view::npos) return std::string(line);
      }
    }
  }
  return "";
}

/// The last non-empty line a failing program wrote to stderr (its own last words about the failure).
std::string lastStderrLine(const ChildOutcome& outcome) {
  const std::string tail = outcome.standardError.tail();
  const std::string_view rest = trim(tail);
  const auto newline = rest.rfind('\n');
  return std::string(trim(newline == std::string_view::npos ? rest : rest.substr(newline + 1)));
}

/// What a finished program left running outside its process group, which the runner then killed: those that
/// held its output open, and (`stillRunning`) those found below the runner afterwards. Empty when nothing.
std::string leftoverNote(const ChildOutcome& outcome, const std::vector<ProcessEntry>& stillRunning) {
  std::string note;
  auto add = [&](const std::string& part) { note += (note.empty() ? "" : "; ") + part; };
  if (!outcome.outputHolders.empty()) {
    add(fmt::format("{} kept its output open after it exited", describeProcesses(outcome.outputHolders)));
  }
  if (outcome.outputAbandoned) {
    add(fmt::format("its output was still open {:g} s after it exited and was no longer read",
                    kGroupGraceSeconds));
  }
  // A holder killed a moment ago may not have finished dying; it is named once.
  std::vector<ProcessEntry> others;
  for (const auto& entry : stillRunning) {
    if (std::none_of(outcome.outputHolders.begin(), outcome.outputHolders.end(),
                     [&](const ProcessEntry& holder) { return holder.pid == entry.pid; })) {
      others.push_back(entry);
    }
  }
  if (!others.empty()) add(fmt::format("{} still ran after it exited", describeProcesses(others)));
  return note;
}

/// Appends a note to a result's message (which stays empty for an ok result without one).
void addNote(std::string& message, const std::string& note) {
  if (!note.empty()) message += (message.empty() ? "" : "; ") + note;
}

ProcessResult buildResult(const ProcessBuild& build, Child& child) {
  ChildOutcome& outcome = child.outcome();
  ProcessResult result;
  result.id = build.id;
  result.kind = ProcessItemKind::kBuild;
  result.seconds = outcome.wallSeconds;
  result.exitCode = outcome.exitCode;
  result.signal = outcome.signal;
  result.standardError = outcome.standardError.tail();
  const std::string failure = outcome.failure(child.timeoutSeconds());
  const std::string leftovers = leftoverNote(outcome, {});
  const std::string note =
      leftovers.empty() ? "" : "left processes outside its process group, killed by the runner: " + leftovers;
  if (failure.empty()) {
    addNote(result.message, note);
    return result;
  }
  result.status = outcome.timedOut ? MeasureStatus::kBuildTimeout : MeasureStatus::kBuildFailed;
  const std::string telling = outcome.startError.empty() && !outcome.timedOut ? firstErrorLine(outcome) : "";
  result.message = telling.empty() ? failure : failure + ": " + telling;
  addNote(result.message, note);
  return result;
}

/// Runs one plan entry: warm-up, then measured repetitions. False when the runner was told to stop.
bool measureRun(const ProcessRun& run, const CommandSpec& spec, ProcessResult& result) {
  const auto runStart = Clock::now();
  result.id = run.id;
  result.kind = ProcessItemKind::kRun;
  // Under "auto" the first repetition that finishes decides; the others must agree.
  TimerMode timer = run.timer;
  double measuredTotal = 0;
  bool sawCheckOk = false;
  bool haveDigest = false;
  int ran = 0;
  int leftoverRepetitions = 0;
  std::string firstLeftover;
  for (int index = 0;; ++index) {
    const bool warm = index < run.warmup;
    const int measured = static_cast<int>(result.times.size());
    if (!warm && (measured >= run.maxRepetitions ||
                  (measured >= run.minRepetitions && measuredTotal >= run.minTimeSeconds))) {
      break;
    }
    Child child;
    child.start(spec);
    const std::vector<Child*> children = {&child};
    if (!waitForChildren(children)) {
      child.abandon();
      return false;
    }
    ++ran;
    ChildOutcome& outcome = child.outcome();
    const StdoutScanner& output = outcome.standardOutput;
    result.exitCode = outcome.exitCode;
    result.signal = outcome.signal;
    result.standardError = outcome.standardError.tail();
    const std::string phase =
        warm ? fmt::format("warm-up repetition {}", index + 1) : fmt::format("repetition {}", measured + 1);
    // Nothing else runs now, so whatever is still below the runner came from this program and would overlap
    // the next repetition.
    const std::string leftovers = leftoverNote(outcome, killAllDescendants(kSweepSeconds));
    if (!leftovers.empty() && leftoverRepetitions++ == 0) firstLeftover = phase + ": " + leftovers;

    std::string problem = outcome.failure(spec.timeoutSeconds);
    MeasureStatus status = outcome.timedOut ? MeasureStatus::kRunTimeout : MeasureStatus::kRunFailed;
    if (outcome.startError.empty() && !outcome.timedOut && outcome.signal == 0 && output.checkFailed()) {
      status = MeasureStatus::kWrongOutput;
      problem = output.checkFailure();
    } else if (problem.empty() && !output.regionError().empty() && timer != TimerMode::kWall) {
      problem = output.regionError();
    } else if (problem.empty() && timer != TimerMode::kWall) {
      const bool hasRegion = output.regionLines() > 0;
      if (timer == TimerMode::kAuto) timer = hasRegion ? TimerMode::kRegion : TimerMode::kWall;
      if (timer == TimerMode::kRegion && !hasRegion) {
        problem = run.timer == TimerMode::kRegion
                      ? "printed no 'mirtune-region-seconds:' line, and the run's timer is 'region'"
                      : "printed no 'mirtune-region-seconds:' line, though earlier repetitions did";
      }
    } else if (!problem.empty() && status == MeasureStatus::kRunFailed && outcome.startError.empty()) {
      const std::string lastWords = lastStderrLine(outcome);
      if (!lastWords.empty()) problem += ": " + lastWords;
    }

    if (!problem.empty()) {
      result.status = status;
      result.message = phase + ": " + problem;
      if (status == MeasureStatus::kWrongOutput) result.selfCheck = SelfCheck::kFailed;
      if (!haveDigest) {
        result.stdoutSha256 = output.digest();
        result.stdoutExcerpt = output.excerpt();
      }
      break;
    }
    sawCheckOk = sawCheckOk || output.checkOk();
    if (warm) {
      ++result.warmup;
      continue;
    }
    const double seconds = timer == TimerMode::kRegion ? output.regionSeconds() : outcome.wallSeconds;
    result.times.push_back(seconds);
    measuredTotal += seconds;
    if (!haveDigest) {
      haveDigest = true;
      result.stdoutSha256 = output.digest();
      result.stdoutExcerpt = output.excerpt();
    } else if (output.digest() != result.stdoutSha256) {
      result.stdoutStable = false;
    }
  }
  if (leftoverRepetitions > 0) {
    addNote(result.message,
            fmt::format("{} of {} repetitions left processes outside their process group, killed by the "
                        "runner (first, {})",
                        leftoverRepetitions, ran, firstLeftover));
  }
  result.timer = timer;
  result.repetitions = static_cast<int>(result.times.size());
  result.summary = summarise(result.times);
  if (result.selfCheck != SelfCheck::kFailed && sawCheckOk) result.selfCheck = SelfCheck::kOk;
  result.wallSeconds = secondsBetween(runStart, Clock::now());
  return true;
}

void reportProgress(bool json, const ProcessResult& result, std::size_t position, std::size_t total) {
  const std::string_view kind = processItemKindName(result.kind);
  const std::string_view status = measureStatusName(result.status);
  if (json) {
    nlohmann::json line = {{"kind", kind},    {"index", position}, {"total", total},
                           {"id", result.id}, {"status", status},  {"message", result.message}};
    if (result.kind == ProcessItemKind::kBuild) {
      line["seconds"] = result.seconds;
    } else {
      line["median"] = result.summary.median;
      line["repetitions"] = result.repetitions;
    }
    fmt::print(stderr, "{}\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string detail;
  if (result.status != MeasureStatus::kOk) {
    detail = ": " + result.message;
  } else if (result.kind == ProcessItemKind::kBuild) {
    detail = fmt::format(" {:.3f} s", result.seconds);
  } else {
    detail = fmt::format(" median {:.6g} s ({} repetitions, {} timer)", result.summary.median,
                         result.repetitions, timerModeName(result.timer));
  }
  fmt::print(stderr, "[{} {}/{}] {} {}{}\n", kind, position, total, result.id, status, detail);
}

int interrupted() {
  const int signo = gInterruptSignal;
  fmt::print(
      stderr,
      "mirtune-run: stopped by signal {} ({}); the unfinished item has no line, continue with --resume\n",
      signo, ::strsignal(signo));
  return kProcessInterrupted + signo;
}

}  // namespace

int runProcessCommand(const ProcessCommandOptions& options) {
  ProcessPlan plan;
  std::string error;
  if (!readProcessPlan(options.planPath, plan, error)) {
    fmt::print(stderr, "mirtune-run: error: {}\n", error);
    return kProcessUnusable;
  }
  std::error_code ignored;
  std::filesystem::path planFolder = std::filesystem::absolute(options.planPath, ignored).parent_path();
  CommandFactory commands(planFolder.lexically_normal().string());

  ResultsWriter writer;
  std::vector<ProcessResult> previous;
  if (!writer.open(options.resultsPath, options.resume, previous, error)) {
    fmt::print(stderr, "mirtune-run: error: {}\n", error);
    return kProcessUnusable;
  }
  std::map<std::string, ProcessResult> buildResults;
  std::set<std::string> finishedRuns;
  bool allOk = true;
  for (const auto& result : previous) {
    if (result.kind == ProcessItemKind::kBuild) {
      buildResults[result.id] = result;
    } else {
      finishedRuns.insert(result.id);
    }
  }
  if (options.resume && !previous.empty()) {
    fmt::print(stderr, "mirtune-run: {}: {} complete lines kept; their items are not run again\n",
               options.resultsPath, previous.size());
  }
  for (const auto& build : plan.builds) {
    auto found = buildResults.find(build.id);
    if (found != buildResults.end() && found->second.status != MeasureStatus::kOk) allOk = false;
  }
  for (const auto& run : plan.runs) {
    for (const auto& result : previous) {
      if (result.kind == ProcessItemKind::kRun && result.id == run.id &&
          result.status != MeasureStatus::kOk) {
        allOk = false;
      }
    }
  }

  if (!installSignalHandlers(error)) {
    fmt::print(stderr, "mirtune-run: error: {}\n", error);
    return kProcessUnusable;
  }
  // However the runner ends from here on, nothing it started outlives it (a program that left its process
  // group is still below this subreaper).
  struct KillLeftoversAtExit {
    ~KillLeftoversAtExit() { killAllDescendants(kSweepSeconds); }
  } killLeftoversAtExit;
  if (options.dieWithParent) dieWithParent(SIGTERM, options.parentPid);
  auto record = [&](const ProcessResult& result, std::size_t position, std::size_t total) {
    if (!writer.append(result, error)) return false;
    allOk = allOk && result.status == MeasureStatus::kOk;
    reportProgress(options.jsonProgress, result, position, total);
    return true;
  };

  // Builds: several at once, each in its own group; measurements start only after the last one ends.
  std::vector<std::size_t> pendingBuilds;
  for (std::size_t i = 0; i < plan.builds.size(); ++i) {
    if (buildResults.count(plan.builds[i].id) == 0) pendingBuilds.push_back(i);
  }
  std::vector<std::pair<std::size_t, std::unique_ptr<Child>>> active;
  std::size_t nextBuild = 0;
  while (nextBuild < pendingBuilds.size() || !active.empty()) {
    while (nextBuild < pendingBuilds.size() &&
           active.size() < static_cast<std::size_t>(plan.parallelBuilds)) {
      const ProcessBuild& build = plan.builds[pendingBuilds[nextBuild++]];
      auto child = std::make_unique<Child>();
      child->start(commands.make(build.argv, build.environment, build.unsetEnvironment,
                                 build.workingDirectory, build.timeoutSeconds));
      active.emplace_back(pendingBuilds[nextBuild - 1], std::move(child));
    }
    std::vector<Child*> children;
    for (auto& [index, child] : active) children.push_back(child.get());
    if (!waitForChildren(children)) {
      for (auto& entry : active) entry.second->abandon();
      return interrupted();
    }
    for (auto it = active.begin(); it != active.end();) {
      if (!it->second->finished()) {
        ++it;
        continue;
      }
      ProcessResult result = buildResult(plan.builds[it->first], *it->second);
      if (!record(result, it->first + 1, plan.builds.size())) {
        fmt::print(stderr, "mirtune-run: error: {}\n", error);
        for (auto& entry : active) entry.second->abandon();
        return kProcessUnusable;
      }
      buildResults[result.id] = result;
      it = active.erase(it);
    }
  }

  if (const auto left = killAllDescendants(kSweepSeconds); !left.empty()) {
    fmt::print(stderr, "mirtune-run: the builds left {} running outside their process groups; killed\n",
               describeProcesses(left));
  }

  // Runs: one at a time, nothing else running.
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const ProcessRun& run = plan.runs[i];
    if (finishedRuns.count(run.id) != 0) continue;
    if (gInterruptSignal != 0) return interrupted();
    ProcessResult result;
    result.id = run.id;
    result.kind = ProcessItemKind::kRun;
    const auto build = run.build.empty() ? buildResults.end() : buildResults.find(run.build);
    if (build != buildResults.end() && build->second.status != MeasureStatus::kOk) {
      result.status = build->second.status;
      result.message = fmt::format("build {} failed: {}", run.build, build->second.message);
      result.timer = run.timer;  // null in the results under "auto": no repetition decided it
    } else if (!measureRun(run,
                           commands.make(run.argv, run.environment, run.unsetEnvironment,
                                         run.workingDirectory, run.timeoutSeconds),
                           result)) {
      return interrupted();
    }
    if (!record(result, i + 1, plan.runs.size())) {
      fmt::print(stderr, "mirtune-run: error: {}\n", error);
      return kProcessUnusable;
    }
  }
  return allOk ? kProcessAllOk : kProcessSomeFailed;
}

}  // namespace mirtune::runner
