// Search space enumeration, constraints, validation, seeded sampling and the candidate strategies.
#include "tuner/SearchSpace.h"
#include "tuner/Strategy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace mirtune {
namespace {

SearchSpace threeKnobs() {
  SearchSpace space;
  EXPECT_TRUE(space.addParameter({"threads", {1, 2, 4}, 2, "OpenMP threads"}).ok());
  EXPECT_TRUE(space.addParameter({"schedule", {"static", "dynamic"}, "static", ""}).ok());
  EXPECT_TRUE(space.addParameter({"chunk", {"default", 1, 16}, "default", ""}).ok());
  return space;
}

TEST(SearchSpace, EnumeratesEveryCombinationInOdometerOrder) {
  SearchSpace space = threeKnobs();
  auto all = space.enumerate();
  ASSERT_EQ(all.size(), 18u);
  EXPECT_EQ(space.size(), 18u);
  EXPECT_EQ(all.front(), (nlohmann::json{{"threads", 1}, {"schedule", "static"}, {"chunk", "default"}}));
  EXPECT_EQ(all[1], (nlohmann::json{{"threads", 1}, {"schedule", "static"}, {"chunk", 1}}));
  EXPECT_EQ(all.back(), (nlohmann::json{{"threads", 4}, {"schedule", "dynamic"}, {"chunk", 16}}));
  std::set<std::string> hashes;
  for (const auto& c : all) hashes.insert(configurationHash(c));
  EXPECT_EQ(hashes.size(), 18u);
}

TEST(SearchSpace, ConstraintsRemoveConfigurationsAndAreReportedByValidate) {
  SearchSpace space = threeKnobs();
  space.addConstraint({"threads 4 only with a dynamic schedule", [](const Configuration& c) {
                         return c["threads"] != 4 || c["schedule"] == "dynamic";
                       }});
  EXPECT_EQ(space.size(), 15u);
  auto status = space.validate({{"threads", 4}, {"schedule", "static"}, {"chunk", 1}});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("threads 4 only"), std::string::npos);
  EXPECT_TRUE(space.contains({{"threads", 4}, {"schedule", "dynamic"}, {"chunk", 1}}));
}

