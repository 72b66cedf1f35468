// OpenMP space construction, environment and configuration features.
#include "tasks/omp/OmpSpace.h"

#include "tasks/tune/TuneSpec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace mirtune::omp {
namespace {

int chunkOf(const Configuration& configuration) {
  const auto& chunk = configuration.at("chunk");
  return chunk.is_number() ? chunk.get<int>() : 0;
}

float scheduleIs(const Configuration& configuration, std::string_view name) {
  return configuration.at("schedule").get<std::string>() == name ? 1.0f : 0.0f;
}

}  // namespace

Expected<SpaceSize> parseSpaceSize(std::string_view name) {
  if (name == "full") return SpaceSize::kFull;
  if (name == "small") return SpaceSize::kSmall;
  return Error(ErrorCode::kUsage, fmt::format("unknown space '{}' (expected full or small)", name));
}

std::string_view spaceSizeName(SpaceSize size) {
  return size == SpaceSize::kFull ? "full" : "small";
}

std::vector<int> threadCounts(int cores, SpaceSize size) {
  cores = std::max(cores, 1);
  std::set<int> counts = {1, cores, 2 * cores};
  if (size == SpaceSize::kFull) {
    if (cores <= 8) {
      for (int t = 1; t <= cores; ++t) counts.insert(t);
    } else {
      for (int t = 1; t <= cores; t *= 2) counts.insert(t);
    }
  } else {
    counts.insert(std::max(1, cores / 2));
  }
  return {counts.begin(), counts.end()};
}

SearchSpace makeOmpSpace(int cores, SpaceSize size) {
  SearchSpace space;
  std::vector<nlohmann::json> threads;
  for (int t : threadCounts(cores, size)) threads.emplace_back(t);
  std::vector<nlohmann::json> schedules(kSchedules.begin(), kSchedules.end());
  std::vector<nlohmann::json> chunks;
  for (int chunk : kChunks) {
    if (size == SpaceSize::kSmall && chunk != 0 && chunk != 16) continue;
    chunks.push_back(chunk == 0 ? nlohmann::json("default") : nlohmann::json(chunk));
  }
  // The values are distinct and the defaults are among them, so these cannot fail.
  (void)space.addParameter({"threads", threads, std::max(cores, 1), "OMP_NUM_THREADS"});
  (void)space.addParameter({"schedule", schedules, "static", "OMP_SCHEDULE kind"});
  (void)space.addParameter({"chunk", chunks, "default", "OMP_SCHEDULE chunk size"});
  return space;
}

// The variables are declared once, by the generic tuner's OpenMP applications (mirtune.Application.OpenMP).
const tune::OpenMpVariables kOmpVariables = {"threads", "schedule", "chunk"};

std::string ompScheduleValue(const Configuration& configuration) {
  return tune::openMpEnvironment(kOmpVariables, configuration).at("OMP_SCHEDULE");
}

std::map<std::string, std::string> ompEnvironment(const Configuration& configuration) {
  return tune::openMpEnvironment(kOmpVariables, configuration);
}

const std::array<ConfigFeature, 8> kConfigFeatures = {{
    {"threads_per_core",
     [](const Configuration& c, int cores) {
       return static_cast<float>(c.at("threads").get<int>()) / static_cast<float>(std::max(cores, 1));
     }},
    {"log2_threads",
     [](const Configuration& c, int) { return std::log2(static_cast<float>(c.at("threads").get<int>())); }},
    {"oversubscribed",
     [](const Configuration& c, int cores) { return c.at("threads").get<int>() > cores ? 1.0f : 0.0f; }},
    {"schedule_static", [](const Configuration& c, int) { return scheduleIs(c, "static"); }},
    {"schedule_dynamic", [](const Configuration& c, int) { return scheduleIs(c, "dynamic"); }},
    {"schedule_guided", [](const Configuration& c, int) { return scheduleIs(c, "guided"); }},
    {"log2_chunk",
     [](const Configuration& c, int) { return std::log2(1.0f + static_cast<float>(chunkOf(c))); }},
    {"chunk_default", [](const Configuration& c, int) { return chunkOf(c) == 0 ? 1.0f : 0.0f; }},
}};

std::vector<float> configFeatures(const Configuration& configuration, int cores) {
  std::vector<float> features;
  features.reserve(kConfigFeatures.size());
  for (const auto& feature : kConfigFeatures) features.push_back(feature.value(configuration, cores));
  return features;
}

}  // namespace mirtune::omp
