// Unroll and vectorize spaces, pragma text, configuration tokens and features.
#include "tasks/unroll/UnrollSpace.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace mirtune::unroll {
namespace {

// 0 for "default", 1 for "disable", else the count.
int unrollOf(const Configuration& c) {
  const auto& value = c.at("unroll");
  if (value.is_number()) return value.get<int>();
  return value.get<std::string>() == "disable" ? 1 : 0;
}

int numberOr0(const Configuration& c, const char* key) {
  const auto& value = c.at(key);
  return value.is_number() ? value.get<int>() : 0;
}

std::optional<int> parseInt(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Expected<Knob> parseKnob(std::string_view name) {
  if (name == "unroll") return Knob::kUnroll;
  if (name == "vectorize") return Knob::kVectorize;
  return Error(ErrorCode::kUsage, fmt::format("unknown knob '{}' (expected unroll or vectorize)", name));
}

std::string_view knobName(Knob knob) {
  return kKnobNames[static_cast<std::size_t>(knob)];
}

SearchSpace makeUnrollSpace(Knob knob) {
  SearchSpace space;
  // Distinct values with the default among them: addParameter cannot fail.
  if (knob == Knob::kUnroll) {
    std::vector<nlohmann::json> values = {"default", "disable"};
    for (int count : kUnrollCounts) values.emplace_back(count);
    (void)space.addParameter(
        {"unroll", values, "default", "#pragma clang loop unroll_count(N) / unroll(disable)"});
    return space;
  }
  std::vector<nlohmann::json> widths = {"default"};
  for (int width : kVectorWidths) widths.emplace_back(width);
  std::vector<nlohmann::json> interleaves = {"default"};
  for (int count : kInterleaveCounts) interleaves.emplace_back(count);
  (void)space.addParameter({"width", widths, "default", "#pragma clang loop vectorize_width(W)"});
  (void)space.addParameter({"interleave", interleaves, "default", "#pragma clang loop interleave_count(I)"});
  space.addConstraint(
      {"width and interleave are both the compiler's or both set",
       [](const Configuration& c) { return c.at("width").is_string() == c.at("interleave").is_string(); }});
  return space;
}

LoopPragma pragmaFor(Knob knob, const Configuration& configuration, int line) {
  if (knob == Knob::kUnroll) {
    const int count = unrollOf(configuration);
    if (count == 0) return LoopPragma::compilerDefault(line);
    if (count == 1) return LoopPragma::unrollDisable(line);
    return LoopPragma::unrollCount(line, count);
  }
  const int width = numberOr0(configuration, "width");
  const int interleave = numberOr0(configuration, "interleave");
  if (width == 0 || interleave == 0) return LoopPragma::compilerDefault(line);
  return LoopPragma::vectorize(line, width, interleave);
}

std::string configurationToken(Knob knob, const Configuration& configuration) {
  if (knob == Knob::kUnroll) {
    const int count = unrollOf(configuration);
    return count == 0 ? "default" : count == 1 ? "disable" : std::to_string(count);
  }
  const int width = numberOr0(configuration, "width");
  const int interleave = numberOr0(configuration, "interleave");
  return width == 0 || interleave == 0 ? "default" : fmt::format("{}x{}", width, interleave);
}

Expected<Configuration> parseConfigurationToken(Knob knob, std::string_view token) {
  Configuration configuration;
  if (knob == Knob::kUnroll) {
    if (token == "default" || token == "disable") {
      configuration = {{"unroll", std::string(token)}};
    } else if (auto count = parseInt(token)) {
      configuration = {{"unroll", *count}};
    }
  } else if (token == "default") {
    configuration = {{"width", "default"}, {"interleave", "default"}};
  } else if (auto x = token.find('x'); x != std::string_view::npos) {
    auto width = parseInt(token.substr(0, x));
    auto interleave = parseInt(token.substr(x + 1));
    if (width && interleave) configuration = {{"width", *width}, {"interleave", *interleave}};
  }
  if (configuration.is_null() || !makeUnrollSpace(knob).contains(configuration)) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("'{}' is not a configuration of the {} knob", token, knobName(knob)));
  }
  return configuration;
}

const std::array<ConfigFeature, 3> kUnrollFeatures = {{
    {"log2_unroll",
     [](const Configuration& c) { return std::log2(static_cast<float>(std::max(1, unrollOf(c)))); }},
    {"unroll_default", [](const Configuration& c) { return unrollOf(c) == 0 ? 1.0f : 0.0f; }},
    {"unroll_disable", [](const Configuration& c) { return unrollOf(c) == 1 ? 1.0f : 0.0f; }},
}};

const std::array<ConfigFeature, 4> kVectorizeFeatures = {{
    {"log2_width",
     [](const Configuration& c) {
       return std::log2(static_cast<float>(std::max(1, numberOr0(c, "width"))));
     }},
    {"log2_interleave",
     [](const Configuration& c) {
       return std::log2(static_cast<float>(std::max(1, numberOr0(c, "interleave"))));
     }},
    {"log2_lanes",
     [](const Configuration& c) {
       return std::log2(static_cast<float>(std::max(1, numberOr0(c, "width") * numberOr0(c, "interleave"))));
     }},
    {"vectorize_default", [](const Configuration& c) { return numberOr0(c, "width") == 0 ? 1.0f : 0.0f; }},
}};

std::vector<float> configFeatures(Knob knob, const Configuration& configuration) {
  std::vector<float> features;
  if (knob == Knob::kUnroll) {
    for (const auto& f : kUnrollFeatures) features.push_back(f.value(configuration));
  } else {
    for (const auto& f : kVectorizeFeatures) features.push_back(f.value(configuration));
  }
  return features;
}

}  // namespace mirtune::unroll
