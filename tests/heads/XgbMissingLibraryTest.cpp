// A booster built against a library name that does not exist: every call that needs XGBoost returns a
// kNotFound error naming the library, nothing throws or crashes, and the error stays the same on later calls.
#include "tasks/common/XgbApi.h"
#include "tasks/common/XgbBooster.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mirtune::heads::detail {
namespace {

// The name the test executable compiled XgbApi.cpp with (tests/heads/CMakeLists.txt).
constexpr const char* kMissingLibrary = MIRTUNE_XGBOOST_SONAME;

void expectMissingLibrary(const Error& error) {
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_NE(error.message().find(kMissingLibrary), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("cannot load"), std::string::npos) << error.message();
}

TEST(XgbMissingLibrary, ApiReportsTheLibraryAndTheLoaderReason) {
  auto first = xgbApi();
  ASSERT_FALSE(first.ok());
  expectMissingLibrary(first.error());
  auto second = xgbApi();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(), first.error().message());
}

TEST(XgbMissingLibrary, BoosterCallsReturnTheError) {
  XgbBooster booster;
  const std::vector<float> rows = {0, 1, 1, 0, 1, 1, 0, 0};
  const std::vector<float> labels = {1, 1, 0, 0};
  Status trained =
      booster.train(rows.data(), 4, 2, labels, "labels", {}, XgbParams{}, {{"objective", "binary:logistic"}});
  ASSERT_FALSE(trained.ok());
  expectMissingLibrary(trained.error());
  EXPECT_FALSE(booster.trained());

  Status loaded = booster.load("not a model", "head/model.ubj", 2);
  ASSERT_FALSE(loaded.ok());
  expectMissingLibrary(loaded.error());
  EXPECT_FALSE(booster.trained());

  auto version = xgboostVersion();
  ASSERT_FALSE(version.ok());
  expectMissingLibrary(version.error());
}

}  // namespace
}  // namespace mirtune::heads::detail
