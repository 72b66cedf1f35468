// Building the pretraining corpus: deduplicated LLVM IR modules from every available source, with provenance.
#pragma once

#include "corpus/CorpusSource.h"
#include "corpus/Manifest.h"
#include "support/Error.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

/// csmith options that keep programs small: about 0.2 s to compile one at all four -O levels, against about
/// 0.6 s (and ten times the generation time) with csmith's defaults; modules of a few hundred to a few
/// thousand instructions.
inline const std::vector<std::string> kDefaultCsmithArguments = {
    "--max-funcs",     "4", "--max-block-depth",  "3",      "--max-expr-complexity", "5",
    "--max-array-dim", "2", "--no-packed-struct", "--quiet"};

struct CorpusOptions {
  /// The corpus folder (created if absent). Existing module files are kept and not rewritten.
  std::filesystem::path outputDirectory;
  /// Data sets; empty = dataDirectory() ($MIRTUNE_DATA or ../shared/datasets).
  std::filesystem::path dataDirectory;
  /// The project's kernels; empty = sourceDirectory()/kernels.
  std::filesystem::path kernelsDirectory;
  /// Sources to use, in any order; empty = all of kCorpusSources.
  std::vector<CorpusSource> sources;
  /// Worker threads; 0 = the number of hardware threads.
  unsigned jobs = 0;
  /// Programs csmith generates, with seeds csmithSeed, csmithSeed + 1, ...
  std::size_t csmithPrograms = 5000;
  std::uint64_t csmithSeed = 1;
  /// At most this many programs per source (the first in sorted order); 0 = all.
  std::size_t limitPerSource = 0;
  /// -O levels every source program is compiled at (.ll files are taken once, as they are).
  std::vector<int> optimizationLevels = {0, 1, 2, 3};
  std::string csmithExecutable = "csmith";
  /// Where csmith.h lives (Debian: libcsmith-dev).
  std::filesystem::path csmithIncludeDirectory = "/usr/include/csmith";
  std::vector<std::string> csmithArguments = kDefaultCsmithArguments;
  /// Limit for generating one csmith program, in seconds.
  double csmithTimeoutSeconds = 10;
  /// Answer compilations from DIR/compile-cache.jsonl when the same input was compiled before by the same
  /// mirtune and clang; false recompiles everything (the cache is still rewritten).
  bool useCache = true;
};

/// Builds (or completes) the corpus in options.outputDirectory: modules/<2 hex>/<sha>.bc, manifest.jsonl,
/// summary.json. A source whose data is absent is skipped with its reason in the summary; a program that does
/// not compile is counted and logged at info level. Errors only for unusable options or an unwritable folder.
/// The manifest and the module files do not depend on options.jobs.
Expected<CorpusSummary> buildCorpus(const CorpusOptions& options);

}  // namespace mirtune
