// Tunable parameters, constraints and configurations: the search space every task hands to the tuner.
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mirtune {

/// A configuration: a JSON object mapping each parameter name to one of its values. Its identity is the
/// SHA-256 of its canonical JSON (configurationHash), the same key the database stores.
using Configuration = nlohmann::json;

/// One knob: its name, the values it may take (in a meaningful order) and its default.
struct TunableParameter {
  std::string name;
  std::vector<nlohmann::json> values;
  nlohmann::json defaultValue;
  std::string help;  ///< one line for --help and tables
};

/// A rule a configuration must satisfy; `allows` sees a complete configuration.
struct Constraint {
  std::string description;  ///< e.g. "chunk only with a dynamic or guided schedule"
  std::function<bool(const Configuration&)> allows;
};

/// Parameters (in declaration order) and constraints. Enumeration order is lexicographic in the parameters'
/// value indices, first parameter slowest, so it is stable across runs and machines.
class SearchSpace {
 public:
  /// kInvalidInput for an empty or duplicate name, no values, duplicate values, or a default not among them.
  Status addParameter(TunableParameter parameter);
  void addConstraint(Constraint constraint);

  const std::vector<TunableParameter>& parameters() const { return parameters_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }

  /// Every parameter at its default (which need not satisfy the constraints; tasks keep it valid).
  Configuration defaultConfiguration() const;
  /// Ok, or kInvalidInput naming the first unknown or missing parameter, value not in the space, or violated
  /// constraint.
  Status validate(const Configuration& configuration) const;
  bool contains(const Configuration& configuration) const { return validate(configuration).ok(); }

  /// Every configuration that satisfies the constraints, in enumeration order.
  std::vector<Configuration> enumerate() const;
  /// Number of valid configurations.
  std::uint64_t size() const;
  /// Up to n distinct valid configurations drawn uniformly without replacement, deterministic in seed (own
  /// splitmix64 stream and Fisher-Yates over the enumeration, so every machine draws the same).
  std::vector<Configuration> sample(std::size_t n, std::uint64_t seed) const;

 private:
  std::vector<TunableParameter> parameters_;
  std::vector<Constraint> constraints_;
};

/// SHA-256 of the canonical JSON of a configuration (the database's configuration_sha256).
std::string configurationHash(const Configuration& configuration);
/// "threads=2 schedule=dynamic chunk=4": parameters in the space's order, strings unquoted.
std::string configurationLabel(const SearchSpace& space, const Configuration& configuration);

}  // namespace mirtune
