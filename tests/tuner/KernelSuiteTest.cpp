// The kernel suite's correctness test: every shipped kernel at its smallest size matches its CPU reference
// on every OpenCL device.
#include "TunerTestSupport.h"
#include "tuner/KernelManifest.h"
#include "tuner/references/References.h"

#include <gtest/gtest.h>

namespace mirtune {
namespace {

using testing::makeQuick;

std::vector<std::string> suiteNames() {
  std::vector<std::string> names;
  auto suite = loadKernelSuite(kernelSuiteDirectory());
  if (suite) {
    for (const auto& manifest : *suite) names.push_back(manifest.name);
  }
  return names;
}

TEST(KernelSuite, LoadsAtLeastFifteenKernelsWithReferences) {
  auto suite = loadKernelSuite(kernelSuiteDirectory());
  ASSERT_TRUE(suite.ok()) << suite.error().message();
  EXPECT_GE(suite->size(), 15u);
  for (const auto& manifest : *suite) {
    EXPECT_NE(findReference(manifest.reference), nullptr) << manifest.name;
    EXPECT_TRUE(std::is_sorted(manifest.sizes.begin(), manifest.sizes.end())) << manifest.name;
    EXPECT_GE(manifest.sizes.size(), 2u) << manifest.name;
  }
}

class KernelSuiteRun : public ::testing::TestWithParam<std::string> {};

TEST_P(KernelSuiteRun, SmallestSizeMatchesReference) {
  std::string skipReason;
  auto devices = testing::devicesOrReason(skipReason);
  if (devices.empty()) GTEST_SKIP() << skipReason;
  auto manifest = loadKernelManifest(kernelSuiteDirectory() / (GetParam() + ".json"));
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  auto request = makeRunRequest(*manifest, manifest->sizes.front());
  ASSERT_TRUE(request.ok()) << request.error().message();
  makeQuick(request->plan);
  request->devices = devices;
  request->timeoutSeconds = 60;
  auto result = runOnAllDevices(*request, testing::runnerExecutable());
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->devices.size(), devices.size());
  for (const auto& device : result->devices) {
    EXPECT_EQ(device.status, MeasureStatus::kOk)
        << device.name << ": " << measureStatusName(device.status) << ": " << device.message << "\n"
        << device.buildLog;
    EXPECT_FALSE(device.kernelSeconds.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, KernelSuiteRun, ::testing::ValuesIn(suiteNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace mirtune
