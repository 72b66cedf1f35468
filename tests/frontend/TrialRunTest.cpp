// Trial runs: a parse that crashes or hangs in the child is an error naming the input, and this process lives on;
// a parse that returns in the child returns here too, on a stack deep enough for deeply nested sources.
#include "frontend/SourceAst.h"
#include "frontend/TrialRun.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace mirtune {
namespace {

TEST(TrialRun, ACrashInTheChildIsAnErrorNamingTheInput) {
  auto trial = trialRun("crasher.cl", [] { ::raise(SIGSEGV); });
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.error().code(), ErrorCode::kCompileError);
  EXPECT_NE(trial.error().message().find("crasher.cl: compiler crashed: signal 11"), std::string::npos)
      << trial.error().message();
}

TEST(TrialRun, AHangIsKilledAtTheDeadline) {
  const auto start = std::chrono::steady_clock::now();
  auto trial = trialRun("hang.cl", [] { std::this_thread::sleep_for(std::chrono::seconds(60)); }, 0.5);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.error().code(), ErrorCode::kTimeout);
  EXPECT_NE(trial.error().message().find("hang.cl"), std::string::npos);
  EXPECT_LT(seconds, 10.0);
}

TEST(TrialRun, WorkThatReturnsIsASuccessAndItsEffectsStayInTheChild) {
  int touched = 0;
  auto trial = trialRun("fine.cl", [&] { touched = 1; });
  EXPECT_TRUE(trial.ok());
  EXPECT_EQ(touched, 0);  // the child's copy was changed, not ours
}

TEST(TrialRun, TheBigStackTakesARecursionTheMainThreadCouldNot) {
  // ~64 MiB of frames: past a default 8 MiB main-thread stack, well inside kTrialStackBytes.
  std::function<int(int)> deep = [&](int n) -> int {
    volatile char frame[4096];
    frame[0] = static_cast<char>(n);
    return n == 0 ? frame[0] : deep(n - 1) + (frame[0] != 0 ? 0 : 1);
  };
  int result = -1;
  runOnStack(kTrialStackBytes, [&] { result = deep(16000); });
  EXPECT_GE(result, 0);
}

TEST(TrialRun, ADeeplyNestedSourceParsesForTheSourceTools) {
  // 10,000 nested `if` statements overflow the parser's recursion on an 8 MiB stack (a SIGSEGV before).
  TemporaryFolder folder("mirtune-trial", "nested");
  const auto source = folder.path() / "nested.c";
  std::ofstream out(source);
  out << "int f(int a) {\n";
  for (int i = 0; i < 10000; ++i) out << "if (a)\n";
  out << "a = 1;\nreturn a;\n}\n";
  out.close();
  int visits = 0;
  auto parsed = withSourceAst(source, {}, {Language::kC}, [&](clang::ASTContext&, Language) {
    ++visits;
    return success();
  });
  EXPECT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(visits, 1);
}

}  // namespace
}  // namespace mirtune
