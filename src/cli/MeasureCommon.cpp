// Shared pieces of the measuring commands (omp, unroll).
#include "cli/MeasureCommon.h"

#include "support/Sha256.h"

#include <fmt/format.h>

#include <sstream>

namespace mirtune::cli {

Expected<Machine> probeMachine(Database& database) {
  Machine machine;
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  machine.info = probePlatform(probe);
  auto id = database.upsertPlatform(platformRecordFromProbe(machine.info));
  if (!id) return id.error();
  machine.platformId = *id;
  return machine;
}

Expected<MeasurementSettings> measurementSettings(double buildTimeout, double runTimeout, double minTime,
                                                  int minRepetitions, int maxRepetitions) {
  if (minRepetitions < 1 || maxRepetitions < minRepetitions) {
    return Error(ErrorCode::kUsage, "need 1 <= --min-repetitions <= --max-repetitions");
  }
  MeasurementSettings settings;
  settings.buildTimeoutSeconds = buildTimeout;
  settings.runTimeoutSeconds = runTimeout;
  settings.minTimeSeconds = minTime;
  settings.minRepetitions = minRepetitions;
  settings.maxRepetitions = maxRepetitions;
  return settings;
}

nlohmann::json settingsJson(const MeasurementSettings& settings) {
  return {{"min_time", settings.minTimeSeconds},
          {"min_repetitions", settings.minRepetitions},
          {"max_repetitions", settings.maxRepetitions},
          {"run_timeout", settings.runTimeoutSeconds}};
}

Expected<WorkloadRecord> sourceWorkload(const std::filesystem::path& source) {
  auto content = sha256File(source);
  if (!content) return content.error();
  WorkloadRecord workload;
  workload.contentSha256 = *content;
  workload.language = source.extension() == ".c" ? "c" : "cpp";
  workload.path = std::filesystem::absolute(source).lexically_normal().string();
  return workload;
}

std::string speedupText(const TunedConfiguration& result) {
  return result.speedup ? fmt::format("{:.3f}x", *result.speedup) : std::string("-");
}

nlohmann::json tunedConfigurationJson(const TunedConfiguration& result) {
  nlohmann::json json = {{"configuration", result.configuration},
                         {"status", measureStatusName(result.status)},
                         {"times", result.times},
                         {"timer", result.timer}};
  if (result.median) json["median_seconds"] = *result.median;
  if (result.spread) json["iqr_seconds"] = *result.spread;
  if (result.speedup) json["speedup"] = *result.speedup;
  if (!result.message.empty()) json["message"] = result.message;
  return json;
}

std::vector<std::string> splitArguments(const std::string& text) {
  std::istringstream words(text);
  std::vector<std::string> arguments;
  for (std::string word; words >> word;) arguments.push_back(word);
  return arguments;
}

}  // namespace mirtune::cli
