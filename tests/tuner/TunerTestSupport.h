// Shared helpers of the tuner tests: the runner path, a device probe that skips without OpenCL, small plans.
#pragma once

#include "tuner/OpenClRun.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace mirtune::testing {

inline std::filesystem::path runnerExecutable() {
  return MIRTUNE_RUN_EXECUTABLE;
}
inline std::filesystem::path tunerInputs() {
  return MIRTUNE_TUNER_TEST_INPUTS;
}

/// The probed devices, or an empty list with the reason in `why` (the caller skips).
inline std::vector<OpenClDevice> devicesOrReason(std::string& why) {
  auto devices = probeOpenClDevices(runnerExecutable());
  if (!devices) {
    why = "OpenCL probe failed: " + devices.error().message();
    return {};
  }
  if (devices->empty()) why = "no OpenCL device (ICD loader lists no platform): install pocl-opencl-icd";
  return *devices;
}

#define MIRTUNE_SKIP_WITHOUT_OPENCL()          \
  do {                                         \
    std::string skipReason;                    \
    if (devicesOrReason(skipReason).empty()) { \
      GTEST_SKIP() << skipReason;              \
    }                                          \
  } while (false)

/// Few, short repetitions: the tests check behaviour, not timings.
inline void makeQuick(runner::RunPlan& plan) {
  plan.warmup = 1;
  plan.minTimeSeconds = 0;
  plan.minRepetitions = 2;
  plan.maxRepetitions = 3;
}

}  // namespace mirtune::testing
