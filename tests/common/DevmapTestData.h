// The device-mapping data set for tests, read once per test program: a test skips with a message when the data
// set's folder is absent and fails when it is there but does not load.
#pragma once

#include "tasks/devmap/DevmapData.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace mirtune::devmap {

inline const DevmapData* devmapTestDataOrNull(std::string* error) {
  static std::string loadError;
  static std::optional<DevmapData> data = [] {
    auto loaded = loadDevmapData(defaultDevmapDirectory());
    if (!loaded) loadError = loaded.error().message();
    return loaded ? std::optional<DevmapData>(std::move(*loaded)) : std::nullopt;
  }();
  *error = loadError;
  return data ? &*data : nullptr;
}

}  // namespace mirtune::devmap

/// Declares `data` (the loaded data set) in a test body, or skips the test when the data set is absent.
#define REQUIRE_DEVMAP()                                                                                 \
  std::string loadError;                                                                                 \
  const ::mirtune::devmap::DevmapData* data = ::mirtune::devmap::devmapTestDataOrNull(&loadError);      \
  if (data == nullptr && !std::filesystem::exists(::mirtune::devmap::defaultDevmapDirectory()))         \
    GTEST_SKIP() << "device-mapping data set not found at " << ::mirtune::devmap::defaultDevmapDirectory() \
                 << " (set MIRTUNE_DATA; see README)";                                                   \
  ASSERT_NE(data, nullptr) << loadError
