// Levelled logging to stderr.
#include "support/Log.h"

#include "support/ForkSafety.h"
#include "support/Progress.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <pthread.h>

namespace mirtune {
namespace {

LogLevel initialLevel() {
  LogLevel level = LogLevel::kWarn;
  if (const char* env = std::getenv("MIRTUNE_LOG")) parseLogLevel(env, level);
  return level;
}

std::atomic<LogLevel>& levelSlot() {
  static std::atomic<LogLevel> level{initialLevel()};
  return level;
}

std::mutex& stderrMutex() {
  static std::mutex mutex;
  return mutex;
}

// fork() copies only the calling thread. Were another thread (a progress heartbeat, a worker) inside
// logMessage at that moment, the child would inherit a locked mutex that nobody will ever unlock, and its
// first log line would hang. So every fork waits until the progress lines and the log are idle, holds their
// locks across the fork and releases them in both processes. The order is the one the code takes them in:
// a progress line's lock, then the log's.
void lockBeforeFork() {
  detail::lockProgressLinesForFork();
  stderrMutex().lock();
}

void unlockAfterFork() {
  stderrMutex().unlock();
  detail::unlockProgressLinesAfterFork();
}

void unlockInChild() {
  stderrMutex().unlock();
  detail::unlockProgressLinesInChild();
}

[[maybe_unused]] const bool gForkHandlersInstalled = installForkSafeLogging();

}  // namespace

bool installForkSafeLogging() {
  static const bool installed =
      pthread_atfork(&lockBeforeFork, &unlockAfterFork, &unlockInChild) == 0;
  return installed;
}

LogLevel logLevel() { return levelSlot().load(); }
void setLogLevel(LogLevel level) { levelSlot().store(level); }

bool parseLogLevel(std::string_view text, LogLevel& out) {
  if (text == "error") out = LogLevel::kError;
  else if (text == "warn") out = LogLevel::kWarn;
  else if (text == "info") out = LogLevel::kInfo;
  else if (text == "debug") out = LogLevel::kDebug;
  else return false;
  return true;
}

void logMessage(LogLevel level, std::string_view message) {
  static constexpr const char* kNames[] = {"error", "warning", "info", "debug"};
  std::lock_guard<std::mutex> lock(stderrMutex());
  ProgressLine::clearActiveLine();
  std::string line = fmt::format("mirtune: {}: {}\n", kNames[static_cast<int>(level)], message);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace mirtune
