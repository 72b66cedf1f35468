// ForkServer: the server process, its pool of workers and the caller's side of the exchange.
//
// Per job the caller makes two socket pairs and hands one end of each to the server over the control socket:
// the job socket carries the request to a worker and the worker's answer back (the server passes it on and
// closes its copy, so end of file there means the worker is done with the job or gone); the status socket
// carries one StatusMessage from the server, sent when the worker has said it is done or has been reaped.
// Keeping the status apart lets a worker die halfway through a record without garbling how it ended.
//
// Workers serve one job after another: forking one per job (a fresh process faulting in Clang's pages
// again) cost about as much as the compile itself. A worker that crashes, runs past a deadline or out of
// memory is gone with its job only; the next job gets a new worker.
#include "frontend/ForkServer.h"

#include <llvm/Support/ErrorHandling.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace mirtune {

namespace {

using Clock = std::chrono::steady_clock;

// In the server, its end of the caller's control socket; in a worker, its end of the server's socket.
constexpr int kControlFd = 3;
// In a worker, the socket of the job it runs.
constexpr int kJobFd = 4;
// Worker exit codes that say how it ended when it could still choose.
constexpr int kOutOfMemoryExit = 97;
constexpr int kFatalErrorExit = 98;
constexpr int kSetupFailedExit = 99;
constexpr char kFatalTag = 'F';

// A job as the caller hands it to the server, and the server to a worker (with the job socket; the server
// keeps the status socket).
struct ControlMessage {
  double timeoutSeconds;
  std::uint64_t memoryBytes;
  std::uint64_t stackBytes;
};

struct StatusMessage {
  std::int32_t waitStatus;
  std::int32_t forkErrno;
  std::uint8_t timedOut;
};

// Closes a descriptor at scope exit.
class Descriptor {
 public:
  explicit Descriptor(int fd = -1) : fd_(fd) {}
  ~Descriptor() { reset(); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool sendAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

// Closes every descriptor from `first` up. close_range needs Linux 5.9; older kernels get the listing.
void closeFrom(int first) {
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
  std::vector<int> open;
  if (DIR* directory = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(directory)) {
      int fd = std::atoi(entry->d_name);
      if (fd >= first && fd != ::dirfd(directory)) open.push_back(fd);
    }
    ::closedir(directory);
  }
  for (int fd : open) ::close(fd);
}

// Address space mapped now, from /proc/self/statm (its first field, in pages).
std::uint64_t mappedBytes() {
  char text[128] = {};
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t size = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (size <= 0) return 0;
  return std::strtoull(text, nullptr, 10) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

[[noreturn]] void exitOutOfMemory() {
  ::_exit(kOutOfMemoryExit);
}

void onBadAlloc(void* /*userData*/, const char* /*reason*/, bool /*generateCrashDiagnostic*/) {
  exitOutOfMemory();
}

void onFatalError(void* /*userData*/, const char* reason, bool /*generateCrashDiagnostic*/) {
  writeJobRecord(kFatalTag, reason);
  ::_exit(kFatalErrorExit);
}

struct JobCall {
  JobFunction job;
  const std::string* request;
};

// Receives a ControlMessage and `count` descriptors on `socket`. Returns false at end of file or on error.
bool receiveMessage(int socket, ControlMessage& message, int* fds, std::size_t count) {
  iovec data{&message, sizeof message};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
  msghdr header{};
  header.msg_iov = &data;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = CMSG_SPACE(count * sizeof(int));
  ssize_t got;
  do {
    got = ::recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(sizeof message)) return false;
  cmsghdr* passed = CMSG_FIRSTHDR(&header);
  if (passed == nullptr || passed->cmsg_type != SCM_RIGHTS ||
      passed->cmsg_len != CMSG_LEN(count * sizeof(int))) {
    return false;
  }
  std::memcpy(fds, CMSG_DATA(passed), count * sizeof(int));
  return true;
}

// Sends a ControlMessage and `count` descriptors on `socket`.
bool sendMessage(int socket, const ControlMessage& message, const int* fds, std::size_t count) {
  ControlMessage copy = message;
  iovec data{&copy, sizeof copy};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr header{};
  header.msg_iov = &data;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = CMSG_SPACE(count * sizeof(int));
  cmsghdr* passed = CMSG_FIRSTHDR(&header);
  passed->cmsg_level = SOL_SOCKET;
  passed->cmsg_type = SCM_RIGHTS;
  passed->cmsg_len = CMSG_LEN(count * sizeof(int));
  std::memcpy(CMSG_DATA(passed), fds, count * sizeof(int));
  ssize_t sent;
  do {
    sent = ::sendmsg(socket, &header, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(sizeof copy);
}

// A worker: jobs from the server, one at a time, each under its limits on a thread of its own, until the
// server goes away. Nothing here returns into the caller's code, and _exit skips the static destructors of a
// process that is only a copy.
[[noreturn]] void runWorker(JobFunction function, int control, pid_t server) {
  // A worker outliving its server would escape the deadline.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != server) ::_exit(kSetupFailedExit);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (control != kControlFd) {
    if (::dup2(control, kControlFd) < 0) ::_exit(kSetupFailedExit);
    ::close(control);
  }
  closeFrom(kControlFd + 1);

  std::set_new_handler(exitOutOfMemory);
  llvm::install_bad_alloc_error_handler(onBadAlloc);
  llvm::install_fatal_error_handler(onFatalError);
  rlimit original{};
  ::getrlimit(RLIMIT_AS, &original);

  std::vector<char> buffer(1 << 16);
  for (;;) {
    ControlMessage message{};
    int jobFd = -1;
    if (!receiveMessage(kControlFd, message, &jobFd, 1)) ::_exit(0);
    if (jobFd != kJobFd) {
      if (::dup2(jobFd, kJobFd) < 0) ::_exit(kSetupFailedExit);
      ::close(jobFd);
    }
    // The limit counts from what this worker maps now: each job gets the same room, whatever ran before it.
    rlimit limit = original;
    if (message.memoryBytes > 0)
      limit.rlim_cur = std::min<rlim_t>(original.rlim_max, mappedBytes() + message.memoryBytes);
    ::setrlimit(RLIMIT_AS, &limit);

    std::string request;
    for (;;) {
      ssize_t got = ::read(kJobFd, buffer.data(), buffer.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      request.append(buffer.data(), static_cast<std::size_t>(got));
    }
    JobCall call{function, &request};
    bool ran = runOnStack(
        static_cast<std::size_t>(message.stackBytes),
        [](void* raw) {
          auto* job = static_cast<JobCall*>(raw);
          job->job(*job->request);
        },
        &call);
    // A thread that cannot get its stack under the memory limit is the limit's doing.
    if (!ran) exitOutOfMemory();
    ::close(kJobFd);
    const char done = 'd';
    if (::send(kControlFd, &done, 1, MSG_NOSIGNAL) != 1) ::_exit(0);
  }
}

struct Worker {
  pid_t pid = -1;
  int control = -1;   ///< the server's end of the worker's socket
  int statusFd = -1;  ///< the status socket of the job it runs; -1 when idle
  bool hasDeadline = false;
  Clock::time_point deadline;
  bool timedOut = false;  ///< killed at the deadline: it takes no further job, even if it reports done first
};

void reportStatus(int statusFd, int waitStatus, int forkErrno, bool timedOut) {
  StatusMessage status{waitStatus, forkErrno, static_cast<std::uint8_t>(timedOut ? 1 : 0)};
  ::send(statusFd, &status, sizeof status, MSG_NOSIGNAL);
  ::close(statusFd);
}

// Forks a worker; returns it with pid -1 (and errno set) when it cannot.
Worker startWorker(JobFunction function, pid_t self) {
  Worker worker;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) return worker;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ends[0]);
    runWorker(function, ends[1], self);
  }
  int forkErrno = errno;
  ::close(ends[1]);
  if (pid < 0) {
    ::close(ends[0]);
    errno = forkErrno;
    return worker;
  }
  worker.pid = pid;
  worker.control = ends[0];
  return worker;
}

// The server: hands each job to an idle worker (forking one when none is idle), kills a worker at its job's
// deadline, and reports how each job ended. Exits when the control socket closes (the process that started it
// has ended or dropped it); its workers follow.
[[noreturn]] void serve(JobFunction function, void (*warmUp)(), int control) {
  ::prctl(PR_SET_NAME, "mirtune-compile");
  if (control != kControlFd) {
    if (::dup2(control, kControlFd) < 0) ::_exit(kSetupFailedExit);
    ::close(control);
  }
  closeFrom(kControlFd + 1);
  // Whatever a job prints must not land in mirtune's data on stdout; stderr stays for the compiler's own
  // crash reports.
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    if (null > STDERR_FILENO && null != kControlFd) ::close(null);
  }
  // Handlers installed by the caller's process belong to its state, not this copy's.
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo != SIGKILL && signo != SIGSTOP) ::signal(signo, SIG_DFL);
  }
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t childSignal;
  sigemptyset(&childSignal);
  sigaddset(&childSignal, SIGCHLD);
  ::sigprocmask(SIG_SETMASK, &childSignal, nullptr);
  int children = ::signalfd(-1, &childSignal, SFD_CLOEXEC | SFD_NONBLOCK);
  if (children < 0) ::_exit(kSetupFailedExit);
  const pid_t self = ::getpid();

  if (warmUp != nullptr) {
    struct WarmUp {
      void (*function)();
    } call{warmUp};
    runOnStack(
        8u << 20, [](void* raw) { static_cast<WarmUp*>(raw)->function(); }, &call);
  }

  std::vector<Worker> workers;
  std::vector<pollfd> watched;
  for (;;) {
    // Deadlines first decide how long to wait.
    int waitMs = -1;
    Clock::time_point now = Clock::now();
    for (Worker& worker : workers) {
      if (worker.statusFd < 0 || !worker.hasDeadline || worker.timedOut) continue;
      if (worker.deadline <= now) {
        ::kill(worker.pid, SIGKILL);
        worker.timedOut = true;
        continue;
      }
      auto left = std::chrono::ceil<std::chrono::milliseconds>(worker.deadline - now).count();
      waitMs = waitMs < 0 ? static_cast<int>(left) : std::min(waitMs, static_cast<int>(left));
    }
    watched.assign({{kControlFd, POLLIN, 0}, {children, POLLIN, 0}});
    for (const Worker& worker : workers) watched.push_back({worker.control, POLLIN, 0});
    if (::poll(watched.data(), watched.size(), waitMs) < 0) {
      if (errno == EINTR) continue;
      break;
    }

    // Jobs finished: their workers are idle again.
    for (std::size_t w = 0; w < workers.size(); ++w) {
      Worker& worker = workers[w];
      if (!(watched[2 + w].revents & POLLIN)) continue;
      char done = 0;
      if (::recv(worker.control, &done, 1, MSG_DONTWAIT) == 1 && worker.statusFd >= 0) {
        reportStatus(worker.statusFd, 0, 0, worker.timedOut);
        worker.statusFd = -1;
      }
    }
    // Workers gone: a crash, a kill at the deadline, an allocation past the limit.
    if (watched[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(children, &info, sizeof info) > 0) {
      }
      int waitStatus = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &waitStatus, WNOHANG)) > 0) {
        auto it = std::find_if(workers.begin(), workers.end(),
                               [&](const Worker& worker) { return worker.pid == pid; });
        if (it == workers.end()) continue;
        if (it->statusFd >= 0) reportStatus(it->statusFd, waitStatus, 0, it->timedOut);
        ::close(it->control);
        workers.erase(it);
      }
    }
    if (watched[0].revents & POLLIN) {
      ControlMessage message{};
      int fds[2] = {-1, -1};
      if (!receiveMessage(kControlFd, message, fds, 2)) break;
      const int jobFd = fds[0], statusFd = fds[1];
      Worker* chosen = nullptr;
      for (Worker& worker : workers) {
        if (worker.statusFd >= 0 || worker.timedOut) continue;
        // An idle worker whose socket fails has died; the reaping above removes it later.
        if (sendMessage(worker.control, message, &jobFd, 1)) {
          chosen = &worker;
          break;
        }
      }
      if (chosen == nullptr) {
        Worker started = startWorker(function, self);
        if (started.pid < 0 || !sendMessage(started.control, message, &jobFd, 1)) {
          int startErrno = started.pid < 0 ? errno : EPIPE;
          if (started.pid > 0) ::kill(started.pid, SIGKILL);
          reportStatus(statusFd, 0, startErrno, false);
          ::close(jobFd);
          if (started.pid > 0) workers.push_back(started);
          continue;
        }
        workers.push_back(started);
        chosen = &workers.back();
      }
      ::close(jobFd);
      chosen->statusFd = statusFd;
      chosen->hasDeadline = message.timeoutSeconds > 0;
      if (chosen->hasDeadline) {
        chosen->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(message.timeoutSeconds));
      }
    } else if (watched[0].revents & (POLLHUP | POLLERR)) {
      break;
    }
  }
  for (const Worker& worker : workers) ::kill(worker.pid, SIGKILL);
  ::_exit(0);
}

