// The unroll data set: every configuration of one knob measured for one loop of one program on one machine,
// stored as CSV (one row per configuration) so collections can be shipped, merged and retrained from.
#pragma once

#include "database/MeasureStatus.h"
#include "support/Error.h"
#include "tasks/unroll/UnrollSpace.h"
#include "tuner/SearchSpace.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::unroll {

struct LoopMeasurement {
  Configuration configuration;
  MeasureStatus status = MeasureStatus::kOk;
  std::optional<double> median;  ///< seconds (region timer, else process wall time), when ok
  std::optional<double> iqr;     ///< seconds
};

/// One loop of one program on one machine: its measured space.
struct LoopSample {
  std::string platform;  ///< fingerprint (first 12 hex digits)
  std::string cpuModel;
  Knob knob = Knob::kUnroll;
  std::string suite;    ///< neurovectorizer, openmp, file
  std::string program;  ///< corpus file name or app name
  std::string family;   ///< near-duplicates share it (cross-validation groups)
  std::string function;
  int line = 0;
  std::vector<LoopMeasurement> measurements;

  const LoopMeasurement* find(const Configuration& configuration) const;
  /// The default configuration's median when it ran correctly.
  std::optional<double> defaultMedian() const;
  /// Fastest ok median, or nullopt when nothing ran correctly.
  std::optional<double> bestMedian() const;
  /// "program:line".
  std::string key() const;
};

extern const std::vector<std::string> kUnrollDataColumns;

std::string unrollDataToCsv(const std::vector<LoopSample>& samples);
/// Rows grouped into samples by (platform, knob, suite, program, line), in first-appearance order. Errors
/// name file and line.
Expected<std::vector<LoopSample>> readUnrollData(const std::filesystem::path& path);
Expected<std::vector<LoopSample>> readUnrollData(const std::vector<std::filesystem::path>& paths);

}  // namespace mirtune::unroll
