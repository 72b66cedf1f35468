// The unroll task's two knobs (unroll count; vectorize width x interleave count), how a configuration becomes
// a
// `#pragma clang loop` line, its compact token for the data set, and its features for the head, declared
// once.
#pragma once

#include "frontend/LoopPragmas.h"
#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::unroll {

/// unroll: parameter "unroll" in {default, disable, 2, 4, 8, 16}. vectorize: parameters "width" in {default,
/// 1, 2, 4, 8, 16} and "interleave" in {default, 1, 2, 4}, both default or both set (16 configurations).
/// "default" is the compiler's own choice: no pragma.
enum class Knob { kUnroll, kVectorize };

inline constexpr std::array<std::string_view, 2> kKnobNames = {"unroll", "vectorize"};
Expected<Knob> parseKnob(std::string_view name);
std::string_view knobName(Knob knob);

inline constexpr std::array<int, 4> kUnrollCounts = {2, 4, 8, 16};
inline constexpr std::array<int, 5> kVectorWidths = {1, 2, 4, 8, 16};
inline constexpr std::array<int, 3> kInterleaveCounts = {1, 2, 4};

SearchSpace makeUnrollSpace(Knob knob);

/// The pragma that applies a configuration to the loop on `line` (compilerDefault for the default).
LoopPragma pragmaFor(Knob knob, const Configuration& configuration, int line);

/// "default", "disable", "4" (unroll); "default", "4x2" (vectorize): no commas or spaces, for CSV and file
/// names.
std::string configurationToken(Knob knob, const Configuration& configuration);
/// The inverse; kInvalidInput naming the token when it is not one of the space's.
Expected<Configuration> parseConfigurationToken(Knob knob, std::string_view token);

struct ConfigFeature {
  std::string_view name;
  float (*value)(const Configuration& configuration);
};

/// The configuration's inputs to the head, per knob.
extern const std::array<ConfigFeature, 3> kUnrollFeatures;
extern const std::array<ConfigFeature, 4> kVectorizeFeatures;
std::vector<float> configFeatures(Knob knob, const Configuration& configuration);

}  // namespace mirtune::unroll