// Splits an answer into whole records; a record cut short (its worker died while writing it) ends the list.
std::vector<JobRecord> splitRecords(std::string_view answer, bool& complete) {
  std::vector<JobRecord> records;
  std::size_t offset = 0;
  complete = false;
  for (;;) {
    if (offset == answer.size()) {
      complete = true;
      break;
    }
    if (answer.size() - offset < 1 + sizeof(std::uint64_t)) break;
    std::uint64_t size = 0;
    std::memcpy(&size, answer.data() + offset + 1, sizeof size);
    if (answer.size() - offset - 1 - sizeof size < size) break;
    records.push_back({answer[offset], std::string(answer.substr(offset + 1 + sizeof size, size))});
    offset += 1 + sizeof size + size;
  }
  return records;
}

// Milliseconds until `deadline` for poll, or -1 for none.
int pollWait(bool hasDeadline, Clock::time_point deadline) {
  if (!hasDeadline) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

}  // namespace

namespace {

struct ThreadTask {
  void (*body)(void*);
  void* argument;
};

}  // namespace

bool runOnStack(std::size_t stackBytes, void (*body)(void*), void* argument) {
  pthread_attr_t attributes;
  if (::pthread_attr_init(&attributes) != 0) return false;
  ::pthread_attr_setstacksize(&attributes, stackBytes);
  ThreadTask task{body, argument};
  pthread_t thread;
  int created = ::pthread_create(
      &thread, &attributes,
      [](void* raw) -> void* {
        auto* started = static_cast<ThreadTask*>(raw);
        started->body(started->argument);
        return nullptr;
      },
      &task);
  ::pthread_attr_destroy(&attributes);
  if (created != 0) return false;
  ::pthread_join(thread, nullptr);
  return true;
}

