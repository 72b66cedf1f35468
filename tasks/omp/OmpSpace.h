// The OpenMP configuration space (threads, schedule, chunk), how a configuration reaches the program
// (environment variables), and its features for the head, declared once.
#pragma once

#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::omp {

/// full: every thread count 1..cores (powers of two and `cores` itself above 8 cores) plus one oversubscribed
/// value (2 x cores), 3 schedules, 6 chunks. small: threads {1, cores/2, cores, 2 x cores}, chunk {default,
/// 16}.
enum class SpaceSize { kFull, kSmall };

Expected<SpaceSize> parseSpaceSize(std::string_view name);
std::string_view spaceSizeName(SpaceSize size);

/// Thread counts of a space, ascending, without duplicates.
std::vector<int> threadCounts(int cores, SpaceSize size);

inline constexpr std::array<std::string_view, 3> kSchedules = {"static", "dynamic", "guided"};
/// Chunk sizes; 0 stands for "default" (the runtime's own: n/threads blocks for static, 1 otherwise).
inline constexpr std::array<int, 6> kChunks = {0, 1, 4, 16, 64, 256};

/// Parameters "threads", "schedule", "chunk" ("default" or an integer). The default configuration is what an
/// untuned program gets: all cores, static, default chunk.
SearchSpace makeOmpSpace(int cores, SpaceSize size);

/// The OMP_SCHEDULE value: "static", "dynamic,4", ...
std::string ompScheduleValue(const Configuration& configuration);
/// OMP_NUM_THREADS, OMP_SCHEDULE and OMP_DYNAMIC=false: always all of them, since libgomp and libomp differ
/// in their defaults.
std::map<std::string, std::string> ompEnvironment(const Configuration& configuration);

struct ConfigFeature {
  std::string_view name;
  float (*value)(const Configuration& configuration, int cores);
};

/// The configuration's inputs to the head.
extern const std::array<ConfigFeature, 8> kConfigFeatures;
std::vector<float> configFeatures(const Configuration& configuration, int cores);

}  // namespace mirtune::omp
