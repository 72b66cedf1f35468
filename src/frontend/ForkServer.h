// ForkServer: runs untrusted work (Clang compiles, LLVM IR parsing) in short-lived forked workers with a
// stack, memory and wall-clock limit, so that a compiler crash, hang or runaway allocation ends one job, not
// mirtune.
#pragma once

#include "support/Error.h"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Limits of one job. Zero means no limit (timeout, memory); the stack is always stackBytes.
struct JobLimits {
  /// Wall-clock seconds from the worker's start; the worker is killed when they are up.
  double timeoutSeconds = 0;
  /// Bytes of address space the worker may map beyond what it inherits (RLIMIT_AS above its size at start).
  std::uint64_t memoryBytes = 0;
  /// Stack of the thread the job runs on, in bytes.
  std::size_t stackBytes = 8u << 20;
  /// How long past the deadline the caller waits for the server (which kills the worker at the deadline)
  /// before it takes the server for hung and replaces it. Only with a timeout.
  double graceSeconds = 60;
};

/// One record of a job's answer: a tag byte and its bytes.
struct JobRecord {
  char tag = 0;
  std::string bytes;
};

/// How a job ended.
enum class JobEnd {
  kFinished,     ///< the job function returned; `records` hold its answer
  kCrashed,      ///< the worker was killed by `signal`
  kTimedOut,     ///< the worker was killed at the deadline
  kOutOfMemory,  ///< an allocation failed under the memory limit
  kFatalError,   ///< LLVM reported a fatal error; `detail` holds its reason
  kFailed,       ///< the worker could not start or exited with an unexpected `exitCode`; `detail` says which
};

struct JobOutcome {
  JobEnd end = JobEnd::kFinished;
  int signal = 0;
  int exitCode = 0;
  std::string detail;
  std::vector<JobRecord> records;
};

/// A job: it reads `request` and answers with writeJobRecord. It runs in a forked worker, the only thread
/// there besides the worker's idle main thread, on a stack of JobLimits::stackBytes.
using JobFunction = void (*)(const std::string& request);

/// Worker side: appends one record to the job's answer. Tags 'F' and 'S' are the server's own. Allocates
/// nothing, so it also works after an allocation failed. Returns false when the caller is gone.
bool writeJobRecord(char tag, std::string_view bytes);

/// Runs body(argument) on a new thread with `stackBytes` of stack and waits for it; false when the thread
/// cannot be created. For work whose stack need must not depend on the calling thread's (a worker's main
/// thread is a copy of whichever thread started the server).
bool runOnStack(std::size_t stackBytes, void (*body)(void*), void* argument);

/// Starts, on first use, one single-threaded server process forked from the caller; each run() has it hand
/// the job to one of its workers, forking a new worker when none is idle. Forking from a process that runs
/// other threads (LibTorch and OpenMP pools, parallel compiles) copies whatever locks those threads hold at
/// that instant, held for ever in the copy. So that fork happens once, for the server, while the first caller
/// holds this object's mutex (other compiling threads wait on it, holding nothing), and the server and its
/// workers use only LLVM, Clang, the C library and malloc (glibc resets its allocator locks in a fork child),
/// never mirtune's logging, LibTorch or SQLite, whose locks other threads may hold. Every worker is the fork
/// of the single-threaded server, which is always safe. What remains is another thread inside a first-time
/// LLVM initialisation at the instant of the first compile; mirtune's own commands do no LLVM work before
/// their first compile. A server that stops answering is killed and replaced at the next job. Thread-safe:
/// jobs from several threads run in parallel workers.
class ForkServer {
 public:
  /// `job` runs in each worker; `warmUp`, if given, runs once in the server before its first worker is
  /// forked, so that workers inherit what it initialised (LLVM's lazily built tables) instead of building it
  /// again each.
  explicit ForkServer(JobFunction job, void (*warmUp)() = nullptr);
  ~ForkServer();
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  /// Runs `job(request)` in a fresh worker under `limits` and returns how it ended with what it wrote.
  /// Errors (kInternal) only when the server cannot be reached or started.
  Expected<JobOutcome> run(std::string_view request, const JobLimits& limits);

  /// The server's process id, or -1 before the first run (for tests).
  pid_t serverPid() const;

 private:
  Status startLocked();
  void stopLocked();

  JobFunction job_;
  void (*warmUp_)();
  mutable std::mutex mutex_;
  int control_ = -1;
  pid_t server_ = -1;
};

/// Length-prefixed fields, the encoding of requests and records.
class WireWriter {
 public:
  WireWriter& byte(std::uint8_t value);
  WireWriter& number(std::uint64_t value);
  WireWriter& text(std::string_view value);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

/// Reads what a WireWriter wrote; every read returns false once the bytes run out.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : bytes_(bytes) {}
  bool byte(std::uint8_t& value);
  bool number(std::uint64_t& value);
  bool text(std::string& value);
  bool atEnd() const { return offset_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t offset_ = 0;
};

}  // namespace mirtune
