// Progress line on stderr.
#include "support/Progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cmath>

namespace mirtune {
namespace {

std::atomic<bool> gQuiet{false};
std::atomic<ProgressLine*> gActive{nullptr};

}  // namespace

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<long long>(std::llround(seconds));
  long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

ProgressLine::ProgressLine(std::string label, std::size_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(!gQuiet.load() && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      lastDraw_(start_ - std::chrono::seconds(1)) {
  if (enabled_) gActive.store(this);
}

ProgressLine::~ProgressLine() {
  if (!finished_) finish();
}

void ProgressLine::setQuiet(bool quiet) { gQuiet.store(quiet); }

void ProgressLine::clearActiveLine() {
  if (gActive.load() != nullptr) std::fputs("\r\033[K", stderr);
}

std::string ProgressLine::render(std::string_view label, std::size_t done, std::size_t total,
                                 double elapsedSeconds, std::string_view note) {
  double rate = elapsedSeconds > 0 ? static_cast<double>(done) / elapsedSeconds : 0.0;
  std::string line = fmt::format("{} {}", label, done);
  if (total > 0) line += fmt::format("/{} ({:.0f}%)", total, 100.0 * static_cast<double>(done) / total);
  line += fmt::format("  {:.1f}/s", rate);
  if (total > 0 && done > 0 && done < total) {
    line += "  ETA " + formatDuration(static_cast<double>(total - done) / rate);
  } else {
    line += "  " + formatDuration(elapsedSeconds);
  }
  if (!note.empty()) line += fmt::format("  {}", note);
  return line;
}

void ProgressLine::advance(std::size_t n, std::string_view note) {
  done_ += n;
  if (!note.empty()) note_ = std::string(note);
  draw(false);
}

void ProgressLine::draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - lastDraw_ < std::chrono::milliseconds(100)) return;
  lastDraw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line = render(label_, done_, total_, elapsed, note_);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw(true);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  ProgressLine* self = this;
  gActive.compare_exchange_strong(self, nullptr);
}

}  // namespace mirtune
