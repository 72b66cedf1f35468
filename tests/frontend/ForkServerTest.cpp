// Tests of the fork server under the front end: answers come back whole, and a crash, a hang, a runaway
// allocation, a too-deep recursion or an LLVM fatal error ends the job with its cause while the caller goes
// on.
#include "frontend/ForkServer.h"

#include <gtest/gtest.h>
#include <llvm/ADT/Twine.h>
#include <llvm/Support/ErrorHandling.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

namespace mirtune {
namespace {

// Recursion that needs about `depth` KiB of stack; the volatile buffer keeps the frames from being optimised
// away.
int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) return frame[0];
  return recurse(depth - 1) + frame[0];
}

// The request's first word says what the job does; the rest is its argument.
void testJob(const std::string& request) {
  std::string verb = request.substr(0, request.find(' '));
  std::string argument = request.find(' ') == std::string::npos ? "" : request.substr(request.find(' ') + 1);
  if (verb == "echo") {
    writeJobRecord('a', argument);
    writeJobRecord('b', std::to_string(argument.size()));
  } else if (verb == "big") {
    writeJobRecord('a', std::string(std::stoul(argument), 'x'));
  } else if (verb == "segfault") {
    writeJobRecord('a', "partial record that the crash must not garble");
    std::raise(SIGSEGV);
  } else if (verb == "hang") {
    for (;;) ::pause();
  } else if (verb == "allocate") {
    // Touch every page so that the allocation is real.
    std::vector<char> block(std::stoull(argument));
    std::memset(block.data(), 1, block.size());
    writeJobRecord('a', std::to_string(block[block.size() - 1]));
  } else if (verb == "keep") {
    // Allocated and kept: the worker is bigger for the jobs after this one.
    static std::vector<std::vector<char>> kept;
    kept.emplace_back(std::stoull(argument), 1);
    writeJobRecord('a', std::to_string(kept.size()));
  } else if (verb == "recurse") {
    writeJobRecord('a', std::to_string(recurse(std::stoi(argument))));
  } else if (verb == "fatal") {
    llvm::report_fatal_error(llvm::Twine("no way to go on: ") + argument);
  } else if (verb == "pid") {
    writeJobRecord('a', std::to_string(::getpid()));
  }
}

JobLimits limits(double timeoutSeconds = 30) {
  JobLimits result;
  result.timeoutSeconds = timeoutSeconds;
  result.memoryBytes = 1ull << 30;
  return result;
}

TEST(ForkServer, AnswersComeBackRecordByRecord) {
  ForkServer server(testJob);
  auto outcome = server.run("echo hello there", limits());
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  EXPECT_EQ(outcome->end, JobEnd::kFinished);
  ASSERT_EQ(outcome->records.size(), 2u);
  EXPECT_EQ(outcome->records[0].tag, 'a');
  EXPECT_EQ(outcome->records[0].bytes, "hello there");
  EXPECT_EQ(outcome->records[1].bytes, "11");
}

TEST(ForkServer, LargeRequestsAndAnswersDoNotDeadlock) {
  ForkServer server(testJob);
  // Both far above a socket's buffer: the caller must read while it writes.
  std::string payload(8 << 20, 'r');
  auto echoed = server.run("echo " + payload, limits());
  ASSERT_TRUE(echoed.ok()) << echoed.error().message();
  ASSERT_EQ(echoed->end, JobEnd::kFinished);
  ASSERT_EQ(echoed->records.size(), 2u);
  EXPECT_EQ(echoed->records[0].bytes, payload);
  auto big = server.run("big 20000000", limits());
  ASSERT_TRUE(big.ok()) << big.error().message();
  ASSERT_EQ(big->end, JobEnd::kFinished);
  EXPECT_EQ(big->records.at(0).bytes.size(), 20000000u);
}

TEST(ForkServer, ACrashEndsTheJobNotTheCaller) {
  ForkServer server(testJob);
  auto crashed = server.run("segfault", limits());
  ASSERT_TRUE(crashed.ok()) << crashed.error().message();
  EXPECT_EQ(crashed->end, JobEnd::kCrashed);
  EXPECT_EQ(crashed->signal, SIGSEGV);
  // The next job runs as if nothing happened.
  auto next = server.run("echo after", limits());
  ASSERT_TRUE(next.ok()) << next.error().message();
  EXPECT_EQ(next->end, JobEnd::kFinished);
  EXPECT_EQ(next->records.at(0).bytes, "after");
}

TEST(ForkServer, AJobPastItsDeadlineIsKilled) {
  ForkServer server(testJob);
  auto start = std::chrono::steady_clock::now();
  auto outcome = server.run("hang", limits(0.5));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  EXPECT_EQ(outcome->end, JobEnd::kTimedOut);
  EXPECT_GE(seconds, 0.5);
  EXPECT_LT(seconds, 10.0);
}

TEST(ForkServer, AllocationsPastTheMemoryLimitEndTheJob) {
  ForkServer server(testJob);
  JobLimits tight = limits();
  tight.memoryBytes = 256ull << 20;
  auto outcome = server.run("allocate " + std::to_string(1ull << 30), tight);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  EXPECT_EQ(outcome->end, JobEnd::kOutOfMemory);
  // Under the limit the same job finishes.
  auto fits = server.run("allocate " + std::to_string(64ull << 20), tight);
  ASSERT_TRUE(fits.ok()) << fits.error().message();
  EXPECT_EQ(fits->end, JobEnd::kFinished);
}

