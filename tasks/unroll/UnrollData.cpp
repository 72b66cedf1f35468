// Unroll data set CSV reading and writing.
#include "tasks/unroll/UnrollData.h"

#include "database/CanonicalJson.h"
#include "database/MeasuredCsv.h"
#include "support/Csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

namespace mirtune::unroll {

const std::vector<std::string> kUnrollDataColumns = {
    "platform", "cpu_model", "knob",          "suite",  "program",        "family",
    "function", "line",      "configuration", "status", "median_seconds", "iqr_seconds"};

const LoopMeasurement* LoopSample::find(const Configuration& configuration) const {
  const std::string wanted = canonicalJson(configuration);
  for (const auto& measurement : measurements) {
    if (canonicalJson(measurement.configuration) == wanted) return &measurement;
  }
  return nullptr;
}

std::optional<double> LoopSample::defaultMedian() const {
  const LoopMeasurement* m = find(makeUnrollSpace(knob).defaultConfiguration());
  if (!m || m->status != MeasureStatus::kOk || !m->median) return std::nullopt;
  return m->median;
}

std::optional<double> LoopSample::bestMedian() const {
  std::optional<double> best;
  for (const auto& m : measurements) {
    if (m.status == MeasureStatus::kOk && m.median && (!best || *m.median < *best)) best = m.median;
  }
  return best;
}

std::string LoopSample::key() const {
  return fmt::format("{}:{}", program, line);
}

std::string unrollDataToCsv(const std::vector<LoopSample>& samples) {
  std::string out = fmt::format("{}\n", fmt::join(kUnrollDataColumns, ","));
  for (const auto& s : samples) {
    for (const auto& m : s.measurements) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", csvField(s.platform), csvField(s.cpuModel),
                         knobName(s.knob), csvField(s.suite), csvField(s.program), csvField(s.family),
                         csvField(s.function), s.line, configurationToken(s.knob, m.configuration),
                         measuredOutcomeCsv(m.status, m.median, m.iqr));
    }
  }
  return out;
}

Expected<std::vector<LoopSample>> readUnrollData(const std::filesystem::path& path) {
  auto table = CsvTable::read(path);
  if (!table) return table.error();
  auto columns = table->requireColumns(kUnrollDataColumns);
  if (!columns) return columns.error();
  std::map<std::string, std::size_t>& column = *columns;
  std::vector<LoopSample> samples;
  std::map<std::string, std::size_t> sampleIndex;
  for (std::size_t row = 0; row < table->rows(); ++row) {
    const auto& record = table->record(row);
    auto field = [&](const char* name) -> const std::string& { return record[column[name]]; };
    auto bad = [&](const std::string& what) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}:{}: {}", path.string(), table->lineOf(row), what));
    };
    auto knob = parseKnob(field("knob"));
    if (!knob) return bad(knob.error().message());
    auto line = table->integer(row, column["line"]);
    if (!line) return line.error();
    const std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", field("platform"), field("knob"),
                                        field("suite"), field("program"), *line);
    auto [it, fresh] = sampleIndex.emplace(key, samples.size());
    if (fresh) {
      LoopSample sample;
      sample.platform = field("platform");
      sample.cpuModel = field("cpu_model");
      sample.knob = *knob;
      sample.suite = field("suite");
      sample.program = field("program");
      sample.family = field("family");
      sample.function = field("function");
      sample.line = static_cast<int>(*line);
      samples.push_back(std::move(sample));
    }
    LoopMeasurement m;
    auto configuration = parseConfigurationToken(*knob, field("configuration"));
    if (!configuration) return bad(configuration.error().message());
    m.configuration = std::move(*configuration);
    auto outcome = readMeasuredOutcome(*table, row);
    if (!outcome) return outcome.error();
    m.status = outcome->status;
    m.median = outcome->median;
    m.iqr = outcome->iqr;
    if (samples[it->second].find(m.configuration)) return bad("configuration listed twice for this loop");
    samples[it->second].measurements.push_back(std::move(m));
  }
  return samples;
}

Expected<std::vector<LoopSample>> readUnrollData(const std::vector<std::filesystem::path>& paths) {
  return readDataFiles<LoopSample>(paths,
                                   [](const std::filesystem::path& path) { return readUnrollData(path); });
}

}  // namespace mirtune::unroll
