// Runs the mirtune executable under test (MIRTUNE_EXECUTABLE, set by the test's CMake target) and returns its
// exit status and output; shared by the end-to-end tests.
#pragma once

#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mirtune {

inline SubprocessResult runMirtune(const std::vector<std::string>& arguments, double timeoutSeconds = 120) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

}  // namespace mirtune
