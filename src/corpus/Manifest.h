// The corpus on disk (manifest.jsonl, summary.json, modules/): records, counts, JSON conversions and readers.
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

inline constexpr int kCorpusFormatVersion = 1;
inline constexpr const char* kCorpusManifestFile = "manifest.jsonl";
inline constexpr const char* kCorpusSummaryFile = "summary.json";
inline constexpr const char* kCorpusModulesDirectory = "modules";
inline constexpr const char* kCorpusCacheFile = "compile-cache.jsonl";

/// One distinct module of the corpus.
struct CorpusRecord {
  std::string irSha256;  ///< IrModule::irSha256() of the module: the corpus key
  std::string program;   ///< "<family>:<name>": shared by a program's -O variants (and its .ll twin), so
                         ///< held-out data can be split by program
  std::string source;    ///< kCorpusSources name of the source that produced it first
  std::string origin;    ///< path inside the data set or archive ("devmap/kernels.tar.bz2:kernels/x.cl"), or
                         ///< "seed:N" for csmith
  std::string language;  ///< languageName(): "opencl", "c", "cxx", "cuda", "llvm"
  std::optional<int> optLevel;   ///< -O level it was compiled at; empty for IR taken as it is
  std::size_t functions = 0;     ///< defined functions
  std::size_t instructions = 0;  ///< instructions over all defined functions
  std::string file;              ///< bitcode file relative to the corpus folder: modules/<2 hex>/<sha>.bc
};

/// Counters of one source (or the totals). Units are compilations: a program compiled at four -O levels is
/// four units; an .ll file is one.
struct CorpusSourceCounts {
  std::string source;
  bool skipped = false;  ///< the source was selected but could not be used (data absent, csmith missing)
  std::string skipReason;
  std::size_t programs = 0;          ///< programs listed (after --limit-per-source)
  std::size_t programsCompiled = 0;  ///< programs with at least one unit compiled
  std::size_t attempted = 0;         ///< units tried (= compiled + failed)
  std::size_t compiled = 0;
  std::size_t failed = 0;
  std::size_t duplicates = 0;  ///< compiled units whose module an earlier unit already gave
  std::map<std::string, std::size_t> duplicatesOf;  ///< duplicates by the source that holds the record
  std::size_t stored = 0;                           ///< records (= compiled - duplicates)
  std::size_t newFiles = 0;         ///< records whose bitcode file this run wrote (the rest existed already)
  std::size_t cached = 0;           ///< units answered by the compile cache instead of compiling
  std::vector<std::string> errors;  ///< failure messages of the first few failing programs, in build order
};

/// Nearest-rank percentiles of the records' instruction counts.
struct CorpusInstructionStats {
  std::size_t min = 0, p10 = 0, p25 = 0, p50 = 0, p75 = 0, p90 = 0, p99 = 0, max = 0;
  double mean = 0;
};

/// What summary.json holds.
struct CorpusSummary {
  int formatVersion = kCorpusFormatVersion;
  std::vector<CorpusSourceCounts> sources;  ///< the selected sources, in build order
  CorpusSourceCounts totals;                ///< sums over sources (source = "total")
  std::size_t records = 0;                  ///< lines in manifest.jsonl
  std::size_t keptRecords = 0;              ///< of those, records of sources this build did not name
  std::uint64_t moduleBytes = 0;            ///< bytes of the records' bitcode files
  CorpusInstructionStats instructions;
  nlohmann::ordered_json tool;     ///< versions: mirtune, git commit, clang, csmith
  nlohmann::ordered_json options;  ///< the options the corpus was built with
  double wallSeconds = 0;
};

/// "modules/ab/abcdef….bc" for a hash.
std::string corpusModuleFile(const std::string& irSha256);

nlohmann::ordered_json corpusRecordToJson(const CorpusRecord& record);
Expected<CorpusRecord> corpusRecordFromJson(const nlohmann::json& json);
nlohmann::ordered_json corpusSourceCountsToJson(const CorpusSourceCounts& counts);
Expected<CorpusSourceCounts> corpusSourceCountsFromJson(const nlohmann::json& json);
nlohmann::ordered_json corpusSummaryToJson(const CorpusSummary& summary);
Expected<CorpusSummary> corpusSummaryFromJson(const nlohmann::json& json);

CorpusInstructionStats corpusInstructionStats(std::vector<std::size_t> instructionCounts);

/// Reads DIR/manifest.jsonl. Errors name the file and line.
Expected<std::vector<CorpusRecord>> readCorpusManifest(const std::filesystem::path& corpusDirectory);
/// Reads DIR/summary.json.
Expected<CorpusSummary> readCorpusSummary(const std::filesystem::path& corpusDirectory);

/// A corpus read back and cross-checked: summary against manifest, manifest against the files on disk.
struct CorpusInspection {
  CorpusSummary summary;
  std::map<std::string, std::size_t> recordsPerSource;  ///< counted from the manifest
  std::size_t distinctPrograms = 0;
  std::size_t missingFiles = 0;  ///< manifest records without their bitcode file
  /// Files under modules/ that no record names: left by a build with other options or an interrupted write;
  /// harmless, so not a problem.
  std::size_t unlistedFiles = 0;
  std::uint64_t moduleBytes = 0;      ///< measured on disk
  std::vector<std::string> problems;  ///< inconsistencies, empty when all agrees
};

/// Reads both files and checks that they agree with each other and with modules/.
Expected<CorpusInspection> inspectCorpus(const std::filesystem::path& corpusDirectory);

/// Reads every record's bitcode back and recomputes its canonical hash on `jobs` threads (0 = all cores);
/// one message per file that is missing, unreadable or hashes differently. Empty when every file is right.
std::vector<std::string> verifyCorpusModules(const std::filesystem::path& corpusDirectory,
                                             const std::vector<CorpusRecord>& records, unsigned jobs = 0);

}  // namespace mirtune
