// Search space enumeration, validation and seeded sampling.
#include "tuner/SearchSpace.h"

#include "database/CanonicalJson.h"
#include "support/Statistics.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mirtune {
namespace {

std::string valueText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

Status SearchSpace::addParameter(TunableParameter parameter) {
  if (parameter.name.empty()) return Error(ErrorCode::kInvalidInput, "a tunable parameter needs a name");
  for (const auto& existing : parameters_) {
    if (existing.name == parameter.name) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("tunable parameter '{}' declared twice", parameter.name));
    }
  }
  if (parameter.values.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("tunable parameter '{}' has no values", parameter.name));
  }
  std::set<std::string> seen;
  for (const auto& value : parameter.values) {
    if (!seen.insert(canonicalJson(value)).second) {
      return Error(ErrorCode::kInvalidInput, fmt::format("tunable parameter '{}' lists the value {} twice",
                                                         parameter.name, value.dump()));
    }
  }
  if (!seen.count(canonicalJson(parameter.defaultValue))) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("the default {} of tunable parameter '{}' is not one of its values",
                             parameter.defaultValue.dump(), parameter.name));
  }
  parameters_.push_back(std::move(parameter));
  return {};
}

void SearchSpace::addConstraint(Constraint constraint) {
  constraints_.push_back(std::move(constraint));
}

Configuration SearchSpace::defaultConfiguration() const {
  Configuration configuration = nlohmann::json::object();
  for (const auto& parameter : parameters_) configuration[parameter.name] = parameter.defaultValue;
  return configuration;
}

Status SearchSpace::validate(const Configuration& configuration) const {
  if (!configuration.is_object()) return Error(ErrorCode::kInvalidInput, "a configuration is a JSON object");
  for (const auto& [key, value] : configuration.items()) {
    auto found = std::find_if(parameters_.begin(), parameters_.end(),
                              [&](const TunableParameter& p) { return p.name == key; });
    if (found == parameters_.end()) {
      return Error(ErrorCode::kInvalidInput, fmt::format("unknown tunable parameter '{}'", key));
    }
    const std::string text = canonicalJson(value);
    bool known = std::any_of(found->values.begin(), found->values.end(),
                             [&](const nlohmann::json& v) { return canonicalJson(v) == text; });
    if (!known) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{} is not a value of tunable parameter '{}'", value.dump(), key));
    }
  }
  for (const auto& parameter : parameters_) {
    if (!configuration.contains(parameter.name)) {
      return Error(ErrorCode::kInvalidInput, fmt::format("the configuration lacks '{}'", parameter.name));
    }
  }
  for (const auto& constraint : constraints_) {
    if (!constraint.allows(configuration)) {
      return Error(ErrorCode::kInvalidInput, fmt::format("{} violates the constraint: {}",
                                                         configuration.dump(), constraint.description));
    }
  }
  return {};
}

std::vector<Configuration> SearchSpace::enumerate() const {
  std::vector<Configuration> all;
  if (parameters_.empty()) return all;
  std::vector<std::size_t> index(parameters_.size(), 0);
  while (true) {
    Configuration configuration = nlohmann::json::object();
    for (std::size_t p = 0; p < parameters_.size(); ++p)
      configuration[parameters_[p].name] = parameters_[p].values[index[p]];
    bool allowed = std::all_of(constraints_.begin(), constraints_.end(),
                               [&](const Constraint& c) { return c.allows(configuration); });
    if (allowed) all.push_back(std::move(configuration));
    // Odometer increment, last parameter fastest.
    std::size_t p = parameters_.size();
    while (p > 0) {
      --p;
      if (++index[p] < parameters_[p].values.size()) break;
      index[p] = 0;
      if (p == 0) return all;
    }
  }
}

std::uint64_t SearchSpace::size() const {
  return enumerate().size();
}

std::vector<Configuration> SearchSpace::sample(std::size_t n, std::uint64_t seed) const {
  std::vector<Configuration> all = enumerate();
  std::uint64_t state = seed;
  const std::size_t take = std::min(n, all.size());
  // Partial Fisher-Yates: the first `take` slots become the sample.
  for (std::size_t i = 0; i < take; ++i) {
    std::size_t j = i + static_cast<std::size_t>(splitmix64(state) % (all.size() - i));
    std::swap(all[i], all[j]);
  }
  all.resize(take);
  return all;
}

std::string configurationHash(const Configuration& configuration) {
  return canonicalJsonSha256(configuration);
}

std::string configurationLabel(const SearchSpace& space, const Configuration& configuration) {
  std::string label;
  for (const auto& parameter : space.parameters()) {
    if (!configuration.contains(parameter.name)) continue;
    if (!label.empty()) label += ' ';
    label += parameter.name + "=" + valueText(configuration.at(parameter.name));
  }
  return label;
}

}  // namespace mirtune
