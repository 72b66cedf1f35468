// Search strategies: candidate features, no repeated proposals, exhaustive order, seeded random, the
// model-guided search against random on a structured synthetic space, its escape from a stalled basin, and transfer
// from an earlier session.
#include "tasks/tune/Search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace mirtune::tune {
namespace {

/// A structured space: 4 numeric parameters (10 x 8 x 8 x 2 = 1,280 configurations) and a string one.
SearchSpace syntheticSpace(bool withString = false) {
  SearchSpace space;
  auto add = [&](std::string name, std::vector<nlohmann::json> values) {
    TunableParameter parameter{std::move(name), values, values.front(), ""};
    EXPECT_TRUE(space.addParameter(std::move(parameter)).ok());
  };
  add("block", {1, 2, 4, 8, 16, 32, 64, 96, 128, 256});
  add("tile_x", {1, 2, 3, 4, 5, 6, 7, 8});
  add("tile_y", {1, 2, 3, 4, 5, 6, 7, 8});
  add("vector", {false, true});
  if (withString) add("layout", {"row", "col"});
  return space;
}

/// A time with interactions: a best block that depends on the tile, a valley in tile_y, a small vector gain.
double syntheticTime(const Configuration& c) {
  const double block = std::log2(c.at("block").get<double>());
  const double tileX = c.at("tile_x").get<double>(), tileY = c.at("tile_y").get<double>();
  const double bestBlock = 7.0 - 0.5 * tileX;
  double t = 1.0 + 0.15 * (block - bestBlock) * (block - bestBlock) + 0.08 * (tileY - 6) * (tileY - 6) +
             0.05 * tileX * tileY / 8.0;
  if (c.at("vector").get<bool>()) t *= 0.9;
  return t;
}

std::vector<std::size_t> run(SearchStrategy& strategy, const CandidateSet& set, std::size_t budget,
                             std::vector<Observation>& history) {
  std::vector<std::size_t> order;
  while (history.size() < budget) {
    auto picked = strategy.propose(history, 1);
    EXPECT_TRUE(picked.ok()) << picked.error().message();
    if (!picked.ok() || picked->empty()) break;
    order.push_back(picked->front());
    history.push_back(Observation{picked->front(), syntheticTime(set.configurations[picked->front()])});
  }
  return order;
}

double bestFraction(const CandidateSet& set, const std::vector<Observation>& history) {
  double optimum = 1e300, best = 1e300;
  for (const auto& configuration : set.configurations)
    optimum = std::min(optimum, syntheticTime(configuration));
  for (const auto& observation : history) best = std::min(best, *observation.time);
  return optimum / best;
}

TEST(Search, CandidateFeaturesAreValuesOrIndices) {
  const CandidateSet set = candidateSetFrom(syntheticSpace(true));
  ASSERT_EQ(set.size(), 2560u);
  ASSERT_EQ(set.parameterNames.size(), 5u);
  ASSERT_EQ(set.features.size(), 2560u * 5u);
  // The last configuration: block 256, tiles 8, vector true, layout "col" (index 1).
  const float* last = set.row(set.size() - 1);
  EXPECT_EQ(last[0], 256.0f);
  EXPECT_EQ(last[1], 8.0f);
  EXPECT_EQ(last[3], 1.0f);
  EXPECT_EQ(last[4], 1.0f);
}

TEST(Search, StrategyNamesParseAndUnknownOnesAreUsageErrors) {
  for (auto name : kTuneStrategyNames) {
    auto kind = parseTuneStrategy(name);
    ASSERT_TRUE(kind.ok());
    EXPECT_EQ(tuneStrategyName(*kind), name);
  }
  auto bad = parseTuneStrategy("annealing");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kUsage);
  EXPECT_NE(bad.error().message().find("exhaustive, random, model, transfer"), std::string::npos);
}

TEST(Search, RefusesAnEmptySpaceAndTransferWithoutData) {
  CandidateSet empty;
  empty.parameterNames = {"x"};
  EXPECT_FALSE(makeStrategy(empty, StrategyOptions{}).ok());
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  StrategyOptions options;
  options.kind = StrategyKind::kTransfer;
  auto refused = makeStrategy(set, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidInput);
}

