// Search strategies of `mirtune tune` over a finite space: which configurations to evaluate next, given every result
// so far. The same strategies drive a live session (tasks/tune/TuneWorkflow.h) and a replay of a brute-forced space
// (tasks/tune/Replay.h); both count evaluations the same way.
#pragma once

#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::tune {

/// Every configuration a strategy may pick, with numeric features (one column per parameter: the value when it is
/// a number or a boolean, else the index of the value in the parameter's list).
struct CandidateSet {
  std::vector<std::string> parameterNames;
  std::vector<Configuration> configurations;
  std::vector<float> features;  ///< row-major, configurations.size() x parameterNames.size()

  std::size_t size() const { return configurations.size(); }
  const float* row(std::size_t i) const { return features.data() + i * parameterNames.size(); }
};

/// The valid configurations of a space, in enumeration order.
CandidateSet candidateSetFrom(const SearchSpace& space);

/// One evaluation: which candidate, and its time (seconds or ms: strategies only compare times of one session)
/// or nullopt when it failed (compile, run, timeout, wrong output).
struct Observation {
  std::size_t candidate = 0;
  std::optional<double> time;
};

/// Earlier sessions of other kernels on the same platform, for the transfer strategy.
struct TransferSession {
  std::string kernel;                       ///< for messages
  std::vector<float> embedding;             ///< the kernel's MIREncoder embedding
  std::vector<std::string> parameterNames;  ///< its parameters (matched to the current ones by name)
  std::vector<std::vector<float>> features;  ///< one row per measured configuration, its parameters' order
  std::vector<double> times;                 ///< per row; ok results only
};
struct TransferData {
  std::vector<float> embedding;  ///< the kernel being tuned
  std::vector<TransferSession> sessions;
};

enum class StrategyKind {
  kExhaustive,  ///< every candidate in enumeration order
  kRandom,      ///< uniformly without replacement, seeded
  kModel,       ///< a cost model fit on this session's results proposes the next ones (with exploration)
  kTransfer,    ///< kModel whose cost model also learns from earlier sessions (TransferData)
};
inline constexpr std::array<std::string_view, 4> kTuneStrategyNames = {"exhaustive", "random", "model", "transfer"};
std::string_view tuneStrategyName(StrategyKind kind);
/// kUsage naming the valid names otherwise.
Expected<StrategyKind> parseTuneStrategy(std::string_view name);

struct StrategyOptions {
  StrategyKind kind = StrategyKind::kModel;
  std::uint64_t seed = 0;
  /// The evaluation budget the session will spend (strategies may plan their exploration by it); 0 = unknown.
  std::size_t budget = 0;
  const TransferData* transfer = nullptr;  ///< kTransfer only (required there)
};

/// Proposes configurations; the caller evaluates them and passes every result back on the next call.
class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;
  virtual StrategyKind kind() const = 0;
  /// Up to `count` candidates (indices into the set) not in `history`, best guess first; fewer (or none) when the
  /// space is exhausted. `history` holds every evaluation so far in order, including any made outside the strategy
  /// (the default configuration of a live session).
  virtual Expected<std::vector<std::size_t>> propose(const std::vector<Observation>& history, std::size_t count) = 0;
};

/// kInvalidInput for kTransfer without transfer data or an empty candidate set. The strategy refers to `candidates`
/// (and to the transfer data), which must outlive it.
Expected<std::unique_ptr<SearchStrategy>> makeStrategy(const CandidateSet& candidates,
                                                       const StrategyOptions& options);

}  // namespace mirtune::tune
