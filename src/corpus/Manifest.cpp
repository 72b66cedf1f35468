// Corpus manifest and summary: JSON conversions, readers and the consistency check behind `corpus info`.
#include "corpus/Manifest.h"

#include "frontend/Frontend.h"
#include "support/Files.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <sstream>
#include <thread>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

// Reads a field of the expected JSON type; a missing or mistyped field is an error naming it.
template <typename T>
Status readField(const nlohmann::json& json, const char* name, T& out) {
  auto it = json.find(name);
  if (it == json.end()) return makeError(ErrorCode::kInvalidInput, "missing field '{}'", name);
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return makeError(ErrorCode::kInvalidInput, "field '{}' has the wrong type", name);
  }
  return success();
}

}  // namespace

std::string corpusModuleFile(const std::string& irSha256) {
  return fmt::format("{}/{}/{}.bc", kCorpusModulesDirectory, irSha256.substr(0, 2), irSha256);
}

nlohmann::ordered_json corpusRecordToJson(const CorpusRecord& record) {
  nlohmann::ordered_json json;
  json["ir_sha256"] = record.irSha256;
  json["program"] = record.program;
  json["source"] = record.source;
  json["origin"] = record.origin;
  json["language"] = record.language;
  json["opt_level"] =
      record.optLevel ? nlohmann::ordered_json(*record.optLevel) : nlohmann::ordered_json(nullptr);
  json["functions"] = record.functions;
  json["instructions"] = record.instructions;
  json["file"] = record.file;
  return json;
}

Expected<CorpusRecord> corpusRecordFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return makeError(ErrorCode::kInvalidInput, "a record must be a JSON object");
  CorpusRecord record;
  for (auto [name, field] : {std::pair{"ir_sha256", &record.irSha256}, std::pair{"program", &record.program},
                             std::pair{"source", &record.source}, std::pair{"origin", &record.origin},
                             std::pair{"language", &record.language}, std::pair{"file", &record.file}}) {
    if (Status status = readField(json, name, *field); !status) return status.error();
  }
  if (Status status = readField(json, "functions", record.functions); !status) return status.error();
  if (Status status = readField(json, "instructions", record.instructions); !status) return status.error();
  auto level = json.find("opt_level");
  if (level == json.end()) return makeError(ErrorCode::kInvalidInput, "missing field 'opt_level'");
  if (level->is_number_integer()) {
    record.optLevel = level->get<int>();
  } else if (!level->is_null()) {
    return makeError(ErrorCode::kInvalidInput, "field 'opt_level' must be an integer or null");
  }
  if (record.irSha256.size() != 64 ||
      record.irSha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return makeError(ErrorCode::kInvalidInput, "field 'ir_sha256' is not a SHA-256 in lower-case hex");
  }
  return record;
}

nlohmann::ordered_json corpusSourceCountsToJson(const CorpusSourceCounts& counts) {
  nlohmann::ordered_json json;
  json["source"] = counts.source;
  json["skipped"] = counts.skipped;
  if (counts.skipped) json["skip_reason"] = counts.skipReason;
  json["programs"] = counts.programs;
  json["programs_compiled"] = counts.programsCompiled;
  json["attempted"] = counts.attempted;
  json["compiled"] = counts.compiled;
  json["failed"] = counts.failed;
  json["duplicates"] = counts.duplicates;
  nlohmann::ordered_json of = nlohmann::ordered_json::object();
  for (const auto& [source, count] : counts.duplicatesOf) of[source] = count;
  json["duplicates_of"] = of;
  json["stored"] = counts.stored;
  json["new_files"] = counts.newFiles;
  json["cached"] = counts.cached;
  json["errors"] = counts.errors;
  return json;
}

Expected<CorpusSourceCounts> corpusSourceCountsFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return makeError(ErrorCode::kInvalidInput, "source counts must be a JSON object");
  CorpusSourceCounts counts;
  if (Status status = readField(json, "source", counts.source); !status) return status.error();
  if (Status status = readField(json, "skipped", counts.skipped); !status) return status.error();
  if (counts.skipped) {
    if (Status status = readField(json, "skip_reason", counts.skipReason); !status) return status.error();
  }
  for (auto [name, field] :
       {std::pair{"programs", &counts.programs}, std::pair{"programs_compiled", &counts.programsCompiled},
        std::pair{"attempted", &counts.attempted}, std::pair{"compiled", &counts.compiled},
        std::pair{"failed", &counts.failed}, std::pair{"duplicates", &counts.duplicates},
        std::pair{"stored", &counts.stored}, std::pair{"new_files", &counts.newFiles},
        std::pair{"cached", &counts.cached}}) {
    if (Status status = readField(json, name, *field); !status)
      return status.error().withContext(counts.source);
  }
  if (Status status = readField(json, "duplicates_of", counts.duplicatesOf); !status) return status.error();
  if (Status status = readField(json, "errors", counts.errors); !status) return status.error();
  return counts;
}

