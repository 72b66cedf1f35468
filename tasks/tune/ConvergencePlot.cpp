// `mirtune tune plot`: the best time found after each evaluation of sessions (T4 files or database sessions),
// as a PNG line plot with the default's time.
#include "tasks/tune/ConvergencePlot.h"

#include "database/Database.h"
#include "support/Files.h"
#include "support/LinePlot.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>

namespace mirtune::tune {
namespace fs = std::filesystem;

namespace {

/// One input of `tune plot` as a series of best-so-far times (ms) and the default's time.
struct PlotInput {
  std::string label;
  std::vector<double> bestSoFar;  ///< ms; NaN before the first correct run
  std::optional<double> defaultMs;
};

Expected<PlotInput> plotInputFromT4(const std::string& file) {
  auto text = readFile(file);
  if (!text) return text.error();
  const nlohmann::json json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.contains("results") || !json["results"].is_array()) {
    return makeError(ErrorCode::kInvalidInput, "{}: not a T4 results file (no \"results\" list)", file);
  }
  PlotInput input;
  input.label = fs::path(file).stem().string();
  std::optional<double> best;
  for (std::size_t i = 0; i < json["results"].size(); ++i) {
    const nlohmann::json& result = json["results"][i];
    std::optional<double> time;
    if (result.is_object() && result.value("invalidity", "") == "correct" &&
        result.contains("measurements") && result["measurements"].is_array()) {
      for (const nlohmann::json& m : result["measurements"]) {
        if (m.is_object() && m.value("name", "") == "time" && m.contains("value") && m["value"].is_number()) {
          time = m["value"].get<double>();
        }
      }
      if (!time)
        return makeError(ErrorCode::kInvalidInput, "{}: results[{}] is correct but has no time", file, i);
    }
    if (i == 0) input.defaultMs = time;
    if (time && (!best || *time < *best)) best = time;
    input.bestSoFar.push_back(best.value_or(std::nan("")));
  }
  return input;
}

Expected<PlotInput> plotInputFromSession(const Database& database, std::int64_t sessionId) {
  auto measurements = database.listMeasurements(sessionId);
  if (!measurements) return measurements.error();
  if (measurements->empty()) {
    return makeError(ErrorCode::kNotFound, "{}: session {} has no measurements", database.path().string(),
                     sessionId);
  }
  PlotInput input;
  input.label = fmt::format("session {}", sessionId);
  std::optional<double> best;
  for (std::size_t i = 0; i < measurements->size(); ++i) {
    const MeasurementRecord& record = (*measurements)[i];
    std::optional<double> time;
    if (record.status == MeasureStatus::kOk && record.medianSeconds) time = *record.medianSeconds * 1e3;
    if (i == 0) input.defaultMs = time;
    if (time && (!best || *time < *best)) best = time;
    input.bestSoFar.push_back(best.value_or(std::nan("")));
  }
  return input;
}

}  // namespace

Status writeConvergencePlot(const std::vector<std::string>& inputs, const fs::path& databasePath,
                            const fs::path& output, const std::string& title) {
  if (output.empty()) return Error(ErrorCode::kUsage, "tune plot needs -o FILE.png");
  LinePlot plot;
  plot.title = title.empty() ? "Convergence: best time found" : title;
  plot.xLabel = "evaluations";
  plot.yLabel = "best time so far (ms)";
  std::optional<Database> database;
  std::optional<double> defaultMs;
  for (const std::string& input : inputs) {
    Expected<PlotInput> read = Error(ErrorCode::kInternal, "unread");
    const bool isSession =
        !input.empty() && input.find_first_not_of("0123456789") == std::string::npos && !fs::exists(input);
    if (isSession) {
      if (!database) {
        auto opened = Database::open(databasePath.string(), Database::OpenMode::kExisting);
        if (!opened) return opened.error();
        database.emplace(std::move(*opened));
      }
      read = plotInputFromSession(*database, std::stoll(input));
    } else {
      read = plotInputFromT4(input);
    }
    if (!read) return read.error();
    PlotSeries series;
    series.label = read->label;
    series.steps = true;
    for (std::size_t i = 0; i < read->bestSoFar.size(); ++i) {
      if (std::isnan(read->bestSoFar[i])) continue;
      series.x.push_back(static_cast<double>(i + 1));
      series.y.push_back(read->bestSoFar[i]);
    }
    if (series.x.empty())
      return makeError(ErrorCode::kInvalidInput, "{}: no configuration ran correctly", input);
    if (!defaultMs) defaultMs = read->defaultMs;
    plot.series.push_back(std::move(series));
  }
  if (defaultMs) plot.horizontalLines.emplace_back(*defaultMs, fmt::format("default {:.3g} ms", *defaultMs));
  return writeLinePlotPng(plot, output);
}

}  // namespace mirtune::tune