TEST(Search, NoStrategyProposesADuplicateOrAnObservedCandidate) {
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  TransferData transfer;  // no sessions: transfer behaves as the model strategy
  for (auto kind :
       {StrategyKind::kExhaustive, StrategyKind::kRandom, StrategyKind::kModel, StrategyKind::kTransfer}) {
    StrategyOptions options;
    options.kind = kind;
    options.seed = 7;
    options.budget = 30;
    options.transfer = &transfer;
    auto strategy = makeStrategy(set, options);
    ASSERT_TRUE(strategy.ok()) << strategy.error().message();
    // A configuration evaluated outside the strategy (a default), one that failed, then proposals.
    std::vector<Observation> history = {{0, 3.0}, {17, std::nullopt}};
    run(**strategy, set, 24, history);
    auto batch = (*strategy)->propose(history, 6);
    ASSERT_TRUE(batch.ok()) << batch.error().message();
    EXPECT_EQ(batch->size(), 6u);
    std::set<std::size_t> seen;
    for (const auto& observation : history)
      EXPECT_TRUE(seen.insert(observation.candidate).second)
          << tuneStrategyName(kind) << " repeated " << observation.candidate;
    for (auto i : *batch)
      EXPECT_TRUE(seen.insert(i).second) << tuneStrategyName(kind) << " batch repeated " << i;
    Observation outside{set.size(), 1.0};
    history.push_back(outside);
    EXPECT_FALSE((*strategy)->propose(history, 1).ok()) << "a history naming no candidate must be refused";
  }
}

TEST(Search, ExhaustiveCoversEverythingInOrderThenStops) {
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  StrategyOptions options;
  options.kind = StrategyKind::kExhaustive;
  auto strategy = makeStrategy(set, options);
  ASSERT_TRUE(strategy.ok());
  std::vector<Observation> history = {{5, 1.0}};
  auto all = (*strategy)->propose(history, set.size() + 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), set.size() - 1);
  for (std::size_t k = 0; k < all->size(); ++k) EXPECT_EQ((*all)[k], k < 5 ? k : k + 1);
  for (auto i : *all) history.push_back({i, 1.0});
  auto none = (*strategy)->propose(history, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(Search, RandomIsDeterministicPerSeed) {
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  auto draw = [&](std::uint64_t seed) {
    StrategyOptions options;
    options.kind = StrategyKind::kRandom;
    options.seed = seed;
    auto strategy = makeStrategy(set, options);
    EXPECT_TRUE(strategy.ok());
    return *(*strategy)->propose({}, 20);
  };
  EXPECT_EQ(draw(3), draw(3));
  EXPECT_NE(draw(3), draw(4));
  // The splitmix64 stream is fixed: the same draw on every machine.
  EXPECT_EQ(draw(0).size(), 20u);
  auto first = draw(0);
  EXPECT_EQ(std::set<std::size_t>(first.begin(), first.end()).size(), 20u);
}

TEST(Search, ModelBeatsRandomOnAStructuredSpace) {
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  std::vector<double> model, random;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    for (auto kind : {StrategyKind::kModel, StrategyKind::kRandom}) {
      StrategyOptions options;
      options.kind = kind;
      options.seed = seed;
      options.budget = 25;
      auto strategy = makeStrategy(set, options);
      ASSERT_TRUE(strategy.ok());
      std::vector<Observation> history;
      run(**strategy, set, 25, history);
      (kind == StrategyKind::kModel ? model : random).push_back(bestFraction(set, history));
    }
  }
  std::sort(model.begin(), model.end());
  std::sort(random.begin(), random.end());
  const double modelMedian = (model[3] + model[4]) / 2, randomMedian = (random[3] + random[4]) / 2;
  EXPECT_GT(modelMedian, randomMedian + 0.05) << "model " << modelMedian << ", random " << randomMedian;
  const double modelMean = std::accumulate(model.begin(), model.end(), 0.0) / 8;
  const double randomMean = std::accumulate(random.begin(), random.end(), 0.0) / 8;
  EXPECT_GT(modelMean, randomMean) << "model " << modelMean << ", random " << randomMean;
  EXPECT_EQ(model.back(), 1.0) << "the model should find the optimum itself in at least one of 8 runs";
}