nlohmann::ordered_json corpusSummaryToJson(const CorpusSummary& summary) {
  nlohmann::ordered_json json;
  json["format_version"] = summary.formatVersion;
  json["tool"] = summary.tool;
  json["options"] = summary.options;
  nlohmann::ordered_json sources = nlohmann::ordered_json::array();
  for (const CorpusSourceCounts& counts : summary.sources)
    sources.push_back(corpusSourceCountsToJson(counts));
  json["sources"] = sources;
  json["totals"] = corpusSourceCountsToJson(summary.totals);
  json["records"] = summary.records;
  json["kept_records"] = summary.keptRecords;
  json["module_bytes"] = summary.moduleBytes;
  const CorpusInstructionStats& s = summary.instructions;
  json["instructions"] = {{"min", s.min}, {"p10", s.p10}, {"p25", s.p25},
                          {"p50", s.p50}, {"p75", s.p75}, {"p90", s.p90},
                          {"p99", s.p99}, {"max", s.max}, {"mean", std::round(s.mean * 10.0) / 10.0}};
  json["wall_seconds"] = std::round(summary.wallSeconds * 10.0) / 10.0;
  return json;
}

Expected<CorpusSummary> corpusSummaryFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return makeError(ErrorCode::kInvalidInput, "the summary must be a JSON object");
  CorpusSummary summary;
  if (Status status = readField(json, "format_version", summary.formatVersion); !status)
    return status.error();
  if (summary.formatVersion != kCorpusFormatVersion) {
    return makeError(ErrorCode::kVersion,
                     "corpus format version {} (this mirtune reads version {}); rebuild it",
                     summary.formatVersion, kCorpusFormatVersion);
  }
  if (auto it = json.find("tool"); it != json.end()) summary.tool = *it;
  if (auto it = json.find("options"); it != json.end()) summary.options = *it;
  auto sources = json.find("sources");
  if (sources == json.end() || !sources->is_array()) {
    return makeError(ErrorCode::kInvalidInput, "missing array 'sources'");
  }
  for (const nlohmann::json& entry : *sources) {
    auto counts = corpusSourceCountsFromJson(entry);
    if (!counts) return counts.error().withContext("sources");
    summary.sources.push_back(std::move(*counts));
  }
  auto totals = json.find("totals");
  if (totals == json.end()) return makeError(ErrorCode::kInvalidInput, "missing field 'totals'");
  auto totalCounts = corpusSourceCountsFromJson(*totals);
  if (!totalCounts) return totalCounts.error().withContext("totals");
  summary.totals = std::move(*totalCounts);
  if (Status status = readField(json, "records", summary.records); !status) return status.error();
  if (json.contains("kept_records")) {  // absent from summaries written before it existed
    if (Status status = readField(json, "kept_records", summary.keptRecords); !status) return status.error();
  }
  if (Status status = readField(json, "module_bytes", summary.moduleBytes); !status) return status.error();
  if (Status status = readField(json, "wall_seconds", summary.wallSeconds); !status) return status.error();
  if (auto it = json.find("instructions"); it != json.end() && it->is_object()) {
    CorpusInstructionStats& s = summary.instructions;
    for (auto [name, field] : {std::pair{"min", &s.min}, std::pair{"p10", &s.p10}, std::pair{"p25", &s.p25},
                               std::pair{"p50", &s.p50}, std::pair{"p75", &s.p75}, std::pair{"p90", &s.p90},
                               std::pair{"p99", &s.p99}, std::pair{"max", &s.max}}) {
      if (Status status = readField(*it, name, *field); !status)
        return status.error().withContext("instructions");
    }
    if (Status status = readField(*it, "mean", s.mean); !status)
      return status.error().withContext("instructions");
  }
  return summary;
}

CorpusInstructionStats corpusInstructionStats(std::vector<std::size_t> instructionCounts) {
  CorpusInstructionStats stats;
  if (instructionCounts.empty()) return stats;
  std::sort(instructionCounts.begin(), instructionCounts.end());
  std::size_t n = instructionCounts.size();
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  auto rank = [&](double percent) {
    auto index = static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(n)));
    return instructionCounts[std::clamp<std::size_t>(index, 1, n) - 1];
  };
  stats.min = instructionCounts.front();
  stats.p10 = rank(10);
  stats.p25 = rank(25);
  stats.p50 = rank(50);
  stats.p75 = rank(75);
  stats.p90 = rank(90);
  stats.p99 = rank(99);
  stats.max = instructionCounts.back();
  double sum = 0;
  for (std::size_t count : instructionCounts) sum += static_cast<double>(count);
  stats.mean = sum / static_cast<double>(n);
  return stats;
}