bool writeJobRecord(char tag, std::string_view bytes) {
  char header[1 + sizeof(std::uint64_t)];
  header[0] = tag;
  std::uint64_t size = bytes.size();
  std::memcpy(header + 1, &size, sizeof size);
  return sendAll(kJobFd, header, sizeof header) && sendAll(kJobFd, bytes.data(), bytes.size());
}

ForkServer::ForkServer(JobFunction job, void (*warmUp)()) : job_(job), warmUp_(warmUp) {}

ForkServer::~ForkServer() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopLocked();
}

pid_t ForkServer::serverPid() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return server_;
}

Status ForkServer::startLocked() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    return makeError(ErrorCode::kInternal, "cannot create the compile server's socket: {}",
                     std::strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ends[0]);
    serve(job_, warmUp_, ends[1]);
  }
  int forkErrno = errno;
  ::close(ends[1]);
  if (pid < 0) {
    ::close(ends[0]);
    return makeError(ErrorCode::kInternal, "cannot start the compile server: {}", std::strerror(forkErrno));
  }
  control_ = ends[0];
  server_ = pid;
  return success();
}

void ForkServer::stopLocked() {
  if (control_ >= 0) ::close(control_);
  control_ = -1;
  if (server_ > 0) {
    // Closing the control socket ends the server; it kills its workers first.
    int ignored;
    while (::waitpid(server_, &ignored, 0) < 0 && errno == EINTR) {
    }
  }
  server_ = -1;
}

