// Progress on stderr: a live line on a terminal, periodic log lines otherwise.
#include "support/Progress.h"

#include "support/ForkSafety.h"
#include "support/Log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

namespace mirtune {
namespace {

std::atomic<bool> gQuiet{false};
std::atomic<ProgressLine*> gActive{nullptr};

// Every live line's lock, so that a fork can wait for all of them to be idle (installForkSafeLogging), and
// the process that created the line (a forked child has a copy of the line but not its heartbeat thread).
struct LiveLine {
  const ProgressLine* line;
  std::mutex* mutex;
  pid_t process;
};

std::mutex& liveLinesMutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<LiveLine>& liveLines() {
  static std::vector<LiveLine> lines;
  return lines;
}

// Set in a forked child that inherited live lines; until then no line needs the lookup below.
std::atomic<bool> gInheritedLines{false};

bool createdInThisProcess(const ProgressLine* line) {
  std::lock_guard<std::mutex> lock(liveLinesMutex());
  for (const LiveLine& live : liveLines()) {
    if (live.line == line) return live.process == getpid();
  }
  return true;
}

std::size_t defaultLogEveryItems(std::size_t total) {
  if (total == 0) return 100;
  return (total + 9) / 10;
}

}  // namespace

namespace detail {

void lockProgressLinesForFork() {
  liveLinesMutex().lock();
  for (const LiveLine& live : liveLines()) live.mutex->lock();
}

void unlockProgressLinesAfterFork() {
  for (const LiveLine& live : liveLines()) live.mutex->unlock();
  liveLinesMutex().unlock();
}

void unlockProgressLinesInChild() {
  if (!liveLines().empty()) gInheritedLines.store(true);
  unlockProgressLinesAfterFork();
}

}  // namespace detail

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<long long>(std::llround(seconds));
  long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

ProgressLine::ProgressLine(std::string label, std::size_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(total),
      options_(std::move(options)),
      mode_(Mode::kSilent),
      logEveryItems_(options_.logEveryItems > 0 ? options_.logEveryItems : defaultLogEveryItems(total)) {
  installForkSafeLogging();
  {
    std::lock_guard<std::mutex> lock(liveLinesMutex());
    liveLines().push_back({this, &mutex_, getpid()});
  }
  if (!gQuiet.load()) {
    const bool terminal = options_.terminal.value_or(isatty(STDERR_FILENO) == 1);
    mode_ = terminal ? Mode::kTerminal : Mode::kLog;
  }
  start_ = now();
  lastDraw_ = start_ - std::chrono::seconds(1);
  lastLog_ = start_;
  if (mode_ == Mode::kTerminal) gActive.store(this);
  if (mode_ == Mode::kLog && options_.heartbeat) heartbeat_ = std::thread([this] { runHeartbeat(); });
}

ProgressLine::~ProgressLine() {
  if (!finished_) finish();
  std::lock_guard<std::mutex> lock(liveLinesMutex());
  auto& lines = liveLines();
  lines.erase(std::remove_if(lines.begin(), lines.end(), [this](const LiveLine& live) { return live.line == this; }),
              lines.end());
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

ProgressOptions::Clock::time_point ProgressLine::now() const {
  return options_.now ? options_.now() : ProgressOptions::Clock::now();
}

double ProgressLine::elapsedSeconds(ProgressOptions::Clock::time_point at) const {
  return std::chrono::duration<double>(at - start_).count();
}

std::size_t ProgressLine::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

void ProgressLine::advance(std::size_t n, std::string_view note) {
  std::size_t linesBefore = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ += n;
    if (!note.empty()) note_ = std::string(note);
    if (mode_ == Mode::kTerminal) draw(false);
    linesBefore = linesWritten_;
    if (mode_ == Mode::kLog) logIfDue();
    if (linesWritten_ == linesBefore) return;
  }
  // A copy inherited through fork() has no heartbeat here; signalling its condition variable, whose waiter
  // stayed in the parent, could block forever.
  if (gInheritedLines.load() && !createdInThisProcess(this)) return;
  wake_.notify_all();
}

void ProgressLine::draw(bool force) {
  auto at = now();
  if (!force && at - lastDraw_ < std::chrono::milliseconds(100)) return;
  lastDraw_ = at;
  std::string line = render(label_, done_, total_, elapsedSeconds(at), note_);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressLine::logIfDue() {
  // The last item is left to finish(), which writes the final line.
  if (total_ > 0 && done_ >= total_) return;
  auto at = now();
  if (at - lastLog_ < options_.logMinimumInterval) return;
  if (done_ - doneAtLastLog_ >= logEveryItems_ || at - lastLog_ >= options_.logEveryTime) writeLog(at);
}

void ProgressLine::writeLog(ProgressOptions::Clock::time_point at) {
  lastLog_ = at;
  doneAtLastLog_ = done_;
  ++linesWritten_;
  std::string line = render(label_, done_, total_, elapsedSeconds(at), note_);
  if (options_.writeLogLine) {
    options_.writeLogLine(line);
  } else {
    // Written whatever the log level: progress of a long batch run is what the level's default hides least.
    logMessage(LogLevel::kInfo, line);
  }
}

void ProgressLine::runHeartbeat() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!finished_) {
    const std::size_t linesBefore = linesWritten_;
    // Woken early by finish() or whenever advance() wrote a line: the quiet period starts again.
    if (wake_.wait_for(lock, options_.logEveryTime,
                       [&] { return finished_ || linesWritten_ != linesBefore; }))
      continue;
    writeLog(now());
  }
}

void ProgressLine::finish() {
  if (!createdInThisProcess(this)) {
    // A forked child: the parent reports this line, and its heartbeat thread was not copied here, so there is
    // nothing to join; its handle is left behind on purpose (destroying a joinable std::thread terminates).
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    if (heartbeat_.joinable()) new std::thread(std::move(heartbeat_));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (mode_ == Mode::kLog) writeLog(now());
  }
  wake_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (mode_ != Mode::kTerminal) return;
  std::lock_guard<std::mutex> lock(mutex_);
  draw(true);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  ProgressLine* self = this;
  gActive.compare_exchange_strong(self, nullptr);
}

}  // namespace mirtune
