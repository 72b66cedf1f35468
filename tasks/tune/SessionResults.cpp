// What every kind of tune session (OpenCL kernel, application, CUDA kernel) shares once it has results: the
// best configuration against the default, the T4 and Kernel Tuner cache files, timestamps, the spec's digest.
#include "tasks/tune/SessionResults.h"

#include "support/Files.h"
#include "support/Sha256.h"
#include "tuner/Comparison.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ctime>

namespace mirtune::tune {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

/// Kernel Tuner's failure word for a status (its cache has no finer kinds).
std::string cacheFailure(MeasureStatus status) {
  switch (status) {
    case MeasureStatus::kOk:
      return "";
    case MeasureStatus::kBuildFailed:
    case MeasureStatus::kBuildTimeout:
      return "CompilationFailedConfig";
    default:
      return "RuntimeFailedConfig";
  }
}

}  // namespace

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Now as ISO 8601 in UTC with milliseconds ("2026-12-07T17:30:00.123Z").
std::string utcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", text, static_cast<int>(millis));
}

CacheRecord cacheRecordOf(const TuneEvaluation& evaluation) {
  CacheRecord record;
  record.configuration = evaluation.configuration;
  for (double seconds : evaluation.samples) record.times.push_back(seconds * 1e3);
  if (evaluation.status == MeasureStatus::kOk && evaluation.median) {
    record.time = *evaluation.median * 1e3;
  } else {
    record.failure = cacheFailure(evaluation.status);
  }
  record.compileTime = evaluation.compileSeconds * 1e3;
  double measured = 0;
  for (double seconds : evaluation.samples) measured += seconds;
  record.benchmarkTime = measured * 1e3;
  record.verificationTime = evaluation.validationSeconds * 1e3;
  record.strategyTime = evaluation.strategySeconds * 1e3;
  record.frameworkTime = evaluation.frameworkSeconds * 1e3;
  return record;
}

/// A cache for this spec: the one in `file` (checked to be of the same kernel and parameters) or a new one.
Expected<KernelTunerCache> openCache(const fs::path& file, bool resume, const TuneSpec& spec,
                                     const std::string& deviceName) {
  std::vector<std::string> names;
  for (const TunableParameter& parameter : spec.space.parameters()) names.push_back(parameter.name);
  if (!file.empty() && fs::exists(file) && !resume) {
    return makeError(
        ErrorCode::kUsage,
        "--cache {}: the file exists; --resume continues the session it holds, or name another file",
        file.string());
  }
  if (resume && file.empty()) {
    return makeError(ErrorCode::kUsage,
                     "--resume needs --cache FILE: a kernel session resumes from its cache file");
  }
  if (resume && !fs::exists(file)) {
    return makeError(ErrorCode::kNotFound, "--resume: {}: no such cache file", file.string());
  }
  if (!file.empty() && fs::exists(file)) {
    auto cache = readKernelTunerCache(file);
    if (!cache) return cache.error();
    std::vector<std::string> cached = cache->parameterNames;
    std::vector<std::string> wanted = names;
    std::sort(cached.begin(), cached.end());
    std::sort(wanted.begin(), wanted.end());
    if (cached != wanted) {
      return makeError(
          ErrorCode::kInvalidInput,
          "{}: the cache file's parameters ({}) are not those of {} ({}); name another --cache file",
          file.string(), fmt::join(cache->parameterNames, ", "), spec.file.string(), fmt::join(names, ", "));
    }
    if (spec.kernel && !cache->kernelName.empty() && cache->kernelName != spec.kernel->kernelName) {
      return makeError(ErrorCode::kInvalidInput, "{}: the cache file is of kernel '{}', not '{}'",
                       file.string(), cache->kernelName, spec.kernel->kernelName);
    }
    if (!cache->deviceName.empty() && cache->deviceName != deviceName) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: the cache file was measured on '{}', not on this session's device '{}'",
                       file.string(), cache->deviceName, deviceName);
    }
    return cache;
  }
  KernelTunerCache cache;
  cache.deviceName = deviceName;
  cache.kernelName = spec.kernel ? spec.kernel->kernelName : spec.name;
  if (spec.kernel) cache.problemSize = spec.kernel->problemSize;
  cache.parameterNames = names;
  for (const TunableParameter& parameter : spec.space.parameters()) {
    cache.parameterValues[parameter.name] = parameter.values;
  }
  return cache;
}