Expected<JobOutcome> ForkServer::run(std::string_view request, const JobLimits& limits) {
  ControlMessage message{limits.timeoutSeconds, limits.memoryBytes, limits.stackBytes};
  Descriptor job, status;
  pid_t server = -1;
  for (int attempt = 0;; ++attempt) {
    int jobEnds[2], statusEnds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, jobEnds) != 0) {
      return makeError(ErrorCode::kInternal, "cannot create a compile job socket: {}", std::strerror(errno));
    }
    job.reset(jobEnds[0]);
    Descriptor workerJob(jobEnds[1]);
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, statusEnds) != 0) {
      return makeError(ErrorCode::kInternal, "cannot create a compile job socket: {}", std::strerror(errno));
    }
    status.reset(statusEnds[0]);
    Descriptor serverStatus(statusEnds[1]);

    std::lock_guard<std::mutex> lock(mutex_);
    if (control_ < 0) {
      if (auto started = startLocked(); !started) return started.error();
    }
    const int handed[2] = {workerJob.get(), serverStatus.get()};
    if (sendMessage(control_, message, handed, 2)) {
      server = server_;
      break;
    }
    // The server is gone (killed from outside); one new server gets one more try.
    int sendErrno = errno;
    stopLocked();
    if (attempt > 0) {
      return makeError(ErrorCode::kInternal, "cannot reach the compile server: {}", std::strerror(sendErrno));
    }
  }

  // A backstop in case the server itself stops answering: it enforces the deadline, so well after it.
  const bool hasDeadline = limits.timeoutSeconds > 0;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(limits.timeoutSeconds + limits.graceSeconds));
  auto unanswered = [&] {
    std::lock_guard<std::mutex> lock(mutex_);
    if (server_ == server) {
      ::kill(server_, SIGKILL);
      stopLocked();
    }
    return makeError(ErrorCode::kInternal, "the compile server did not answer in time; it is replaced");
  };
  std::string answer;
  std::size_t written = 0;
  bool writing = true;
  if (request.empty()) {
    ::shutdown(job.get(), SHUT_WR);
    writing = false;
  }
  std::vector<char> buffer(1 << 16);
  for (;;) {
    pollfd watched{job.get(), static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    int ready = ::poll(&watched, 1, pollWait(hasDeadline, deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return unanswered();
    if (writing && (watched.revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t sent =
          ::send(job.get(), request.data() + written, request.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) written += static_cast<std::size_t>(sent);
      // A worker that stopped reading has ended; how it ended comes from the server.
      if (written == request.size() || (sent < 0 && errno != EAGAIN && errno != EINTR)) {
        ::shutdown(job.get(), SHUT_WR);
        writing = false;
      }
    }
    if (watched.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::read(job.get(), buffer.data(), buffer.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) break;
      answer.append(buffer.data(), static_cast<std::size_t>(got));
    }
  }
  job.reset();

  StatusMessage report{};
  for (;;) {
    pollfd watched{status.get(), POLLIN, 0};
    int ready = ::poll(&watched, 1, pollWait(hasDeadline, deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return unanswered();
    ssize_t got = ::recv(status.get(), &report, sizeof report, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got != static_cast<ssize_t>(sizeof report)) {
      return makeError(ErrorCode::kInternal, "the compile server stopped before reporting the job");
    }
    break;
  }

  JobOutcome outcome;
  bool complete = false;
  outcome.records = splitRecords(answer, complete);
  if (report.forkErrno != 0) {
    outcome.end = JobEnd::kFailed;
    outcome.detail = fmt::format("cannot start a worker: {}", std::strerror(report.forkErrno));
  } else if (report.timedOut) {
    outcome.end = JobEnd::kTimedOut;
  } else if (WIFSIGNALED(report.waitStatus)) {
    outcome.end = JobEnd::kCrashed;
    outcome.signal = WTERMSIG(report.waitStatus);
  } else if (WIFEXITED(report.waitStatus)) {
    outcome.exitCode = WEXITSTATUS(report.waitStatus);
    if (outcome.exitCode == 0 && complete) {
      outcome.end = JobEnd::kFinished;
    } else if (outcome.exitCode == kOutOfMemoryExit) {
      outcome.end = JobEnd::kOutOfMemory;
    } else if (outcome.exitCode == kFatalErrorExit) {
      outcome.end = JobEnd::kFatalError;
      for (const JobRecord& record : outcome.records) {
        if (record.tag == kFatalTag) outcome.detail = record.bytes;
      }
    } else {
      outcome.end = JobEnd::kFailed;
      outcome.detail = outcome.exitCode == 0 ? "its answer was cut short"
                                             : fmt::format("it exited with status {}", outcome.exitCode);
    }
  } else {
    outcome.end = JobEnd::kFailed;
    outcome.detail = fmt::format("unexpected wait status {:#x}", report.waitStatus);
  }
  return outcome;
}

WireWriter& WireWriter::byte(std::uint8_t value) {
  bytes_.push_back(static_cast<char>(value));
  return *this;
}

WireWriter& WireWriter::number(std::uint64_t value) {
  char raw[sizeof value];
  std::memcpy(raw, &value, sizeof value);
  bytes_.append(raw, sizeof raw);
  return *this;
}

WireWriter& WireWriter::text(std::string_view value) {
  number(value.size());
  bytes_.append(value.data(), value.size());
  return *this;
}

bool WireReader::byte(std::uint8_t& value) {
  if (offset_ + 1 > bytes_.size()) return false;
  value = static_cast<std::uint8_t>(bytes_[offset_++]);
  return true;
}

bool WireReader::number(std::uint64_t& value) {
  if (bytes_.size() - offset_ < sizeof value) return false;
  std::memcpy(&value, bytes_.data() + offset_, sizeof value);
  offset_ += sizeof value;
  return true;
}

bool WireReader::text(std::string& value) {
  std::uint64_t size = 0;
  if (!number(size) || bytes_.size() - offset_ < size) return false;
  value.assign(bytes_.data() + offset_, size);
  offset_ += size;
  return true;
}

}  // namespace mirtune
