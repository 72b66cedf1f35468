// Candidate selection for the predict, topk, exhaustive and random strategies.
#include "tuner/Strategy.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mirtune {

std::string_view strategyName(StrategyKind kind) {
  return kStrategyNames[static_cast<std::size_t>(kind)];
}

Expected<StrategyKind> parseStrategy(std::string_view name) {
  for (std::size_t i = 0; i < kStrategyNames.size(); ++i) {
    if (kStrategyNames[i] == name) return static_cast<StrategyKind>(i);
  }
  return Error(ErrorCode::kUsage, fmt::format("unknown strategy '{}' (expected one of: {})", name,
                                              fmt::join(kStrategyNames, ", ")));
}

Expected<std::vector<Configuration>> selectCandidates(const SearchSpace& space,
                                                      const CandidateRequest& request) {
  const Configuration def = space.defaultConfiguration();
  const std::string defaultHash = configurationHash(def);
  std::vector<Configuration> picks;
  switch (request.kind) {
    case StrategyKind::kPredict:
    case StrategyKind::kTopK: {
      const bool predict = request.kind == StrategyKind::kPredict;
      const std::size_t want = predict ? 1 : request.budget;
      if (want == 0) return Error(ErrorCode::kInvalidInput, "the topk strategy needs a budget of at least 1");
      if (request.ranking.empty()) {
        return Error(ErrorCode::kInvalidInput,
                     fmt::format("the {} strategy needs a model ranking", strategyName(request.kind)));
      }
      std::set<std::string> taken;
      for (const auto& configuration : request.ranking) {
        if (picks.size() == want) break;
        if (!space.contains(configuration)) continue;
        const std::string hash = configurationHash(configuration);
        // predict answers the model's best even when that is the default (then nothing else is measured);
        // topk spends its budget on configurations other than the default, which is measured anyway.
        if (hash == defaultHash) {
          if (predict) break;
          continue;
        }
        if (taken.insert(hash).second) picks.push_back(configuration);
      }
      break;
    }
    case StrategyKind::kExhaustive:
      picks = space.enumerate();
      break;
    case StrategyKind::kRandom: {
      if (request.budget == 0)
        return Error(ErrorCode::kInvalidInput, "the random strategy needs a budget of at least 1");
      // One draw more than the budget, so that dropping the default still leaves `budget` others.
      picks = space.sample(request.budget + 1, request.seed);
      picks.erase(std::remove_if(picks.begin(), picks.end(),
                                 [&](const Configuration& c) { return configurationHash(c) == defaultHash; }),
                  picks.end());
      if (picks.size() > request.budget) picks.resize(request.budget);
      break;
    }
  }
  std::vector<Configuration> candidates = {def};
  for (auto& configuration : picks) {
    if (configurationHash(configuration) != defaultHash) candidates.push_back(std::move(configuration));
  }
  return candidates;
}

std::vector<RankedConfiguration> rankedBesides(const std::vector<RankedConfiguration>& ranked,
                                               const Configuration& defaultConfiguration) {
  const std::string skipped = configurationHash(defaultConfiguration);
  std::vector<RankedConfiguration> others;
  for (const RankedConfiguration& entry : ranked) {
    if (configurationHash(entry.configuration) != skipped) others.push_back(entry);
  }
  return others;
}

}  // namespace mirtune
