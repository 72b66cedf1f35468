// Text and JSON reports of a built or inspected corpus.
#include "corpus/CorpusReports.h"

#include "support/Progress.h"

#include <fmt/format.h>

#include <optional>

namespace mirtune {
namespace {

std::string mebibytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

// The counts per source; with `recordsPerSource`, a last column of the records the manifest holds.
std::string countsTable(const CorpusSummary& summary, const std::map<std::string, std::size_t>* recordsPerSource) {
  std::string text = fmt::format("{:<16}{:>9}{:>10}{:>9}{:>8}{:>11}{:>9}", "source", "programs", "attempted",
                                 "compiled", "failed", "duplicates", "stored");
  text += recordsPerSource != nullptr ? fmt::format("{:>10}\n", "manifest") : "\n";
  auto row = [&](const CorpusSourceCounts& c, std::optional<std::size_t> inManifest) {
    text += fmt::format("{:<16}{:>9}{:>10}{:>9}{:>8}{:>11}{:>9}", c.source, c.programs, c.attempted, c.compiled,
                        c.failed, c.duplicates, c.stored);
    if (inManifest) text += fmt::format("{:>10}", *inManifest);
    text += fmt::format("{}\n", c.skipped ? "  skipped: " + c.skipReason : "");
  };
  std::optional<std::size_t> totalInManifest;
  if (recordsPerSource != nullptr) totalInManifest = 0;
  for (const CorpusSourceCounts& counts : summary.sources) {
    std::optional<std::size_t> inManifest;
    if (recordsPerSource != nullptr) {
      auto it = recordsPerSource->find(counts.source);
      inManifest = it == recordsPerSource->end() ? 0 : it->second;
    }
    row(counts, inManifest);
  }
  if (recordsPerSource != nullptr) {
    for (const auto& [source, count] : *recordsPerSource) *totalInManifest += count;
  }
  row(summary.totals, totalInManifest);
  const CorpusInstructionStats& s = summary.instructions;
  text += fmt::format("records       {} distinct modules, {} of bitcode{}\n", summary.records,
                      mebibytes(summary.moduleBytes),
                      summary.keptRecords > 0
                          ? fmt::format(" ({} kept from sources not built this time)", summary.keptRecords)
                          : std::string());
  text += fmt::format("instructions  min {}  p10 {}  p25 {}  median {}  p75 {}  p90 {}  p99 {}  max {}  mean {:.1f}\n",
                      s.min, s.p10, s.p25, s.p50, s.p75, s.p90, s.p99, s.max, s.mean);
  text += fmt::format("built in      {} ({} jobs)\n", formatDuration(summary.wallSeconds),
                      summary.options.value("jobs", 0u));
  return text;
}

}  // namespace

std::string corpusBuildText(const CorpusSummary& summary, const std::string& directory) {
  return fmt::format("corpus        {}\n", directory) + countsTable(summary, nullptr);
}

Status verifyCorpusInspection(CorpusInspection& inspection, const std::filesystem::path& directory, unsigned jobs) {
  auto records = readCorpusManifest(directory);
  if (!records) return records.error();
  std::vector<std::string> problems = verifyCorpusModules(directory, *records, jobs);
  if (problems.size() > 10) {
    std::size_t more = problems.size() - 10;
    problems.resize(10);
    problems.push_back(fmt::format("… and {} more module files that do not verify", more));
  }
  inspection.problems.insert(inspection.problems.end(), problems.begin(), problems.end());
  return success();
}

nlohmann::ordered_json toJson(const CorpusInspection& inspection, const std::string& directory, bool verified) {
  nlohmann::ordered_json json;
  json["directory"] = directory;
  json["summary"] = corpusSummaryToJson(inspection.summary);
  json["manifest_records_per_source"] = inspection.recordsPerSource;
  json["distinct_programs"] = inspection.distinctPrograms;
  json["missing_files"] = inspection.missingFiles;
  json["unlisted_files"] = inspection.unlistedFiles;
  json["module_bytes_on_disk"] = inspection.moduleBytes;
  json["verified"] = verified;
  json["problems"] = inspection.problems;
  return json;
}

std::string textReport(const CorpusInspection& inspection, const std::string& directory, bool verified) {
  return fmt::format("corpus        {}\n", directory) + countsTable(inspection.summary, &inspection.recordsPerSource) +
         fmt::format("programs      {} distinct program ids in the manifest\n", inspection.distinctPrograms) +
         fmt::format("on disk       {} ({} files missing, {} files no record names){}\n",
                     mebibytes(inspection.moduleBytes), inspection.missingFiles, inspection.unlistedFiles,
                     verified ? ", every file's hash checked" : "");
}

}  // namespace mirtune
