// A one-line progress display on stderr: count, rate and ETA, redrawn in place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace mirtune {

/// Shows "label  done/total  rate/s  ETA m:ss  note" on one stderr line. It draws only when stderr is a
/// terminal and progress is not globally quiet (--quiet); otherwise it is silent, so logs stay clean.
class ProgressLine {
 public:
  /// total = 0 means unknown (no ETA).
  ProgressLine(std::string label, std::size_t total);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// Counts n more items done; redraws at most every 100 ms.
  void advance(std::size_t n = 1, std::string_view note = {});
  /// Draws the final state and ends the line.
  void finish();

  bool enabled() const { return enabled_; }
  std::size_t done() const { return done_; }

  /// Globally silences every progress line (the CLI's --quiet).
  static void setQuiet(bool quiet);
  /// Erases the line being drawn, if any, so a log message can be printed cleanly.
  static void clearActiveLine();

  /// The text of one line (pure; exposed for tests). elapsedSeconds is time since the start.
  static std::string render(std::string_view label, std::size_t done, std::size_t total, double elapsedSeconds,
                            std::string_view note);

 private:
  void draw(bool force);

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::string note_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point lastDraw_;
};

/// "m:ss" or "h:mm:ss" for a duration in seconds.
std::string formatDuration(double seconds);

}  // namespace mirtune
