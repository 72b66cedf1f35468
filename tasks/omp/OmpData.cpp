// OpenMP data set CSV reading and writing.
#include "tasks/omp/OmpData.h"

#include "database/CanonicalJson.h"
#include "database/MeasuredCsv.h"
#include "support/Csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <set>
#include <sstream>

namespace mirtune::omp {

const std::vector<std::string> kOmpDataColumns = {"platform", "cpu_model", "cores",          "app",
                                                  "size",     "arguments", "threads",        "schedule",
                                                  "chunk",    "status",    "median_seconds", "iqr_seconds"};

const OmpMeasurement* OmpSample::find(const Configuration& configuration) const {
  const std::string wanted = canonicalJson(configuration);
  for (const auto& measurement : measurements) {
    if (canonicalJson(measurement.configuration) == wanted) return &measurement;
  }
  return nullptr;
}

std::optional<double> OmpSample::bestMedian() const {
  std::optional<double> best;
  for (const auto& m : measurements) {
    if (m.status == MeasureStatus::kOk && m.median && (!best || *m.median < *best)) best = m.median;
  }
  return best;
}

std::vector<OmpSample> completeSamples(const std::vector<OmpSample>& samples,
                                       std::vector<std::string>& dropped) {
  std::map<std::string, std::set<std::string>>
      configurations;  // platform -> every configuration measured there
  for (const auto& sample : samples) {
    for (const auto& m : sample.measurements)
      configurations[sample.platform].insert(canonicalJson(m.configuration));
  }
  std::vector<OmpSample> kept;
  for (const auto& sample : samples) {
    std::set<std::string> own;
    for (const auto& m : sample.measurements) own.insert(canonicalJson(m.configuration));
    if (own == configurations[sample.platform]) {
      kept.push_back(sample);
    } else {
      dropped.push_back(fmt::format("{} {} {}", sample.app, sample.size, sample.platform));
    }
  }
  return kept;
}

std::string ompDataToCsv(const std::vector<OmpSample>& samples) {
  std::string out = fmt::format("{}\n", fmt::join(kOmpDataColumns, ","));
  for (const auto& sample : samples) {
    for (const auto& m : sample.measurements) {
      const auto& c = m.configuration;
      const std::string chunk =
          c.at("chunk").is_string() ? c.at("chunk").get<std::string>() : c.at("chunk").dump();
      out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", csvField(sample.platform),
                         csvField(sample.cpuModel), sample.cores, csvField(sample.app), csvField(sample.size),
                         csvField(fmt::format("{}", fmt::join(sample.arguments, " "))),
                         c.at("threads").get<int>(), c.at("schedule").get<std::string>(), chunk,
                         measuredOutcomeCsv(m.status, m.median, m.iqr));
    }
  }
  return out;
}

Expected<std::vector<OmpSample>> readOmpData(const std::filesystem::path& path) {
  auto table = CsvTable::read(path);
  if (!table) return table.error();
  auto columns = table->requireColumns(kOmpDataColumns);
  if (!columns) return columns.error();
  std::map<std::string, std::size_t>& column = *columns;
  std::vector<OmpSample> samples;
  std::map<std::string, std::size_t> sampleIndex;
  for (std::size_t row = 0; row < table->rows(); ++row) {
    const auto& record = table->record(row);
    auto field = [&](const char* name) -> const std::string& { return record[column[name]]; };
    const std::string key = field("platform") + '\x1f' + field("app") + '\x1f' + field("size");
    auto [it, fresh] = sampleIndex.emplace(key, samples.size());
    if (fresh) {
      OmpSample sample;
      sample.platform = field("platform");
      sample.cpuModel = field("cpu_model");
      auto cores = table->integer(row, column["cores"]);
      if (!cores) return cores.error();
      sample.cores = static_cast<int>(*cores);
      sample.app = field("app");
      sample.size = field("size");
      std::istringstream words(field("arguments"));
      for (std::string word; words >> word;) sample.arguments.push_back(word);
      samples.push_back(std::move(sample));
    }
    OmpMeasurement m;
    auto threads = table->integer(row, column["threads"]);
    if (!threads) return threads.error();
    const std::string& chunk = field("chunk");
    m.configuration = {{"threads", *threads}, {"schedule", field("schedule")}};
    if (chunk == "default") {
      m.configuration["chunk"] = "default";
    } else {
      auto value = table->integer(row, column["chunk"]);
      if (!value) return value.error();
      m.configuration["chunk"] = *value;
    }
    auto outcome = readMeasuredOutcome(*table, row);
    if (!outcome) return outcome.error();
    m.status = outcome->status;
    m.median = outcome->median;
    m.iqr = outcome->iqr;
    samples[it->second].measurements.push_back(std::move(m));
  }
  return samples;
}

Expected<std::vector<OmpSample>> readOmpData(const std::vector<std::filesystem::path>& paths) {
  return readDataFiles<OmpSample>(paths, [](const std::filesystem::path& path) { return readOmpData(path); });
}

}  // namespace mirtune::omp
