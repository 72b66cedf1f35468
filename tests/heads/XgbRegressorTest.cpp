// XgbRegressor: learns a smooth target, round-trips through its folder, and rejects bad input by name.
#include "common/TemporaryFolder.h"
#include "tasks/common/XgbRegressor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

namespace mirtune::heads {
namespace {

// y = 2 x0 - x1 + 0.5 x0 x2 over standard normal inputs (no noise).
void makeProblem(std::size_t rows, unsigned seed, FeatureMatrix& features, std::vector<float>& targets) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  features = FeatureMatrix(rows, 4);
  targets.clear();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < 4; ++c) features.at(r, c) = normal(random);
    targets.push_back(2 * features.at(r, 0) - features.at(r, 1) +
                      0.5f * features.at(r, 0) * features.at(r, 2));
  }
}

double rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(sum / static_cast<double>(a.size()));
}

XgbParams smallParams() {
  XgbParams params;
  params.rounds = 200;
  params.maxDepth = 3;
  return params;
}

TEST(XgbRegressor, LearnsASmoothTargetAndRoundTrips) {
  FeatureMatrix train, test;
  std::vector<float> trainTargets, testTargets;
  makeProblem(800, 1, train, trainTargets);
  makeProblem(200, 2, test, testTargets);
  XgbRegressor regressor(smallParams());
  ASSERT_TRUE(regressor.fit(train, trainTargets));
  auto predicted = regressor.predict(test.values.data(), test.rows, test.cols);
  ASSERT_TRUE(predicted) << predicted.error().message();
  ASSERT_EQ(predicted->size(), 200u);
  // The target's spread is about 2.3; a constant prediction would be that far off.
  EXPECT_LT(rmse(*predicted, testTargets), 0.6);

  TemporaryFolder folder("mirtune-xgb-regressor", "roundtrip");
  ASSERT_TRUE(regressor.save(folder.path() / "head"));
  auto loaded = XgbRegressor::load(folder.path() / "head");
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ((*loaded)->featureCount(), 4u);
  auto again = (*loaded)->predict(test.values.data(), test.rows, test.cols);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *predicted);

  // A replaced model file is refused by its SHA-256.
  std::ofstream(folder.path() / "head" / "model.ubj", std::ios::app) << "x";
  auto corrupt = XgbRegressor::load(folder.path() / "head");
  ASSERT_FALSE(corrupt);
  EXPECT_NE(corrupt.error().message().find("model.ubj"), std::string::npos) << corrupt.error().message();
}

TEST(XgbRegressor, RowWeightsPullThePrediction) {
  // Two rows with identical inputs and targets 0 and 1: the prediction follows the heavier one.
  FeatureMatrix features(2, 1);
  std::vector<float> targets = {0.0f, 1.0f};
  XgbParams params = smallParams();
  params.minChildWeight = 0;
  XgbRegressor regressor(params);
  ASSERT_TRUE(regressor.fit(features, targets, {9.0f, 1.0f}));
  float x = 0;
  auto predicted = regressor.predict(&x, 1, 1);
  ASSERT_TRUE(predicted);
  EXPECT_NEAR((*predicted)[0], 0.1f, 0.05f);
}

TEST(XgbRegressor, RejectsBadInput) {
  XgbRegressor regressor(smallParams());
  float x[4] = {0, 0, 0, 0};
  EXPECT_FALSE(regressor.predict(x, 1, 4));  // before fit
  FeatureMatrix features(3, 4);
  auto nan = regressor.fit(features, {1.0f, std::nanf(""), 0.0f});
  ASSERT_FALSE(nan);
  EXPECT_NE(nan.error().message().find("row 1"), std::string::npos) << nan.error().message();
  EXPECT_FALSE(regressor.fit(features, {1.0f, 2.0f}));                             // too few targets
  EXPECT_FALSE(regressor.fit(features, {1.0f, 2.0f, 3.0f}, {1.0f, -1.0f, 1.0f}));  // negative weight
  ASSERT_TRUE(regressor.fit(features, {1.0f, 2.0f, 3.0f}));
  auto wrongWidth = regressor.predict(x, 1, 3);
  ASSERT_FALSE(wrongWidth);
  EXPECT_NE(wrongWidth.error().message().find("3 features"), std::string::npos)
      << wrongWidth.error().message();
  TemporaryFolder folder("mirtune-xgb-regressor", "missing");
  EXPECT_FALSE(XgbRegressor::load(folder.path() / "absent"));
}

}  // namespace
}  // namespace mirtune::heads
