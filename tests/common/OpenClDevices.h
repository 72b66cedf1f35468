// How many OpenCL devices the runner under test (MIRTUNE_RUN_EXECUTABLE, set by the test's CMake target) lists, so
// that tests which run kernels skip on a machine without one.
#pragma once

#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstddef>

namespace mirtune {

/// The devices of every platform `mirtune-run probe --json` lists (asked once per test program); 0 when it fails.
inline std::size_t openClDeviceCount() {
  static const std::size_t count = [] {
    SubprocessOptions options;
    options.argv = {MIRTUNE_RUN_EXECUTABLE, "probe", "--json"};
    options.timeoutSeconds = 60;
    auto probe = runSubprocess(options);
    if (!probe || !probe->succeeded()) return std::size_t{0};
    const auto listing = nlohmann::json::parse(probe->standardOutput, nullptr, false);
    std::size_t devices = 0;
    if (!listing.is_object()) return devices;
    for (const auto& platform : listing.value("platforms", nlohmann::json::array())) {
      if (platform.is_object()) devices += platform.value("devices", nlohmann::json::array()).size();
    }
    return devices;
  }();
  return count;
}

inline bool hasOpenClDevice() { return openClDeviceCount() > 0; }

}  // namespace mirtune

/// Skips the running test when the runner lists no OpenCL device.
#define SKIP_WITHOUT_OPENCL()                                                                         \
  do {                                                                                                \
    if (!::mirtune::hasOpenClDevice()) GTEST_SKIP() << "no OpenCL device (install pocl-opencl-icd)"; \
  } while (false)
