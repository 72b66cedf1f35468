// The corpus build: list the sources, compile on a thread pool, store bitcode, deduplicate in build order.
#include "corpus/CorpusBuilder.h"

#include "corpus/ProgramListing.h"
#include "frontend/Frontend.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "support/Sha256.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace mirtune {

namespace fs = std::filesystem;

// Each module is compiled in its own LLVMContext, so programs compile in parallel; deduplication runs after
// all threads are done and walks the programs in build order, so the manifest and the counts do not depend on
// which thread finished first.

namespace {

constexpr std::size_t kErrorsKeptPerSource = 5;
constexpr std::size_t kMaxErrorLength = 400;
// Bumped whenever canonicaliseModule() changes: cached hashes from an older version would be stale.
constexpr const char* kCacheFormat = "mirtune-corpus-cache/2";

// The result of compiling one program at one -O level (or taking one .ll file).
struct UnitOutcome {
  std::optional<int> optLevel;
  bool ok = false;
  std::string irSha256;
  std::size_t functions = 0;
  std::size_t instructions = 0;
  std::string error;
  bool cached = false;
  bool wroteFile = false;
};

struct CacheEntry {
  bool ok = false;
  std::string irSha256;
  std::size_t functions = 0;
  std::size_t instructions = 0;
  std::string error;
};

nlohmann::ordered_json cacheEntryToJson(const std::string& key, const CacheEntry& entry) {
  nlohmann::ordered_json json;
  json["key"] = key;
  if (entry.ok) {
    json["ir_sha256"] = entry.irSha256;
    json["functions"] = entry.functions;
    json["instructions"] = entry.instructions;
  } else {
    json["error"] = entry.error;
  }
  return json;
}

// Compile results keyed by everything that determines them, so an interrupted or extended build does not
// compile the same input twice. Entries loaded at the start are read without a lock; new ones are appended to
// the file as they arrive (an interrupted build keeps them) and the file is rewritten, sorted, at the end.
class CompileCache {
 public:
  CompileCache(fs::path path, bool readExisting) : path_(std::move(path)) {
    auto content = readFile(path_);
    if (content) {
      std::istringstream lines(*content);
      std::string line;
      while (std::getline(lines, line)) {
        // A line cut short by an interrupted run is simply not an entry.
        nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!json.is_object() || !json.contains("key") || !json["key"].is_string()) continue;
        CacheEntry entry;
        if (json.contains("ir_sha256")) {
          entry.ok = true;
          entry.irSha256 = json.value("ir_sha256", "");
          entry.functions = json.value("functions", std::size_t{0});
          entry.instructions = json.value("instructions", std::size_t{0});
        } else {
          entry.error = json.value("error", "");
        }
        std::string key = json["key"].get<std::string>();
        if (readExisting) {
          loaded_[key] = entry;
        } else {
          previous_[key] = std::move(entry);  // kept in the file, never answered from
        }
      }
    }
    journal_ = std::fopen(path_.c_str(), "a");
    if (journal_ == nullptr)
      logWarn("{}: cannot append to the compile cache; continuing without it", path_.string());
  }

  ~CompileCache() {
    if (journal_ != nullptr) std::fclose(journal_);
  }
  CompileCache(const CompileCache&) = delete;
  CompileCache& operator=(const CompileCache&) = delete;

  const CacheEntry* find(const std::string& key) const {
    auto it = loaded_.find(key);
    return it == loaded_.end() ? nullptr : &it->second;
  }

  void add(const std::string& key, const CacheEntry& entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    added_[key] = entry;
    if (journal_ != nullptr) {
      std::string line =
          cacheEntryToJson(key, entry).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), journal_);
      std::fflush(journal_);
    }
  }

  Status finish() {
    if (journal_ != nullptr) {
      std::fclose(journal_);
      journal_ = nullptr;
    }
    std::map<std::string, const CacheEntry*> merged;
    for (const auto& [key, entry] : previous_) merged[key] = &entry;
    for (const auto& [key, entry] : loaded_) merged[key] = &entry;
    for (const auto& [key, entry] : added_) merged[key] = &entry;
    std::string out;
    for (const auto& [key, entry] : merged) {
      out += cacheEntryToJson(key, *entry).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out += '\n';
    }
    return writeFileAtomically(path_, out);
  }

 private:
  fs::path path_;
  std::unordered_map<std::string, CacheEntry> loaded_;
  std::unordered_map<std::string, CacheEntry> previous_;
  std::mutex mutex_;
  std::unordered_map<std::string, CacheEntry> added_;
  std::FILE* journal_ = nullptr;
};

