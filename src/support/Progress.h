// Progress on stderr: count, rate and ETA, redrawn in place on a terminal, logged as lines otherwise.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace mirtune {

/// How a ProgressLine reports; the defaults suit the command line, tests replace the clock and the terminal
/// answer.
struct ProgressOptions {
  using Clock = std::chrono::steady_clock;

  /// Whether stderr is a terminal (live line) or not (log lines); asked of stderr when unset.
  std::optional<bool> terminal;
  /// The time source; steady_clock::now when empty.
  std::function<Clock::time_point()> now;
  /// Where a log line goes (without its newline); "mirtune: info: <line>" on stderr when empty.
  std::function<void(std::string_view line)> writeLogLine;
  /// Log mode: a line after this many more items... (0 = a tenth of the total, rounded up; 100 when the total
  /// is unknown)
  std::size_t logEveryItems = 0;
  /// ...or once this much time passed since the last line, whichever comes first...
  std::chrono::milliseconds logEveryTime = std::chrono::seconds(30);
  /// ...but never sooner than this after the start or the last line (a fast run logs its final line only).
  std::chrono::milliseconds logMinimumInterval = std::chrono::seconds(1);
  /// Log mode: a background thread also writes the line when no item finished for logEveryTime (measured on
  /// the steady clock), so one slow item does not leave the log silent.
  bool heartbeat = true;
};

/// Shows "label  done/total  rate/s  ETA m:ss  note". On a terminal it is one stderr line redrawn in place
/// (at most every 100 ms). When stderr is not a terminal (a batch job, a pipe) it writes one log line per
/// logEveryItems items or per logEveryTime, whichever comes first, and a final line, so a long run is never
/// silent. --quiet (setQuiet) silences both. advance() may be called from several threads.
class ProgressLine {
 public:
  /// total = 0 means unknown (no ETA).
  ProgressLine(std::string label, std::size_t total, ProgressOptions options = {});
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// Counts n more items done; `note` (e.g. the best result so far), when not empty, replaces the shown note.
  void advance(std::size_t n = 1, std::string_view note = {});
  /// Reports the final state (the line ends on a terminal, a last log line otherwise).
  void finish();

  /// Whether the live terminal line is drawn.
  bool enabled() const { return mode_ == Mode::kTerminal; }
  /// Whether log lines are written (stderr is not a terminal).
  bool logging() const { return mode_ == Mode::kLog; }
  std::size_t done() const;

  /// Globally silences every progress line (the CLI's --quiet).
  static void setQuiet(bool quiet);
  /// Erases the line being drawn, if any, so a log message can be printed cleanly.
  static void clearActiveLine();

  /// The text of one line (pure; exposed for tests). elapsedSeconds is time since the start.
  static std::string render(std::string_view label, std::size_t done, std::size_t total, double elapsedSeconds,
                            std::string_view note);

 private:
  enum class Mode { kSilent, kTerminal, kLog };

  ProgressOptions::Clock::time_point now() const;
  double elapsedSeconds(ProgressOptions::Clock::time_point at) const;
  // The helpers below run with mutex_ held.
  void draw(bool force);
  void logIfDue();
  void writeLog(ProgressOptions::Clock::time_point at);
  void runHeartbeat();

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::string note_;
  ProgressOptions options_;
  Mode mode_;
  bool finished_ = false;
  std::size_t logEveryItems_;
  std::size_t doneAtLastLog_ = 0;
  ProgressOptions::Clock::time_point start_;
  ProgressOptions::Clock::time_point lastDraw_;
  ProgressOptions::Clock::time_point lastLog_;
  std::size_t linesWritten_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable wake_;  ///< ends the heartbeat's wait at finish()
  std::thread heartbeat_;
};

/// "m:ss" or "h:mm:ss" for a duration in seconds.
std::string formatDuration(double seconds);

}  // namespace mirtune