TEST(ForkServer, TheJobGetsTheStackItAskedFor) {
  ForkServer server(testJob);
  JobLimits small = limits();
  small.stackBytes = 1u << 20;
  auto overflow = server.run("recurse 4000", small);  // about 4 MiB of frames on 1 MiB
  ASSERT_TRUE(overflow.ok()) << overflow.error().message();
  EXPECT_EQ(overflow->end, JobEnd::kCrashed);
  EXPECT_EQ(overflow->signal, SIGSEGV);
  JobLimits large = limits();
  large.stackBytes = 64u << 20;
  auto fits = server.run("recurse 4000", large);
  ASSERT_TRUE(fits.ok()) << fits.error().message();
  EXPECT_EQ(fits->end, JobEnd::kFinished);
}

TEST(ForkServer, LlvmFatalErrorsAreReportedWithTheirReason) {
  ForkServer server(testJob);
  auto outcome = server.run("fatal disk on fire", limits());
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  EXPECT_EQ(outcome->end, JobEnd::kFatalError);
  EXPECT_EQ(outcome->detail, "no way to go on: disk on fire");
}

TEST(ForkServer, JobsRunInAWorkerThatIsReplacedAfterACrash) {
  ForkServer server(testJob);
  auto workerOf = [&] {
    auto outcome = server.run("pid", limits());
    EXPECT_TRUE(outcome.ok() && outcome->records.size() == 1u);
    return outcome.ok() && !outcome->records.empty() ? outcome->records[0].bytes : std::string();
  };
  std::string first = workerOf();
  EXPECT_NE(first, std::to_string(::getpid()));
  EXPECT_NE(first, std::to_string(server.serverPid()));
  EXPECT_EQ(workerOf(), first);  // an idle worker takes the next job
  auto crashed = server.run("segfault", limits());
  ASSERT_TRUE(crashed.ok());
  EXPECT_EQ(crashed->end, JobEnd::kCrashed);
  std::string replacement = workerOf();
  EXPECT_FALSE(replacement.empty());
  EXPECT_NE(replacement, first);
}

TEST(ForkServer, TheMemoryLimitCountsFromTheWorkersSizeAtEachJob) {
  ForkServer server(testJob);
  JobLimits tight = limits();
  // Room for one block and the allocator's per-thread arena, not for two blocks.
  tight.memoryBytes = 512ull << 20;
  const std::string block = std::to_string(300ull << 20);
  auto first = server.run("keep " + block, tight);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->end, JobEnd::kFinished);
  // The same worker, 300 MiB bigger now, still gives the next job its 512 MiB.
  auto second = server.run("keep " + block, tight);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->end, JobEnd::kFinished);
  EXPECT_EQ(second->records.at(0).bytes, "2");
}

TEST(ForkServer, JobsFromSeveralThreadsRunSideBySide) {
  ForkServer server(testJob);
  constexpr int kThreads = 6;
  std::vector<std::string> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        // Every third job crashes; the others must still get their own answers.
        auto outcome =
            server.run(i % 3 == 2 ? std::string("segfault") : fmt::format("echo {}-{}", t, i), limits());
        if (!outcome.ok()) {
          answers[t] += "error;";
        } else if (outcome->end == JobEnd::kCrashed) {
          answers[t] += "crash;";
        } else {
          answers[t] += outcome->records.at(0).bytes + ";";
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(answers[t], fmt::format("{0}-0;{0}-1;crash;{0}-3;{0}-4;", t));
  }
}

TEST(ForkServer, AServerKilledFromOutsideIsReplaced) {
  ForkServer server(testJob);
  ASSERT_TRUE(server.run("echo one", limits()).ok());
  pid_t first = server.serverPid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // Give the kernel a moment to close the dead server's socket.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto outcome = server.run("echo two", limits());
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  EXPECT_EQ(outcome->end, JobEnd::kFinished);
  EXPECT_EQ(outcome->records.at(0).bytes, "two");
  EXPECT_NE(server.serverPid(), first);
}

TEST(ForkServer, AServerThatStopsAnsweringIsReplaced) {
  ForkServer server(testJob);
  ASSERT_TRUE(server.run("echo one", limits()).ok());
  pid_t first = server.serverPid();
  ASSERT_EQ(::kill(first, SIGSTOP), 0);
  JobLimits quick = limits(0.2);
  quick.graceSeconds = 0.5;
  auto stuck = server.run("echo two", quick);
  ASSERT_FALSE(stuck.ok());
  EXPECT_NE(stuck.error().message().find("did not answer in time"), std::string::npos)
      << stuck.error().message();
  auto next = server.run("echo three", limits());
  ASSERT_TRUE(next.ok()) << next.error().message();
  EXPECT_EQ(next->records.at(0).bytes, "three");
  EXPECT_NE(server.serverPid(), first);
}

TEST(ForkServer, WireFieldsRoundTripAndShortInputIsRefused) {
  WireWriter writer;
  writer.byte(7).number(1ull << 40).text("abc").text("");
  WireReader reader(writer.bytes());
  std::uint8_t byte = 0;
  std::uint64_t number = 0;
  std::string first, second;
  ASSERT_TRUE(reader.byte(byte) && reader.number(number) && reader.text(first) && reader.text(second));
  EXPECT_EQ(byte, 7);
  EXPECT_EQ(number, 1ull << 40);
  EXPECT_EQ(first, "abc");
  EXPECT_EQ(second, "");
  EXPECT_TRUE(reader.atEnd());
  EXPECT_FALSE(reader.byte(byte));

  WireReader truncated(std::string_view(writer.bytes()).substr(0, 12));
  ASSERT_TRUE(truncated.byte(byte) && truncated.number(number));
  EXPECT_FALSE(truncated.text(first));
}

}  // namespace
}  // namespace mirtune
