// What every kind of tune session (OpenCL kernel, application, CUDA kernel) shares once it has results.
#pragma once

#include "support/Error.h"
#include "tasks/tune/KernelTunerCache.h"
#include "tasks/tune/TuneSpec.h"
#include "tasks/tune/TuneWorkflow.h"
#include "tuner/TuningSession.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::tune {

double secondsSince(std::chrono::steady_clock::time_point start);

/// Now as ISO 8601 in UTC with milliseconds ("2026-12-07T17:30:00.123Z").
std::string utcTimestamp();

/// An evaluation's record in a Kernel Tuner cache file.
CacheRecord cacheRecordOf(const TuneEvaluation& evaluation);

/// The cache file of a session: a new one, or (resume) the existing one of the same parameters and kernel.
/// kUsage for an existing file without resume, or resume without a file; kInvalidInput naming the file when
/// it belongs to another space.
Expected<KernelTunerCache> openCache(const std::filesystem::path& file, bool resume, const TuneSpec& spec,
                                     const std::string& deviceName);

/// The fastest correct evaluation, and how it compares with the default's repetitions.
void chooseBest(TuneSessionResult& result, std::uint64_t seed);

/// A tuning session's result as an evaluation (no timestamp).
TuneEvaluation evaluationOf(const TunedConfiguration& tuned);

/// Each evaluation's record in `cache`, replacing the one of the same configuration.
void upsertCacheRecords(KernelTunerCache& cache, const std::vector<TuneEvaluation>& evaluations);

/// The cache file of a session that resumes from the database (applications, CUDA kernels): none without
/// --cache; an existing file is continued only on a resume, and a resume may also begin the file.
Expected<std::optional<KernelTunerCache>> sessionCache(const TuneSessionOptions& options,
                                                       const TuneSpec& spec, const std::string& device);

/// Writes the session as it stands to the T4 file and the cache file (each when asked for).
Status writeSessionFiles(const TuneSessionResult& result, const TuneSessionOptions& options,
                         std::optional<KernelTunerCache>& cache);

/// The spec and its kernel, as one digest: an export is ingested only against the same two files.
Expected<std::string> specDigest(const TuneSpec& spec);

}  // namespace mirtune::tune