TEST(SearchSpace, ValidateNamesUnknownMissingAndForeignValues) {
  SearchSpace space = threeKnobs();
  auto unknown = space.validate({{"threads", 1}, {"schedule", "static"}, {"chunk", 1}, {"unroll", 2}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("unroll"), std::string::npos);
  auto missing = space.validate({{"threads", 1}, {"schedule", "static"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("chunk"), std::string::npos);
  auto foreign = space.validate({{"threads", 3}, {"schedule", "static"}, {"chunk", 1}});
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message().find("3"), std::string::npos);
  // 2.0 and 2 are the same value in canonical JSON.
  EXPECT_TRUE(space.contains({{"threads", 2.0}, {"schedule", "static"}, {"chunk", 1}}));
}

TEST(SearchSpace, RejectsBadParameters) {
  SearchSpace space;
  EXPECT_FALSE(space.addParameter({"", {1}, 1, ""}).ok());
  EXPECT_FALSE(space.addParameter({"a", {}, 1, ""}).ok());
  EXPECT_FALSE(space.addParameter({"a", {1, 1}, 1, ""}).ok());
  EXPECT_FALSE(space.addParameter({"a", {1, 2}, 3, ""}).ok());
  EXPECT_TRUE(space.addParameter({"a", {1, 2}, 2, ""}).ok());
  EXPECT_FALSE(space.addParameter({"a", {3}, 3, ""}).ok());
  EXPECT_EQ(space.defaultConfiguration(), (nlohmann::json{{"a", 2}}));
}

TEST(SearchSpace, SampleIsDeterministicDistinctAndSeedDependent) {
  SearchSpace space = threeKnobs();
  auto a = space.sample(7, 42);
  auto b = space.sample(7, 42);
  auto c = space.sample(7, 43);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<std::string> distinct;
  for (const auto& x : a) {
    EXPECT_TRUE(space.contains(x));
    distinct.insert(configurationHash(x));
  }
  EXPECT_EQ(distinct.size(), 7u);
  EXPECT_EQ(space.sample(100, 1).size(), 18u);
}

TEST(SearchSpace, LabelFollowsParameterOrder) {
  SearchSpace space = threeKnobs();
  EXPECT_EQ(configurationLabel(space, {{"chunk", 16}, {"schedule", "dynamic"}, {"threads", 4}}),
            "threads=4 schedule=dynamic chunk=16");
}

TEST(Strategy, EveryStrategyMeasuresTheDefaultFirstWithinItsBudget) {
  SearchSpace space = threeKnobs();
  const Configuration def = space.defaultConfiguration();
  std::vector<Configuration> ranking = space.enumerate();
  std::reverse(ranking.begin(), ranking.end());

  auto predict = selectCandidates(space, {StrategyKind::kPredict, 5, 0, ranking});
  ASSERT_TRUE(predict.ok());
  ASSERT_EQ(predict->size(), 2u);
  EXPECT_EQ((*predict)[0], def);
  EXPECT_EQ((*predict)[1], ranking[0]);

  auto topk = selectCandidates(space, {StrategyKind::kTopK, 3, 0, ranking});
  ASSERT_TRUE(topk.ok());
  ASSERT_EQ(topk->size(), 4u);
  EXPECT_EQ((*topk)[3], ranking[2]);

  auto exhaustive = selectCandidates(space, {StrategyKind::kExhaustive, 0, 0, {}});
  ASSERT_TRUE(exhaustive.ok());
  EXPECT_EQ(exhaustive->size(), 18u);  // the default is one of the 18 and measured once
  EXPECT_EQ((*exhaustive)[0], def);

  auto random1 = selectCandidates(space, {StrategyKind::kRandom, 4, 9, {}});
  auto random2 = selectCandidates(space, {StrategyKind::kRandom, 4, 9, {}});
  ASSERT_TRUE(random1.ok());
  EXPECT_EQ(*random1, *random2);
  ASSERT_EQ(random1->size(), 5u);  // the default and four others
  EXPECT_EQ((*random1)[0], def);
  EXPECT_EQ(std::count(random1->begin(), random1->end(), def), 1);
  auto random3 = selectCandidates(space, {StrategyKind::kRandom, 4, 10, {}});
  ASSERT_TRUE(random3.ok());
  EXPECT_NE(*random1, *random3);
  // A budget as large as the space minus the default measures everything once.
  auto all = selectCandidates(space, {StrategyKind::kRandom, 17, 3, {}});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 18u);
}

TEST(Strategy, TopKSpendsItsBudgetBesidesTheDefault) {
  SearchSpace space = threeKnobs();
  const Configuration other1 = {{"threads", 4}, {"schedule", "dynamic"}, {"chunk", 1}};
  const Configuration other2 = {{"threads", 1}, {"schedule", "static"}, {"chunk", 1}};
  std::vector<Configuration> ranking = {space.defaultConfiguration(), other1, other2};
  auto topk = selectCandidates(space, {StrategyKind::kTopK, 2, 0, ranking});
  ASSERT_TRUE(topk.ok());
  ASSERT_EQ(topk->size(), 3u);
  EXPECT_EQ((*topk)[0], space.defaultConfiguration());
  EXPECT_EQ((*topk)[1], other1);
  EXPECT_EQ((*topk)[2], other2);
  // predict answers the model's best: when that is the default, nothing else is measured.
  auto predict = selectCandidates(space, {StrategyKind::kPredict, 1, 0, ranking});
  ASSERT_TRUE(predict.ok());
  EXPECT_EQ(predict->size(), 1u);
}

TEST(Strategy, RankedBesidesDropsOnlyTheDefault) {
  SearchSpace space = threeKnobs();
  const Configuration other = {{"threads", 4}, {"schedule", "dynamic"}, {"chunk", 1}};
  // The default, parsed from text with its keys in another order.
  const Configuration reordered =
      nlohmann::json::parse(R"({"chunk": "default", "schedule": "static", "threads": 2})");
  ASSERT_EQ(configurationHash(reordered), configurationHash(space.defaultConfiguration()));
  auto others =
      rankedBesides({{other, 0.9f}, {reordered, 0.8f}, {other, 0.1f}}, space.defaultConfiguration());
  ASSERT_EQ(others.size(), 2u);
  EXPECT_EQ(others[0].configuration, other);
  EXPECT_FLOAT_EQ(others[0].score, 0.9f);
  EXPECT_FLOAT_EQ(others[1].score, 0.1f);
}

TEST(Strategy, RankedStrategiesNeedARankingAndSkipForeignEntries) {
  SearchSpace space = threeKnobs();
  EXPECT_FALSE(selectCandidates(space, {StrategyKind::kPredict, 1, 0, {}}).ok());
  EXPECT_FALSE(selectCandidates(space, {StrategyKind::kRandom, 0, 0, {}}).ok());
  std::vector<Configuration> ranking = {{{"threads", 3}, {"schedule", "static"}, {"chunk", 1}},
                                        {{"threads", 1}, {"schedule", "static"}, {"chunk", 1}}};
  auto predict = selectCandidates(space, {StrategyKind::kPredict, 1, 0, ranking});
  ASSERT_TRUE(predict.ok());
  ASSERT_EQ(predict->size(), 2u);
  EXPECT_EQ((*predict)[1], ranking[1]);
  EXPECT_TRUE(parseStrategy("topk").ok());
  auto bad = parseStrategy("annealing");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("exhaustive"), std::string::npos);
}

}  // namespace
}  // namespace mirtune
