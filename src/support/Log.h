// Levelled logging to stderr; libraries log here and never print to stdout.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace mirtune {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

/// Current threshold; messages above it are dropped. Starts at kWarn, or $MIRTUNE_LOG (error|warn|info|debug).
LogLevel logLevel();
void setLogLevel(LogLevel level);
/// Parses "error", "warn", "info", "debug"; returns false on anything else.
bool parseLogLevel(std::string_view text, LogLevel& out);

/// Writes one line "mirtune: <level>: <message>" to stderr (clearing a progress line first).
void logMessage(LogLevel level, std::string_view message);

template <typename... Args>
void logError(fmt::format_string<Args...> format, Args&&... args) {
  logMessage(LogLevel::kError, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void logWarn(fmt::format_string<Args...> format, Args&&... args) {
  if (logLevel() >= LogLevel::kWarn) logMessage(LogLevel::kWarn, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void logInfo(fmt::format_string<Args...> format, Args&&... args) {
  if (logLevel() >= LogLevel::kInfo) logMessage(LogLevel::kInfo, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void logDebug(fmt::format_string<Args...> format, Args&&... args) {
  if (logLevel() >= LogLevel::kDebug)
    logMessage(LogLevel::kDebug, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace mirtune
