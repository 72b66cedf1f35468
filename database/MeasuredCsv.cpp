// Reading and writing the outcome columns of measured data sets.
#include "database/MeasuredCsv.h"

#include <fmt/format.h>

namespace mirtune {

const std::vector<std::string> kMeasuredOutcomeColumns = {"status", "median_seconds", "iqr_seconds"};

std::string measuredOutcomeCsv(MeasureStatus status, const std::optional<double>& median,
                               const std::optional<double>& iqr) {
  auto number = [](const std::optional<double>& value) {
    return value ? fmt::format("{:.9g}", *value) : std::string();
  };
  return fmt::format("{},{},{}", measureStatusName(status), number(median), number(iqr));
}

Expected<MeasuredOutcome> readMeasuredOutcome(const CsvTable& table, std::size_t row) {
  auto bad = [&](const std::string& what) {
    return Error(ErrorCode::kInvalidInput, fmt::format("{}:{}: {}", table.name(), table.lineOf(row), what));
  };
  auto columns = table.requireColumns(kMeasuredOutcomeColumns);
  if (!columns) return columns.error();
  const auto& record = table.record(row);
  MeasuredOutcome outcome;
  auto status = parseMeasureStatus(record[columns->at("status")]);
  if (!status) return bad(status.error().message());
  outcome.status = *status;
  for (auto [name, target] :
       {std::pair{"median_seconds", &outcome.median}, std::pair{"iqr_seconds", &outcome.iqr}}) {
    const std::size_t column = columns->at(name);
    if (record[column].empty()) continue;
    auto value = table.number(row, column);
    if (!value) return value.error();
    *target = *value;
  }
  if (outcome.status == MeasureStatus::kOk && (!outcome.median || *outcome.median <= 0))
    return bad("an ok row needs a positive median");
  return outcome;
}

}  // namespace mirtune
