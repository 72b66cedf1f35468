// Earlier sessions for the transfer strategy read from Kernel Tuner cache files (a replay, or sessions measured
// elsewhere), each related to the kernel being tuned through the MIREncoder embeddings of their kernel sources.
#pragma once

#include "support/Error.h"
#include "tasks/tune/Search.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mirtune::tune {

/// One earlier session: its cache file and, when known, the kernel source it tuned.
struct HistoryCache {
  std::filesystem::path cache;
  std::filesystem::path kernel;  ///< empty = no source: the session gets the same all-zero embedding as the others
};

/// The fused MIREncoder embeddings of kernel sources (`encoder`, empty = the shipped encoder; cached in the
/// database at `databasePath`), by canonical path. A source that does not embed is absent (embedFiles logs why).
class SourceEmbeddings {
 public:
  static Expected<SourceEmbeddings> embed(const std::vector<std::filesystem::path>& sources,
                                          const std::filesystem::path& encoder,
                                          const std::filesystem::path& databasePath);
  /// The vector of `source`, or nullptr when it did not embed.
  const std::vector<float>* find(const std::filesystem::path& source) const;

 private:
  std::map<std::string, std::vector<float>> byPath_;
};

/// Reads "CACHE.json" or "CACHE.json=KERNEL.cl" (the form --history takes).
HistoryCache parseHistoryArgument(const std::string& text);

/// Transfer data from cache files: every record with a time, its features in the cache's parameter order. When the
/// tuned kernel and every history kernel have a source, each is embedded (fused vectors of `encoder`, empty = the
/// shipped encoder, cached in the database at `databasePath`); otherwise every embedding is all zero and only the
/// parameters carry over. kInvalidInput naming a cache file that cannot be read or a source that does not embed.
Expected<TransferData> transferDataFromCaches(const std::vector<HistoryCache>& history,
                                              const std::filesystem::path& kernel,
                                              const std::filesystem::path& encoder,
                                              const std::filesystem::path& databasePath);

}  // namespace mirtune::tune