/// The fastest correct evaluation, and how it compares with the default's repetitions.
void chooseBest(TuneSessionResult& result, std::uint64_t seed) {
  result.best.reset();
  for (std::size_t i = 0; i < result.evaluations.size(); ++i) {
    const TuneEvaluation& e = result.evaluations[i];
    if (e.status != MeasureStatus::kOk || !e.median) continue;
    if (!result.best || *e.median < *result.evaluations[*result.best].median) result.best = i;
  }
  if (result.best && *result.best != 0 && result.evaluations.front().status == MeasureStatus::kOk) {
    ComparisonSettings settings;
    settings.seed = seed;
    result.bestAgainstDefault = compareSamples(result.evaluations.front().samples,
                                               result.evaluations[*result.best].samples, settings);
  }
}

TuneEvaluation evaluationOf(const TunedConfiguration& tuned) {
  TuneEvaluation evaluation;
  evaluation.configuration = tuned.configuration;
  evaluation.status = tuned.status;
  evaluation.message = tuned.message;
  evaluation.samples = tuned.times;
  evaluation.median = tuned.median;
  evaluation.spread = tuned.spread;
  return evaluation;
}

/// Each evaluation's record in `cache`, replacing the one of the same configuration.
void upsertCacheRecords(KernelTunerCache& cache, const std::vector<TuneEvaluation>& evaluations) {
  for (const TuneEvaluation& evaluation : evaluations) {
    const std::string key = cache.key(evaluation.configuration);
    auto existing = std::find_if(cache.records.begin(), cache.records.end(), [&](const CacheRecord& record) {
      return cache.key(record.configuration) == key;
    });
    if (existing != cache.records.end()) {
      *existing = cacheRecordOf(evaluation);
    } else {
      cache.records.push_back(cacheRecordOf(evaluation));
    }
  }
}

/// The cache file of an application session: none without --cache; an existing file is continued only on a
/// resume (an application resumes from the database, so a resume may also begin the file).
Expected<std::optional<KernelTunerCache>> sessionCache(const TuneSessionOptions& options,
                                                       const TuneSpec& spec, const std::string& device) {
  if (options.cacheFile.empty()) return std::optional<KernelTunerCache>();
  std::error_code ec;
  auto cache =
      openCache(options.cacheFile, options.resume && fs::exists(options.cacheFile, ec), spec, device);
  if (!cache) return cache.error();
  return std::optional<KernelTunerCache>(std::move(*cache));
}

/// Writes the session as it stands to the T4 file and the cache file (each when asked for).
Status writeSessionFiles(const TuneSessionResult& result, const TuneSessionOptions& options,
                         std::optional<KernelTunerCache>& cache) {
  if (cache) {
    upsertCacheRecords(*cache, result.evaluations);
    if (Status written = writeKernelTunerCache(*cache, options.cacheFile); !written) return written;
  }
  if (!options.t4File.empty()) {
    if (Status written = writeFileAtomically(options.t4File, t4Results(result).dump(2) + "\n"); !written) {
      return written;
    }
  }
  return success();
}

Expected<std::string> specDigest(const TuneSpec& spec) {
  auto specText = readFile(spec.file);
  if (!specText) return specText.error();
  auto kernelText = readFile(spec.kernel->kernelFile);
  if (!kernelText) return kernelText.error();
  return sha256Hex(*specText + '\0' + *kernelText);
}

}  // namespace mirtune::tune