std::string truncateMessage(std::string message) {
  if (message.size() > kMaxErrorLength) {
    message.resize(kMaxErrorLength);
    message += "…";
  }
  return message;
}

// State shared by the worker threads.
class CorpusWorkers {
 public:
  CorpusWorkers(const CorpusOptions& options, fs::path outputDirectory, CompileCache& cache)
      : options_(options), outputDirectory_(std::move(outputDirectory)), cache_(cache) {
    toolKey_ = fmt::format("{}\n{}\n{}\n{}", kCacheFormat, toolVersion(), gitCommit(), clangVersion());
  }

  std::vector<UnitOutcome> process(const CorpusProgram& program) {
    std::vector<UnitOutcome> units;
    if (program.takeAsIs) {
      units.emplace_back();
    } else {
      for (int level : options_.optimizationLevels) units.emplace_back().optLevel = level;
    }
    std::string text;
    if (Status loaded = loadText(program, text); !loaded) {
      for (UnitOutcome& unit : units) unit.error = loaded.error().message();
      return units;
    }
    for (UnitOutcome& unit : units) compileUnit(program, text, unit);
    return units;
  }

 private:
  Status loadText(const CorpusProgram& program, std::string& text) const {
    if (program.csmithSeed) {
      auto generated = generateCsmithProgram(options_, *program.csmithSeed);
      if (!generated) return generated.error();
      text = std::move(*generated);
    } else if (!program.file.empty()) {
      auto content = readFile(program.file);
      if (!content) return content.error();
      text = std::move(*content);
    } else {
      text = program.text;
    }
    return success();
  }

  std::string cacheKey(const CorpusProgram& program, const std::string& text, const UnitOutcome& unit) const {
    Sha256 hash;
    hash.update(toolKey_);
    hash.update(fmt::format("\n{}\n{}\n{}\n{}\n", languageName(program.language), program.virtualName,
                            unit.optLevel ? std::to_string(*unit.optLevel) : std::string("as-is"),
                            program.keyMaterial));
    hash.update(text);
    auto digest = hash.finish();
    return toHex(digest.data(), digest.size());
  }

  void compileUnit(const CorpusProgram& program, const std::string& text, UnitOutcome& unit) {
    std::string key = program.cacheable ? cacheKey(program, text, unit) : std::string();
    if (!key.empty() && options_.useCache) {
      if (const CacheEntry* hit = cache_.find(key)) {
        if (!hit->ok || fs::exists(outputDirectory_ / corpusModuleFile(hit->irSha256))) {
          unit.ok = hit->ok;
          unit.irSha256 = hit->irSha256;
          unit.functions = hit->functions;
          unit.instructions = hit->instructions;
          unit.error = hit->error;
          unit.cached = true;
          return;
        }
      }
    }
    CompileOptions compile;
    compile.language = program.language;
    compile.optimizationLevel = unit.optLevel.value_or(2);
    compile.includeDirectories = program.includeDirectories;
    auto module = compileSource(text, program.virtualName, compile);
    if (!module) {
      unit.error = truncateMessage(module.error().message());
      if (!key.empty()) cache_.add(key, CacheEntry{false, {}, 0, 0, unit.error});
      return;
    }
    canonicaliseModule(module->module());
    unit.irSha256 = module->irSha256();
    unit.functions = module->functionCount();
    unit.instructions = module->instructionCount();
    if (Status stored = store(*module, unit); !stored) {
      unit.error = stored.error().message();  // not cached: a full disk is no property of the program
      return;
    }
    unit.ok = true;
    if (!key.empty()) cache_.add(key, CacheEntry{true, unit.irSha256, unit.functions, unit.instructions, {}});
  }

