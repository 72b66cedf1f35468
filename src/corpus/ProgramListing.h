// Finding the programs of each corpus source, each with a stable program id and origin (internal to the
// library).
#pragma once

#include "corpus/CorpusBuilder.h"
#include "frontend/Language.h"
#include "support/Error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// One source program: compiled at every -O level, or, for IR, taken once as it is.
struct CorpusProgram {
  CorpusSource source = CorpusSource::kKernels;
  std::string program;  ///< program id, see CorpusRecord::program
  std::string origin;   ///< see CorpusRecord::origin
  Language language = Language::kC;
  std::filesystem::path file;  ///< file to read; empty when the text is held (CSV) or generated (csmith)
  std::string text;            ///< source text when held in memory
  std::optional<std::uint64_t> csmithSeed;
  /// The name the compiler sees: a fixed, absolute, virtual path, so that diagnostics name the origin and no
  /// temporary folder can leak into the IR (through __FILE__, say).
  std::string virtualName;
  std::vector<std::string> includeDirectories;
  /// Inputs besides the text that change the result (hashes of shared headers); part of the cache key.
  std::string keyMaterial;
  bool takeAsIs = false;  ///< LLVM IR: one unit without an -O level
  /// false where inputs outside `text` and `keyMaterial` may change the result (headers beside a project
  /// kernel): such programs are always compiled, never answered from the compile cache.
  bool cacheable = true;
};

/// A temporary folder removed with everything in it when the object dies.
class ScratchDirectory {
 public:
  static Expected<ScratchDirectory> create(const std::string& prefix);
  ~ScratchDirectory();
  ScratchDirectory(ScratchDirectory&& other) noexcept;
  ScratchDirectory& operator=(ScratchDirectory&&) = delete;
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit ScratchDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

/// The programs of one source, or why the source cannot be used.
struct ProgramListing {
  std::vector<CorpusProgram> programs;  ///< sorted by origin (LS-CAT: by a hash of the path); at most options.limitPerSource
  std::optional<std::string> skipReason;
  std::vector<ScratchDirectory> scratch;  ///< extracted archives the programs point into
};

/// Lists one source's programs. Never fails: a missing data set, archive error or absent csmith becomes a
/// skip reason. `dataDirectory` and `kernelsDirectory` are already resolved.
ProgramListing listCorpusPrograms(CorpusSource source, const CorpusOptions& options,
                                  const std::filesystem::path& dataDirectory,
                                  const std::filesystem::path& kernelsDirectory);

/// Runs csmith for one seed; the program text, or an error naming the seed (crash, timeout, no output).
Expected<std::string> generateCsmithProgram(const CorpusOptions& options, std::uint64_t seed);

/// "csmith 2.3.0", or empty when csmith cannot be run.
std::string csmithVersion(const CorpusOptions& options);

/// Splits RFC 4180 CSV text (quoted fields may hold commas, quotes and newlines) into rows of fields.
std::vector<std::vector<std::string>> parseCsv(std::string_view text);

}  // namespace mirtune
