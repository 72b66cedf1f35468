// The OpenMP data set: every configuration measured for an app at one size on one machine, stored as CSV
// (one row per configuration) so a collection can be shipped, merged and retrained from.
#pragma once

#include "database/MeasureStatus.h"
#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::omp {

struct OmpMeasurement {
  Configuration configuration;
  MeasureStatus status = MeasureStatus::kOk;
  std::optional<double> median;  ///< seconds (region timer, else process wall time), when ok
  std::optional<double> iqr;     ///< seconds
};

/// One app at one size on one machine: the measured space.
struct OmpSample {
  std::string platform;  ///< fingerprint (first 12 hex digits)
  std::string cpuModel;
  int cores = 0;
  std::string app;
  std::string size;
  std::vector<std::string> arguments;
  std::vector<OmpMeasurement> measurements;

  /// The measurement of a configuration, or null.
  const OmpMeasurement* find(const Configuration& configuration) const;
  /// Fastest ok median, or nullopt when nothing ran correctly.
  std::optional<double> bestMedian() const;
};

/// The samples that measured every configuration their platform's other samples measured (a collection cut
/// short leaves a partial sample, whose best would not be the oracle); the others' "app size platform" in
/// `dropped`.
std::vector<OmpSample> completeSamples(const std::vector<OmpSample>& samples,
                                       std::vector<std::string>& dropped);

/// Column names, in file order.
extern const std::vector<std::string> kOmpDataColumns;

std::string ompDataToCsv(const std::vector<OmpSample>& samples);
/// Rows grouped into samples by (platform, app, size), in first-appearance order. Errors name file and line.
Expected<std::vector<OmpSample>> readOmpData(const std::filesystem::path& path);
/// Several files read and concatenated.
Expected<std::vector<OmpSample>> readOmpData(const std::vector<std::filesystem::path>& paths);

}  // namespace mirtune::omp