  // Writes the module's bitcode unless this run or an earlier one already did.
  Status store(IrModule& module, UnitOutcome& unit) {
    {
      std::lock_guard<std::mutex> lock(claimMutex_);
      if (!claimed_.insert(unit.irSha256).second) return success();
    }
    fs::path path = outputDirectory_ / corpusModuleFile(unit.irSha256);
    std::error_code error;
    if (fs::exists(path, error)) return success();
    fs::create_directories(path.parent_path(), error);
    llvm::SmallVector<char, 0> buffer;
    llvm::raw_svector_ostream stream(buffer);
    llvm::WriteBitcodeToFile(module.module(), stream);
    Status written = writeFileAtomically(path, std::string_view(buffer.data(), buffer.size()));
    if (!written) {
      std::lock_guard<std::mutex> lock(claimMutex_);
      claimed_.erase(unit.irSha256);  // let a later unit with the same module try again
      return written;
    }
    unit.wroteFile = true;
    return success();
  }

  const CorpusOptions& options_;
  fs::path outputDirectory_;
  CompileCache& cache_;
  std::string toolKey_;
  std::mutex claimMutex_;
  std::unordered_set<std::string> claimed_;
};

Status validate(const CorpusOptions& options) {
  if (options.outputDirectory.empty())
    return makeError(ErrorCode::kUsage, "no corpus folder given (--out DIR)");
  if (options.optimizationLevels.empty())
    return makeError(ErrorCode::kUsage, "no optimisation levels to compile at");
  for (int level : options.optimizationLevels) {
    if (level < 0 || level > 3)
      return makeError(ErrorCode::kUsage, "optimisation level must be 0..3, got {}", level);
  }
  std::vector<int> levels = options.optimizationLevels;
  std::sort(levels.begin(), levels.end());
  if (std::adjacent_find(levels.begin(), levels.end()) != levels.end()) {
    return makeError(ErrorCode::kUsage, "optimisation level repeated in {}",
                     fmt::join(options.optimizationLevels, ","));
  }
  return success();
}

nlohmann::ordered_json optionsToJson(const CorpusOptions& options, const std::vector<CorpusSource>& sources,
                                     unsigned jobs, const fs::path& dataDirectory,
                                     const fs::path& kernelsDirectory) {
  nlohmann::ordered_json json;
  std::vector<std::string> names;
  for (CorpusSource source : sources) names.emplace_back(corpusSourceName(source));
  json["sources"] = names;
  json["opt_levels"] = options.optimizationLevels;
  json["limit_per_source"] = options.limitPerSource;
  json["csmith_programs"] = options.csmithPrograms;
  json["csmith_seed"] = options.csmithSeed;
  json["csmith_arguments"] = options.csmithArguments;
  json["data_directory"] = dataDirectory.string();
  json["kernels_directory"] = kernelsDirectory.string();
  json["jobs"] = jobs;
  json["use_cache"] = options.useCache;
  return json;
}

}  // namespace

