// Levelled logging to stderr.
#include "support/Log.h"

#include "support/Progress.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

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

}  // namespace

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
