// Tests of src/support: Expected, SHA-256, files, the progress line (terminal and log modes), statuses.
#include "support/Error.h"
#include "support/Files.h"
#include "support/MeasureStatus.h"
#include "support/Progress.h"
#include "support/Sha256.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

fs::path freshDirectory(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mirtune-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Expected, HoldsValueOrError) {
  Expected<int> value = 42;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 42);
  Expected<int> failure = makeError(ErrorCode::kNotFound, "{}: missing", "x.cl");
  ASSERT_FALSE(failure.ok());
  EXPECT_EQ(failure.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(failure.error().message(), "x.cl: missing");
  EXPECT_EQ(failure.error().withContext("loading").message(), "loading: x.cl: missing");
  Status done = success();
  EXPECT_TRUE(done.ok());
  EXPECT_EQ(errorCodeName(ErrorCode::kCompileError), "compile_error");
}

// FIPS 180-4 / NIST example vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256Hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += std::to_string(i * 7919);
  Sha256 hasher;
  for (std::size_t i = 0; i < text.size(); i += 37) hasher.update(std::string_view(text).substr(i, 37));
  auto digest = hasher.finish();
  EXPECT_EQ(toHex(digest.data(), digest.size()), sha256Hex(text));
}

TEST(Files, ReadErrorsNameTheFile) {
  auto missing = readFile("/nonexistent/mirtune/file.cl");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("/nonexistent/mirtune/file.cl"), std::string::npos);
  auto directory = readFile(fs::temp_directory_path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code(), ErrorCode::kInvalidInput);
}

TEST(Files, AtomicWriteReplacesWholeFileAndLeavesNoTemporaries) {
  fs::path dir = freshDirectory("atomic");
  fs::path target = dir / "out.txt";
  ASSERT_TRUE(writeFileAtomically(target, "first").ok());
  ASSERT_TRUE(writeFileAtomically(target, "second version").ok());
  EXPECT_EQ(*readFile(target), "second version");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u);
  auto failed = writeFileAtomically(dir / "no-such-folder" / "x.txt", "data");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("no-such-folder"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Files, DatabasePathFollowsEnvironment) {
  ::setenv("MIRTUNE_DB", "/tmp/explicit.db", 1);
  EXPECT_EQ(defaultDatabasePath(), fs::path("/tmp/explicit.db"));
  ::unsetenv("MIRTUNE_DB");
  ::setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(defaultDatabasePath(), fs::path("/tmp/xdg/mirtune/mirtune.db"));
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(defaultDatabasePath(), fs::path("/home/someone/.local/share/mirtune/mirtune.db"));
}

TEST(Files, DataDirectoryFollowsEnvironment) {
  ::setenv("MIRTUNE_DATA", "/data/sets", 1);
  EXPECT_EQ(dataDirectory(), fs::path("/data/sets"));
  ::unsetenv("MIRTUNE_DATA");
  EXPECT_EQ(dataDirectory().filename(), "datasets");
}

TEST(Progress, RendersCountRateAndEta) {
  EXPECT_EQ(ProgressLine::render("embed", 25, 100, 5.0, ""), "embed 25/100 (25%)  5.0/s  ETA 0:15");
  EXPECT_EQ(ProgressLine::render("embed", 100, 100, 20.0, "done"), "embed 100/100 (100%)  5.0/s  0:20  done");
  EXPECT_EQ(ProgressLine::render("scan", 7, 0, 2.0, ""), "scan 7  3.5/s  0:02");
  EXPECT_EQ(formatDuration(3725), "1:02:05");
  EXPECT_EQ(formatDuration(59.6), "1:00");
}

// A progress line whose clock and terminal answer the test controls, collecting its log lines.
struct ProgressProbe {
  using Clock = ProgressOptions::Clock;
  Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);
  std::vector<std::string> lines;

  ProgressOptions options(bool terminal, std::size_t everyItems = 0) {
    ProgressOptions options;
    options.terminal = terminal;
    options.now = [this] { return now; };
    options.writeLogLine = [this](std::string_view line) { lines.emplace_back(line); };
    options.logEveryItems = everyItems;
    options.heartbeat = false;
    return options;
  }
  void wait(double seconds) {
    now += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }
};

TEST(Progress, LogsEveryTenthOfTheItemsWhenNotATerminal) {
  ProgressProbe probe;
  {
    ProgressLine line("embed", 20, probe.options(/*terminal=*/false));
    EXPECT_FALSE(line.enabled());
    EXPECT_TRUE(line.logging());
    for (int i = 0; i < 20; ++i) {
      probe.wait(0.5);
      line.advance(1, i == 9 ? "best 1.5x" : "");
    }
    EXPECT_EQ(line.done(), 20u);
  }
  // Lines at 2, 4, ..., 18 items, and the final line the destructor wrote.
  ASSERT_EQ(probe.lines.size(), 10u);
  EXPECT_EQ(probe.lines[0], "embed 2/20 (10%)  2.0/s  ETA 0:09");
  EXPECT_EQ(probe.lines[4], "embed 10/20 (50%)  2.0/s  ETA 0:05  best 1.5x");
  EXPECT_EQ(probe.lines[5], "embed 12/20 (60%)  2.0/s  ETA 0:04  best 1.5x");
  EXPECT_EQ(probe.lines.back(), "embed 20/20 (100%)  2.0/s  0:10  best 1.5x");
}

