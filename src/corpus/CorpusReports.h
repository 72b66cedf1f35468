// The reports of `mirtune corpus build|info`: the counts table per source, the inspection as JSON and text.
#pragma once

#include "corpus/Manifest.h"
#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace mirtune {

/// "corpus DIR", the counts per source and in total, the records, the instruction percentiles and the build
/// time: what `corpus build` prints.
std::string corpusBuildText(const CorpusSummary& summary, const std::string& directory);

/// Reads every module of the corpus back (verifyCorpusModules on `jobs` threads) and appends the first ten
/// problems, and a count of the rest, to `inspection.problems`. An error only when the manifest is unreadable.
Status verifyCorpusInspection(CorpusInspection& inspection, const std::filesystem::path& directory, unsigned jobs);

/// {directory, summary, manifest_records_per_source, distinct_programs, missing_files, unlisted_files,
/// module_bytes_on_disk, verified, problems}.
nlohmann::ordered_json toJson(const CorpusInspection& inspection, const std::string& directory, bool verified);
/// The counts table with a manifest column, then the distinct programs and what is on disk.
std::string textReport(const CorpusInspection& inspection, const std::string& directory, bool verified);

}  // namespace mirtune
