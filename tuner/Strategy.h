// Search strategies: which configurations a tuning session measures, within a budget.
#pragma once

#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace mirtune {

/// How candidates are chosen. Every strategy measures the default configuration too (first), so a session
/// always reports a speedup over the default; the budget counts the other configurations.
enum class StrategyKind {
  kPredict,     ///< the model's best configuration only (nothing else when that is the default)
  kTopK,        ///< the model's best `budget` configurations other than the default
  kExhaustive,  ///< every configuration of the space (budget ignored)
  kRandom,      ///< `budget` configurations other than the default, drawn uniformly, seeded
};

inline constexpr std::array<std::string_view, 4> kStrategyNames = {"predict", "topk", "exhaustive", "random"};

std::string_view strategyName(StrategyKind kind);
/// kUsage naming the valid names otherwise.
Expected<StrategyKind> parseStrategy(std::string_view name);

struct CandidateRequest {
  StrategyKind kind = StrategyKind::kPredict;
  /// Configurations measured besides the default (predict: 1; topk: k; random: n).
  std::size_t budget = 1;
  std::uint64_t seed = 0;  ///< random only
  /// Configurations best first, as a model ranks them; required by predict and topk, which take the first
  /// entries the space contains (an entry outside the space is skipped).
  std::vector<Configuration> ranking;
};

/// A configuration with a model's score (higher = better), as a ranking lists it.
struct RankedConfiguration {
  Configuration configuration;
  float score = 0;
};

/// What a top-k budget measures after the default, in order: the ranking without the default configuration
/// (which every strategy measures anyway).
std::vector<RankedConfiguration> rankedBesides(const std::vector<RankedConfiguration>& ranked,
                                               const Configuration& defaultConfiguration);

/// The configurations to measure: the default first, then the strategy's picks in their order, without
/// duplicates. topk and random spend the whole budget on other configurations (the default is measured
/// anyway); predict measures only the default when the model ranks it first.
/// kInvalidInput when predict/topk has no ranking or the budget is 0 for a strategy that needs one.
Expected<std::vector<Configuration>> selectCandidates(const SearchSpace& space,
                                                      const CandidateRequest& request);

}  // namespace mirtune