TEST(Progress, LogsAfterThirtySecondsEvenBeforeEnoughItems) {
  ProgressProbe probe;
  ProgressLine line("collect", 1000, probe.options(/*terminal=*/false, /*everyItems=*/100));
  probe.wait(29);
  line.advance();
  EXPECT_TRUE(probe.lines.empty());
  probe.wait(1);
  line.advance();
  ASSERT_EQ(probe.lines.size(), 1u);
  EXPECT_EQ(probe.lines[0], "collect 2/1000 (0%)  0.1/s  ETA 4:09:30");
  probe.wait(10);
  line.advance();
  EXPECT_EQ(probe.lines.size(), 1u);  // the 30 s count again from the last line
  probe.wait(20);
  line.advance();
  EXPECT_EQ(probe.lines.size(), 2u);
  line.finish();
  line.finish();  // once only
  ASSERT_EQ(probe.lines.size(), 3u);
  EXPECT_EQ(probe.lines.back(), "collect 4/1000 (0%)  0.1/s  ETA 4:09:00");
}

TEST(Progress, UnknownTotalLogsEveryHundredItems) {
  ProgressProbe probe;
  {
    ProgressLine line("scan", 0, probe.options(/*terminal=*/false));
    for (int i = 0; i < 250; ++i) {
      probe.wait(0.1);
      line.advance();
    }
  }
  ASSERT_EQ(probe.lines.size(), 3u);
  EXPECT_EQ(probe.lines[0].rfind("scan 100  ", 0), 0u) << probe.lines[0];
  EXPECT_EQ(probe.lines[1].rfind("scan 200  ", 0), 0u) << probe.lines[1];
  EXPECT_EQ(probe.lines[2].rfind("scan 250  ", 0), 0u) << probe.lines[2];
}

TEST(Progress, FastRunsLogOnlyTheirFinalLine) {
  ProgressProbe probe;
  {
    ProgressLine line("embed", 5, probe.options(/*terminal=*/false));
    for (int i = 0; i < 5; ++i) {
      probe.wait(0.1);
      line.advance();
    }
  }
  ASSERT_EQ(probe.lines.size(), 1u);
  EXPECT_EQ(probe.lines[0], "embed 5/5 (100%)  10.0/s  0:01");
}

TEST(Progress, TerminalDrawsNoLogLines) {
  ProgressProbe probe;
  {
    ProgressLine line("embed", 3, probe.options(/*terminal=*/true));
    EXPECT_TRUE(line.enabled());
    EXPECT_FALSE(line.logging());
    line.advance(3);
  }
  EXPECT_TRUE(probe.lines.empty());
}

TEST(Progress, QuietSilencesLogLines) {
  ProgressProbe probe;
  ProgressLine::setQuiet(true);
  {
    ProgressLine line("embed", 3, probe.options(/*terminal=*/false, /*everyItems=*/1));
    EXPECT_FALSE(line.logging());
    line.advance(3);
  }
  ProgressLine::setQuiet(false);
  EXPECT_TRUE(probe.lines.empty());
}

TEST(Progress, HeartbeatLogsWhileNoItemFinishes) {
  std::mutex mutex;
  std::vector<std::string> lines;
  ProgressOptions options;
  options.terminal = false;
  options.logEveryTime = std::chrono::milliseconds(20);
  options.writeLogLine = [&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.emplace_back(line);
  };
  ProgressLine line("tune", 5, options);
  line.advance(1, "best 2.0x");
  auto seen = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return lines.size();
  };
  for (int i = 0; i < 500 && seen() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(seen(), 2u);
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(lines[1].rfind("tune 1/5 (20%)  ", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("best 2.0x"), std::string::npos) << lines[1];
}

TEST(MeasureStatus, NamesAndParsingRoundTrip) {
  static_assert(kMeasureStatuses.size() == kMeasureStatusNames.size());
  for (std::size_t i = 0; i < kMeasureStatuses.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(kMeasureStatuses[i]), i);
    EXPECT_EQ(measureStatusName(kMeasureStatuses[i]), kMeasureStatusNames[i]);
    EXPECT_EQ(measureStatusFromName(kMeasureStatusNames[i]), kMeasureStatuses[i]);
  }
  // The names the runner's JSON and the database rows have always used.
  EXPECT_EQ(measureStatusName(MeasureStatus::kBuildTimeout), "build_timeout");
  EXPECT_EQ(measureStatusName(MeasureStatus::kWrongOutput), "wrong_output");
  EXPECT_EQ(measureStatusName(static_cast<MeasureStatus>(17)), "invalid");
  // The runner's plan rejection is not a measurement status.
  EXPECT_FALSE(measureStatusFromName(kInvalidPlanStatusName).has_value());
  EXPECT_FALSE(measureStatusFromName("OK").has_value());
  EXPECT_FALSE(measureStatusFromName("").has_value());
}

}  // namespace
}  // namespace mirtune
