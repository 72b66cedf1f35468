// What the commands that measure programs share: this machine's platform record, the runner settings from
// their options, and splitting an --args string.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "support/Platform.h"
#include "tuner/TuningSession.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::cli {

/// This machine as probed and stored in the database.
struct Machine {
  PlatformInfo info;
  std::int64_t platformId = 0;
};

/// Probes the machine (with the runner beside mirtune) and stores its platform record.
Expected<Machine> probeMachine(Database& database);

/// Runner limits from command-line values; kUsage unless 1 <= minRepetitions <= maxRepetitions.
Expected<MeasurementSettings> measurementSettings(double buildTimeout, double runTimeout, double minTime,
                                                  int minRepetitions, int maxRepetitions);

/// "--args" split at white space (no quoting).
std::vector<std::string> splitArguments(const std::string& text);

}  // namespace mirtune::cli
