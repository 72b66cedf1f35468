// XGBoost is loaded when a tree head first needs it: a process that has only built a head has not mapped
// libxgboost; fitting one maps it. Its own executable, so that no other test has used a head before it runs.
#include "HeadsTestUtil.h"
#include "tasks/common/Head.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace mirtune::heads {
namespace {

// Whether /proc/self/maps lists a mapping of libxgboost (any version).
bool xgboostMapped() {
  std::ifstream maps("/proc/self/maps");
  EXPECT_TRUE(maps.is_open()) << "cannot read /proc/self/maps";
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libxgboost") != std::string::npos) return true;
  }
  return false;
}

TEST(XgbLazyLoad, LibraryIsMappedOnlyOnceAHeadIsUsed) {
  EXPECT_FALSE(xgboostMapped()) << "libxgboost is mapped before any head was made";

  auto classifier = makeClassifier({"xgboost", {{"rounds", 5}, {"max_depth", 2}}});
  ASSERT_TRUE(classifier.ok()) << classifier.error().message();
  EXPECT_FALSE(xgboostMapped()) << "making an untrained xgboost head mapped libxgboost";

  Dataset train = testing::separableBinary(60, 4, 1);
  Status fitted = (*classifier)->fit(train);
  ASSERT_TRUE(fitted.ok()) << fitted.error().message();
  EXPECT_TRUE(xgboostMapped()) << "a fitted xgboost head, yet libxgboost is not mapped";

  auto predicted =
      (*classifier)->predictClasses(train.features.values.data(), train.size(), train.features.cols);
  ASSERT_TRUE(predicted.ok()) << predicted.error().message();
  EXPECT_GT(testing::accuracy(*predicted, train.labels), 0.9);
  EXPECT_TRUE((*classifier)->describe()["xgboost_version"].is_string());
}

}  // namespace
}  // namespace mirtune::heads
