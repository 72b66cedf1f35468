// Tests of src/support: Expected, SHA-256, files, progress line formatting.
#include "support/Error.h"
#include "support/Files.h"
#include "support/Progress.h"
#include "support/Sha256.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

TEST(Progress, SilentWhenNotATerminal) {
  // ctest captures stderr through a pipe, so the line must stay silent (logs stay clean).
  ProgressLine line("test", 3);
  EXPECT_FALSE(line.enabled());
  line.advance(3);
  EXPECT_EQ(line.done(), 3u);
}

}  // namespace
}  // namespace mirtune
