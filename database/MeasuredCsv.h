// The outcome columns that every measured data set (OpenMP, unroll) writes after its own key and
// configuration columns: status, median_seconds, iqr_seconds. Read and written once here.
#pragma once

#include "database/MeasureStatus.h"
#include "support/Csv.h"
#include "support/Error.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// How one configuration's measurement ended, as a data-set row stores it.
struct MeasuredOutcome {
  MeasureStatus status = MeasureStatus::kOk;
  std::optional<double> median;  ///< seconds, when ok
  std::optional<double> iqr;     ///< seconds
};

/// The column names, in file order.
extern const std::vector<std::string> kMeasuredOutcomeColumns;

/// "status,median,iqr" for a CSV row (an absent time is an empty field).
std::string measuredOutcomeCsv(MeasureStatus status, const std::optional<double>& median,
                               const std::optional<double>& iqr);

/// The outcome of a row of `table`; errors name the file and line (an unknown status, a bad number, an ok row
/// without a positive median).
Expected<MeasuredOutcome> readMeasuredOutcome(const CsvTable& table, std::size_t row);

/// Reads several data files with `read(path)` (returning Expected<std::vector<Sample>>) and concatenates
/// their samples; the first error stops it.
template <typename Sample, typename Read>
Expected<std::vector<Sample>> readDataFiles(const std::vector<std::filesystem::path>& paths, Read read) {
  std::vector<Sample> all;
  for (const auto& path : paths) {
    auto samples = read(path);
    if (!samples) return samples.error();
    all.insert(all.end(), samples->begin(), samples->end());
  }
  return all;
}

}  // namespace mirtune