TEST(Search, ModelSteersAwayFromFailures) {
  // Every configuration with tile_x > 2 fails: after a few failures the model should stop proposing them.
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  StrategyOptions options;
  options.kind = StrategyKind::kModel;
  options.seed = 1;
  options.budget = 40;
  auto strategy = makeStrategy(set, options);
  ASSERT_TRUE(strategy.ok());
  std::vector<Observation> history;
  std::size_t lateFailures = 0;
  while (history.size() < 40) {
    auto picked = (*strategy)->propose(history, 1);
    ASSERT_TRUE(picked.ok() && !picked->empty());
    const auto i = picked->front();
    const bool fails = set.configurations[i].at("tile_x").get<int>() > 2;
    if (fails && history.size() >= 20) ++lateFailures;
    history.push_back(
        {i, fails ? std::nullopt : std::optional<double>(syntheticTime(set.configurations[i]))});
  }
  // 75% of the space fails; random picks would fail about 15 of the last 20.
  EXPECT_LE(lateFailures, 8u);
}

TEST(Search, ModelEscapesABasinThatStopsImproving) {
  // The evaluations so far cluster in one corner (small block and tiles) whose best stopped improving long ago,
  // and the design points elsewhere were slow: the trees then favour the corner, and only an escape leaves it.
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  auto stepOf = [&](std::size_t i, const char* name, std::vector<double> values) {
    const double value = set.configurations[i].at(name).get<double>();
    return static_cast<double>(std::find(values.begin(), values.end(), value) - values.begin()) /
           static_cast<double>(values.size() - 1);
  };
  const std::vector<double> blocks = {1, 2, 4, 8, 16, 32, 64, 96, 128, 256}, tiles = {1, 2, 3, 4, 5, 6, 7, 8};
  auto distance = [&](std::size_t a, std::size_t b) {
    double sum = 0;
    for (auto [name, values] : {std::pair{"block", blocks}, std::pair{"tile_x", tiles}, std::pair{"tile_y", tiles}}) {
      const double d = stepOf(a, name, values) - stepOf(b, name, values);
      sum += d * d;
    }
    return sum;
  };
  std::vector<Observation> history;
  std::vector<std::size_t> corner;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const auto& c = set.configurations[i];
    if (c.at("block").get<int>() <= 2 && c.at("tile_x").get<int>() <= 2 && c.at("tile_y").get<int>() <= 3) {
      history.push_back({i, corner.empty() ? 1.0 : 2.0});
      corner.push_back(i);
    }
  }
  ASSERT_EQ(corner.size(), 24u);
  StrategyOptions options;
  options.kind = StrategyKind::kModel;
  options.seed = 3;
  options.budget = 40;
  auto strategy = makeStrategy(set, options);
  ASSERT_TRUE(strategy.ok());
  // The space-filling design comes first (4 points at this budget); they are slow.
  auto design = (*strategy)->propose(history, 4);
  ASSERT_TRUE(design.ok());
  ASSERT_EQ(design->size(), 4u);
  for (auto i : *design) history.push_back({i, 3.0});
  double farthest = 0;
  for (int step = 0; step < 4; ++step) {
    auto picked = (*strategy)->propose(history, 1);
    ASSERT_TRUE(picked.ok() && picked->size() == 1u);
    double nearest = 1e300;
    for (auto i : corner) nearest = std::min(nearest, distance(picked->front(), i));
    farthest = std::max(farthest, nearest);
    history.push_back({picked->front(), 2.0});
  }
  // Half the range of one parameter, squared, is 0.25: an escape goes at least that far from the corner.
  EXPECT_GE(farthest, 0.25) << "every proposal stayed beside the stalled corner";
}