Expected<std::vector<CorpusRecord>> readCorpusManifest(const fs::path& corpusDirectory) {
  fs::path path = corpusDirectory / kCorpusManifestFile;
  auto content = readFile(path);
  if (!content) return content.error();
  std::vector<CorpusRecord> records;
  std::istringstream lines(*content);
  std::string line;
  std::size_t lineNumber = 0;
  while (std::getline(lines, line)) {
    ++lineNumber;
    if (line.empty()) continue;
    nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded())
      return makeError(ErrorCode::kInvalidInput, "{}:{}: not JSON", path.string(), lineNumber);
    auto record = corpusRecordFromJson(json);
    if (!record) return record.error().withContext(fmt::format("{}:{}", path.string(), lineNumber));
    records.push_back(std::move(*record));
  }
  return records;
}

Expected<CorpusSummary> readCorpusSummary(const fs::path& corpusDirectory) {
  fs::path path = corpusDirectory / kCorpusSummaryFile;
  auto content = readFile(path);
  if (!content) return content.error();
  nlohmann::json json = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return makeError(ErrorCode::kInvalidInput, "{}: not JSON", path.string());
  auto summary = corpusSummaryFromJson(json);
  if (!summary) return summary.error().withContext(path.string());
  return summary;
}

Expected<CorpusInspection> inspectCorpus(const fs::path& corpusDirectory) {
  if (!fs::is_directory(corpusDirectory)) {
    return makeError(ErrorCode::kNotFound, "{}: no such corpus folder", corpusDirectory.string());
  }
  auto summary = readCorpusSummary(corpusDirectory);
  if (!summary) return summary.error();
  auto records = readCorpusManifest(corpusDirectory);
  if (!records) return records.error();

  CorpusInspection inspection;
  inspection.summary = std::move(*summary);
  std::set<std::string> hashes;
  std::set<std::string> programs;
  for (const CorpusRecord& record : *records) {
    ++inspection.recordsPerSource[record.source];
    programs.insert(record.program);
    if (!hashes.insert(record.irSha256).second) {
      inspection.problems.push_back(fmt::format("hash {} appears twice in the manifest", record.irSha256));
    }
    if (record.file != corpusModuleFile(record.irSha256)) {
      inspection.problems.push_back(fmt::format("record {} names file '{}'", record.irSha256, record.file));
    }
    std::error_code error;
    std::uintmax_t size = fs::file_size(corpusDirectory / record.file, error);
    if (error) {
      ++inspection.missingFiles;
    } else {
      inspection.moduleBytes += size;
    }
  }
  inspection.distinctPrograms = programs.size();
  std::set<std::string> listed;
  for (const CorpusRecord& record : *records) listed.insert(record.file);
  std::error_code walkError;
  fs::path modules = corpusDirectory / kCorpusModulesDirectory;
  for (fs::recursive_directory_iterator it(modules, walkError), end; !walkError && it != end;
       it.increment(walkError)) {
    if (it->is_regular_file() &&
        listed.count(it->path().lexically_relative(corpusDirectory).generic_string()) == 0) {
      ++inspection.unlistedFiles;
    }
  }
  const CorpusSummary& s = inspection.summary;
  if (s.records != records->size()) {
    inspection.problems.push_back(
        fmt::format("summary says {} records, the manifest has {}", s.records, records->size()));
  }
  for (const CorpusSourceCounts& counts : s.sources) {
    auto it = inspection.recordsPerSource.find(counts.source);
    std::size_t inManifest = it == inspection.recordsPerSource.end() ? 0 : it->second;
    if (counts.stored != inManifest) {
      inspection.problems.push_back(fmt::format("source {}: summary says {} stored, the manifest has {}",
                                                counts.source, counts.stored, inManifest));
    }
  }
  if (inspection.missingFiles > 0) {
    inspection.problems.push_back(
        fmt::format("{} module files named in the manifest are missing", inspection.missingFiles));
  }
  return inspection;
}

std::vector<std::string> verifyCorpusModules(const fs::path& corpusDirectory,
                                             const std::vector<CorpusRecord>& records, unsigned jobs) {
  std::vector<std::string> problemOf(records.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < records.size(); i = next++) {
      const CorpusRecord& record = records[i];
      auto module = compileFile(corpusDirectory / record.file);
      if (!module) {
        problemOf[i] = module.error().message();
      } else if (module->irSha256() != record.irSha256) {
        problemOf[i] = fmt::format("{}: canonical hash is {}, the manifest says {}", record.file,
                                   module->irSha256(), record.irSha256);
      }
    }
  };
  unsigned threadCount = jobs > 0 ? jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < threadCount; ++t) threads.emplace_back(work);
  for (std::thread& thread : threads) thread.join();
  std::vector<std::string> problems;
  for (std::string& problem : problemOf) {
    if (!problem.empty()) problems.push_back(std::move(problem));
  }
  return problems;
}

}  // namespace mirtune
