// Runs the mirtune executable under test (MIRTUNE_EXECUTABLE, set by the test's CMake target) and returns its
// exit status and output; shared by the end-to-end tests.
#pragma once

#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <map>
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

/// Runs a program to completion (argv[0] a path, or a name looked up on PATH) with `environment` set in its
/// environment; a program that cannot be started fails the test.
inline SubprocessResult runProgram(const std::vector<std::string>& argv, double timeoutSeconds = 240,
                                   const std::map<std::string, std::string>& environment = {}) {
  SubprocessOptions options;
  options.argv = argv;
  options.environment = environment;
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

/// `mirtune --db DB ARGUMENTS...`, as runProgram runs it.
inline SubprocessResult runMirtuneOn(const std::string& db, std::vector<std::string> arguments,
                                     const std::map<std::string, std::string>& environment = {},
                                     double timeoutSeconds = 240) {
  arguments.insert(arguments.begin(), {MIRTUNE_EXECUTABLE, "--db", db});
  return runProgram(arguments, timeoutSeconds, environment);
}

}  // namespace mirtune