TEST(Search, TransferStartsWhereTheEarlierSessionFoundTheOptimum) {
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  // An earlier session of a related kernel: the same parameters (in another order, and one extra), measured
  // on a sample of configurations, with times on another scale.
  TransferSession session;
  session.kernel = "earlier";
  session.embedding = {0.5f, -0.25f};
  session.parameterNames = {"tile_y", "tile_x", "block", "vector", "unused"};
  for (std::size_t i = 0; i < set.size(); i += 3) {
    const float* row = set.row(i);
    session.features.push_back({row[2], row[1], row[0], row[3], 1.0f});
    session.times.push_back(40.0 * syntheticTime(set.configurations[i]));
  }
  TransferData transfer;
  transfer.embedding = {0.5f, -0.2f};
  transfer.sessions.push_back(session);
  StrategyOptions options;
  options.kind = StrategyKind::kTransfer;
  options.seed = 3;
  options.budget = 20;
  options.transfer = &transfer;
  auto strategy = makeStrategy(set, options);
  ASSERT_TRUE(strategy.ok()) << strategy.error().message();
  auto first = (*strategy)->propose({}, 1);
  ASSERT_TRUE(first.ok() && first->size() == 1u);
  double optimum = 1e300;
  for (const auto& configuration : set.configurations)
    optimum = std::min(optimum, syntheticTime(configuration));
  EXPECT_GE(optimum / syntheticTime(set.configurations[first->front()]), 0.95)
      << "first proposal " << set.configurations[first->front()].dump();

  // Sessions sharing no parameter are ignored: transfer is then the model strategy, proposal for proposal.
  TransferData unrelated;
  TransferSession other;
  other.parameterNames = {"threads"};
  other.features = {{1.0f}, {2.0f}, {4.0f}};
  other.times = {3.0, 2.0, 1.0};
  unrelated.sessions.push_back(other);
  StrategyOptions model;
  model.kind = StrategyKind::kModel;
  model.seed = 3;
  model.budget = 20;
  StrategyOptions fallback = model;
  fallback.kind = StrategyKind::kTransfer;
  fallback.transfer = &unrelated;
  auto a = makeStrategy(set, model);
  auto b = makeStrategy(set, fallback);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<Observation> historyA, historyB;
  EXPECT_EQ(run(**a, set, 12, historyA), run(**b, set, 12, historyB));
}

TEST(Search, TransferRecoversFromAMisleadingHistory) {
  // An earlier session whose times run the other way (its best is this space's worst): once this session's
  // results contradict it, the search must carry on as the model strategy and still find a good
  // configuration.
  const CandidateSet set = candidateSetFrom(syntheticSpace());
  TransferSession session;
  session.parameterNames = set.parameterNames;
  for (std::size_t i = 0; i < set.size(); i += 5) {
    session.features.emplace_back(set.row(i), set.row(i) + set.parameterNames.size());
    session.times.push_back(1.0 / syntheticTime(set.configurations[i]));
  }
  TransferData transfer;
  transfer.sessions.push_back(session);
  std::vector<double> misled, model;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    for (auto kind : {StrategyKind::kTransfer, StrategyKind::kModel}) {
      StrategyOptions options;
      options.kind = kind;
      options.seed = seed;
      options.budget = 30;
      options.transfer = &transfer;
      auto strategy = makeStrategy(set, options);
      ASSERT_TRUE(strategy.ok()) << strategy.error().message();
      std::vector<Observation> history;
      run(**strategy, set, 30, history);
      (kind == StrategyKind::kTransfer ? misled : model).push_back(bestFraction(set, history));
    }
  }
  std::sort(misled.begin(), misled.end());
  std::sort(model.begin(), model.end());
  EXPECT_GE(misled[1], 0.9) << "misled transfer should come within 10% of the optimum in 3 of 4 runs";
  EXPECT_GE(misled[1], model[0] - 0.05) << "misled transfer should not fall far behind the model strategy";
}

}  // namespace
}  // namespace mirtune::tune
