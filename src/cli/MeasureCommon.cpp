// Shared pieces of the measuring commands (omp, unroll).
#include "cli/MeasureCommon.h"

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

std::vector<std::string> splitArguments(const std::string& text) {
  std::istringstream words(text);
  std::vector<std::string> arguments;
  for (std::string word; words >> word;) arguments.push_back(word);
  return arguments;
}

}  // namespace mirtune::cli
