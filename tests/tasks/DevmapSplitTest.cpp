// The device-mapping splits: kernels and suites held out whole, inner folds grouped like the outer ones, and
// the split names a user types.
#include "common/DevmapTestData.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Evaluate.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

namespace mirtune::devmap {
namespace {

TEST(DevmapSplit, NamesParseAndBadNamesAreUsageErrors) {
  auto all = parseSplits("published,kernel,suite");
  ASSERT_TRUE(all) << all.error().message();
  EXPECT_EQ(*all, (std::vector<Split>{Split::kPublished, Split::kKernel, Split::kSuite}));
  auto repeated = parseSplits("suite,kernel,suite");
  ASSERT_TRUE(repeated);
  EXPECT_EQ(*repeated, (std::vector<Split>{Split::kSuite, Split::kKernel}));
  auto bad = parseSplits("kernel,program");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kUsage);
  EXPECT_NE(bad.error().message().find("'program'"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(parseSplits(""));
  EXPECT_FALSE(parseSplits("kernel,"));
}

TEST(DevmapSplit, SuiteIsTheBenchmarkPrefixUpToItsVersion) {
  EXPECT_EQ(*benchmarkSuite("amd-app-sdk-3.0-BinomialOption-binomial_options"), "amd-app-sdk-3.0");
  EXPECT_EQ(*benchmarkSuite("npb-3.3-BT-exact_rhs1"), "npb-3.3");
  EXPECT_EQ(*benchmarkSuite("shoc-1.1.5-S3D-ratt_kernel"), "shoc-1.1.5");
  EXPECT_EQ(*benchmarkSuite("polybench-gpu-1.0-2mm-mm2_kernel1"), "polybench-gpu-1.0");
  auto none = benchmarkSuite("no-version-here");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("no-version-here"), std::string::npos);
}

TEST(DevmapSplit, GroupedInnerFoldsNeverSplitAGroupAndStratifiedOnesAreAsBefore) {
  std::vector<int> labels;
  std::vector<std::size_t> groups;
  for (std::size_t g = 0; g < 23; ++g) {
    for (std::size_t i = 0; i < 1 + g % 4; ++i) {
      groups.push_back(g * 7);
      labels.push_back(static_cast<int>((g + i) % 2));
    }
  }
  auto folds = innerFolds(labels, groups, 5, 204);
  ASSERT_TRUE(folds) << folds.error().message();
  ASSERT_EQ(folds->size(), 5u);
  std::map<std::size_t, std::size_t> foldOfGroup;
  std::size_t rows = 0;
  for (std::size_t f = 0; f < folds->size(); ++f) {
    EXPECT_FALSE((*folds)[f].empty());
    for (std::size_t r : (*folds)[f]) {
      auto [it, inserted] = foldOfGroup.emplace(groups[r], f);
      EXPECT_EQ(it->second, f) << "group " << groups[r] << " in two inner folds";
      ++rows;
    }
  }
  EXPECT_EQ(rows, labels.size());
  auto stratified = innerFolds(labels, {}, 5, 204);
  auto expected = heads::stratifiedKFold(labels, 5, 204);
  ASSERT_TRUE(stratified && expected);
  EXPECT_EQ(*stratified, *expected);
}

TEST(DevmapSplit, KernelSplitHoldsEveryInputOfAKernelInOneFold) {
  REQUIRE_DEVMAP();
  for (std::size_t platform = 0; platform < kPlatforms.size(); ++platform) {
    auto split = outerSplit(*data, platform, Split::kKernel, 204);
    ASSERT_TRUE(split) << split.error().message();
    ASSERT_EQ(split->foldNames.size(), 10u);
    ASSERT_EQ(split->foldOfRow.size(), data->rows.size());
    std::map<std::string, int> foldOfKernel;
    std::vector<std::size_t> sizes(10, 0);
    for (std::size_t r = 0; r < data->rows.size(); ++r) {
      auto [it, inserted] = foldOfKernel.emplace(data->rows[r].benchmark, split->foldOfRow[r]);
      EXPECT_EQ(it->second, split->foldOfRow[r]) << data->rows[r].benchmark << " is in two folds";
      ++sizes.at(static_cast<std::size_t>(split->foldOfRow[r]));
    }
    for (std::size_t size : sizes) EXPECT_GT(size, 0u);
    EXPECT_EQ(foldOfKernel.size(), 256u);  // distinct kernels of the CGO'17 data
    // Inner folds group by the same kernels, and the same seed gives the same folds.
    EXPECT_EQ(split->innerGroups, kernelGroups(*data));
    auto again = outerSplit(*data, platform, Split::kKernel, 204);
    EXPECT_EQ(again->foldOfRow, split->foldOfRow);
  }
}

TEST(DevmapSplit, SuiteSplitHasSevenFoldsOfOneSuiteEach) {
  REQUIRE_DEVMAP();
  auto split = outerSplit(*data, 0, Split::kSuite, 204);
  ASSERT_TRUE(split) << split.error().message();
  EXPECT_EQ(split->foldNames,
            (std::vector<std::string>{"amd-app-sdk-3.0", "npb-3.3", "nvidia-4.2", "parboil-0.2",
                                      "polybench-gpu-1.0", "rodinia-3.1", "shoc-1.1.5"}));
  std::vector<std::size_t> sizes(split->foldNames.size(), 0);
  for (std::size_t r = 0; r < data->rows.size(); ++r) {
    const std::string& suite = split->foldNames.at(static_cast<std::size_t>(split->foldOfRow[r]));
    EXPECT_EQ(data->rows[r].benchmark.rfind(suite + "-", 0), 0u)
        << data->rows[r].benchmark << " in " << suite;
    ++sizes[static_cast<std::size_t>(split->foldOfRow[r])];
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{16, 527, 12, 19, 27, 31, 48}));
  EXPECT_EQ(split->innerGroups, kernelGroups(*data));
}

TEST(DevmapSplit, PublishedSplitIsTheDataSetsFoldsWithStratifiedInnerFolds) {
  REQUIRE_DEVMAP();
  for (std::size_t platform = 0; platform < kPlatforms.size(); ++platform) {
    auto split = outerSplit(*data, platform, Split::kPublished, 7);
    ASSERT_TRUE(split);
    EXPECT_EQ(split->foldNames.size(), 10u);
    EXPECT_TRUE(split->innerGroups.empty());
    for (std::size_t r = 0; r < data->rows.size(); ++r)
      EXPECT_EQ(split->foldOfRow[r], data->rows[r].fold[platform]);
  }
}

TEST(DevmapSplit, InnerFoldsOfAKernelSplitTrainingSetKeepKernelsTogether) {
  REQUIRE_DEVMAP();
  auto split = outerSplit(*data, 1, Split::kSuite, 204);
  ASSERT_TRUE(split);
  // The training rows of the fold that holds out npb-3.3, as trainHead sees them.
  std::vector<std::size_t> train;
  std::vector<int> labels;
  std::vector<std::size_t> groups;
  for (std::size_t r = 0; r < data->rows.size(); ++r) {
    if (split->foldNames[static_cast<std::size_t>(split->foldOfRow[r])] == "npb-3.3") continue;
    train.push_back(r);
    labels.push_back(data->rows[r].oracle[1] == Device::kGpu ? 1 : 0);
    groups.push_back(split->innerGroups[r]);
  }
  auto folds = innerFolds(labels, groups, 5, 204);
  ASSERT_TRUE(folds);
  std::map<std::string, std::size_t> foldOfKernel;
  for (std::size_t f = 0; f < folds->size(); ++f) {
    for (std::size_t i : (*folds)[f]) {
      const std::string& kernel = data->rows[train[i]].benchmark;
      auto [it, inserted] = foldOfKernel.emplace(kernel, f);
      EXPECT_EQ(it->second, f) << kernel << " in two inner folds";
    }
  }
  EXPECT_EQ(train.size(), 680u - 527u);
}

}  // namespace
}  // namespace mirtune::devmap