Expected<CorpusSummary> buildCorpus(const CorpusOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (Status valid = validate(options); !valid) return valid.error();

  fs::path out = options.outputDirectory;
  std::error_code error;
  fs::create_directories(out / kCorpusModulesDirectory, error);
  if (error || !fs::is_directory(out / kCorpusModulesDirectory)) {
    return makeError(ErrorCode::kIo, "cannot create the corpus folder {}: {}", out.string(),
                     error ? error.message() : "not a folder");
  }
  fs::path dataDir = options.dataDirectory.empty() ? dataDirectory() : options.dataDirectory;
  fs::path kernelsDir =
      options.kernelsDirectory.empty() ? sourceDirectory() / "kernels" : options.kernelsDirectory;
  std::vector<CorpusSource> sources;
  for (const CorpusSourceInfo& info : kCorpusSources) {
    if (options.sources.empty() ||
        std::find(options.sources.begin(), options.sources.end(), info.source) != options.sources.end()) {
      sources.push_back(info.source);
    }
  }
  unsigned jobs = options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());

  // List everything first: the total makes the progress line's ETA, and one queue over all sources keeps
  // every thread busy until the end.
  std::vector<ProgramListing> listings;
  std::vector<const CorpusProgram*> queue;
  std::size_t totalUnits = 0;
  for (CorpusSource source : sources) {
    listings.push_back(listCorpusPrograms(source, options, dataDir, kernelsDir));
    const ProgramListing& listing = listings.back();
    if (listing.skipReason) {
      logWarn("corpus: skipping {}: {}", corpusSourceName(source), *listing.skipReason);
    } else {
      logInfo("corpus: {}: {} programs", corpusSourceName(source), listing.programs.size());
    }
  }
  for (const ProgramListing& listing : listings) {
    for (const CorpusProgram& program : listing.programs) {
      queue.push_back(&program);
      totalUnits += program.takeAsIs ? 1 : options.optimizationLevels.size();
    }
  }

  CompileCache cache(out / kCorpusCacheFile, options.useCache);
  CorpusWorkers workers(options, out, cache);
  std::vector<std::vector<UnitOutcome>> outcomes(queue.size());
  std::atomic<std::size_t> next{0};
  std::mutex progressMutex;
  ProgressLine progress("corpus", totalUnits);
  auto work = [&] {
    for (std::size_t i = next++; i < queue.size(); i = next++) {
      const CorpusProgram& program = *queue[i];
      try {
        outcomes[i] = workers.process(program);
      } catch (const std::exception& e) {
        outcomes[i].assign(program.takeAsIs ? 1 : options.optimizationLevels.size(), UnitOutcome{});
        for (UnitOutcome& unit : outcomes[i]) unit.error = fmt::format("internal error: {}", e.what());
      }
      for (const UnitOutcome& unit : outcomes[i]) {
        if (!unit.ok) {
          logInfo("corpus: {} {}{}: {}", corpusSourceName(program.source), program.origin,
                  unit.optLevel ? fmt::format(" -O{}", *unit.optLevel) : std::string(), unit.error);
        }
      }
      std::lock_guard<std::mutex> lock(progressMutex);
      progress.advance(outcomes[i].size(), corpusSourceName(program.source));
    }
  };
  std::vector<std::thread> threads;
  unsigned threadCount =
      static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(1, queue.size())));
  for (unsigned t = 0; t < threadCount; ++t) threads.emplace_back(work);
  for (std::thread& thread : threads) thread.join();
  progress.finish();

  // Records of sources this build does not name stay (a build of one source adds it to an existing corpus); a
  // module this build makes again counts as their duplicate. A manifest that cannot be read stops the build
  // before anything is rewritten.
  std::vector<CorpusRecord> kept;
  if (fs::exists(out / kCorpusManifestFile)) {
    auto previous = readCorpusManifest(out);
    if (!previous) return previous.error();
    for (CorpusRecord& record : *previous) {
      auto source = parseCorpusSource(record.source);
      if (source && std::find(sources.begin(), sources.end(), *source) != sources.end()) continue;
      kept.push_back(std::move(record));
    }
  }

  // Deduplicate in build order: the first unit with a hash keeps the record.
  CorpusSummary summary;
  summary.totals.source = "total";
  summary.keptRecords = kept.size();
  std::vector<CorpusRecord> records;
  std::unordered_map<std::string, std::string> ownerOf;  // hash → source that holds the record
  for (const CorpusRecord& record : kept) ownerOf.emplace(record.irSha256, record.source);
  std::unordered_set<std::string> writtenNow;
  for (const auto& units : outcomes) {
    for (const UnitOutcome& unit : units) {
      if (unit.wroteFile) writtenNow.insert(unit.irSha256);
    }
  }
  std::size_t programIndex = 0;
  for (std::size_t s = 0; s < sources.size(); ++s) {
    const ProgramListing& listing = listings[s];
    CorpusSourceCounts counts;
    counts.source = std::string(corpusSourceName(sources[s]));
    if (listing.skipReason) {
      counts.skipped = true;
      counts.skipReason = *listing.skipReason;
    }
    counts.programs = listing.programs.size();
    for (const CorpusProgram& program : listing.programs) {
      const std::vector<UnitOutcome>& units = outcomes[programIndex++];
      bool anyCompiled = false;
      bool errorKept = false;
      for (const UnitOutcome& unit : units) {
        ++counts.attempted;
        if (unit.cached) ++counts.cached;
        if (!unit.ok) {
          ++counts.failed;
          // One message per program: its other levels usually fail the same way.
          if (!errorKept && counts.errors.size() < kErrorsKeptPerSource) {
            errorKept = true;
            counts.errors.push_back(fmt::format(
                "{}{}: {}", program.origin,
                unit.optLevel ? fmt::format(" -O{}", *unit.optLevel) : std::string(), unit.error));
          }
          continue;
        }
        ++counts.compiled;
        anyCompiled = true;
        auto [owner, inserted] = ownerOf.emplace(unit.irSha256, counts.source);
        if (!inserted) {
          ++counts.duplicates;
          ++counts.duplicatesOf[owner->second];
          continue;
        }
        ++counts.stored;
        if (writtenNow.count(unit.irSha256) > 0) ++counts.newFiles;
        CorpusRecord record;
        record.irSha256 = unit.irSha256;
        record.program = program.program;
        record.source = counts.source;
        record.origin = program.origin;
        record.language = std::string(languageName(program.language));
        record.optLevel = unit.optLevel;
        record.functions = unit.functions;
        record.instructions = unit.instructions;
        record.file = corpusModuleFile(unit.irSha256);
        records.push_back(std::move(record));
      }
      if (anyCompiled) ++counts.programsCompiled;
    }
    CorpusSourceCounts& t = summary.totals;
    t.programs += counts.programs;
    t.programsCompiled += counts.programsCompiled;
    t.attempted += counts.attempted;
    t.compiled += counts.compiled;
    t.failed += counts.failed;
    t.duplicates += counts.duplicates;
    for (const auto& [owner, count] : counts.duplicatesOf) t.duplicatesOf[owner] += count;
    t.stored += counts.stored;
    t.newFiles += counts.newFiles;
    t.cached += counts.cached;
    logInfo("corpus: {}: {} programs, {} compiled, {} failed, {} duplicates, {} stored", counts.source,
            counts.programs, counts.compiled, counts.failed, counts.duplicates, counts.stored);
    summary.sources.push_back(std::move(counts));
  }

  if (!kept.empty()) {
    logInfo("corpus: kept {} records of sources not built now", kept.size());
    records.insert(records.begin(), std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
    // One order whatever was built when: by source in build order (unknown names last), then as built.
    auto rank = [](const CorpusRecord& record) {
      auto source = parseCorpusSource(record.source);
      return source ? static_cast<std::size_t>(*source) : kCorpusSources.size();
    };
    std::stable_sort(records.begin(), records.end(),
                     [&](const CorpusRecord& a, const CorpusRecord& b) { return rank(a) < rank(b); });
  }
  std::string manifest;
  std::vector<std::size_t> instructionCounts;
  for (const CorpusRecord& record : records) {
    manifest += corpusRecordToJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    manifest += '\n';
    instructionCounts.push_back(record.instructions);
    std::uintmax_t size = fs::file_size(out / record.file, error);
    if (!error) summary.moduleBytes += size;
  }
  summary.records = records.size();
  summary.instructions = corpusInstructionStats(std::move(instructionCounts));
  std::string csmith = std::find(sources.begin(), sources.end(), CorpusSource::kCsmith) != sources.end()
                           ? csmithVersion(options)
                           : "";
  summary.tool = {
      {"mirtune", std::string(toolVersion())},
      {"git_commit", std::string(gitCommit())},
      {"clang", clangVersion()},
      {"csmith", csmith.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(csmith)}};
  summary.options = optionsToJson(options, sources, jobs, dataDir, kernelsDir);
  summary.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (Status status = cache.finish(); !status)
    logWarn("corpus: cannot rewrite the compile cache: {}", status.error().message());
  if (Status status = writeFileAtomically(out / kCorpusManifestFile, manifest); !status)
    return status.error();
  std::string summaryText =
      corpusSummaryToJson(summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (Status status = writeFileAtomically(out / kCorpusSummaryFile, summaryText + "\n"); !status)
    return status.error();
  return summary;
}

}  // namespace mirtune
