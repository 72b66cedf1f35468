// Earlier sessions for the transfer strategy read from Kernel Tuner cache files (a replay, or sessions measured
// elsewhere), each related to the kernel being tuned through the MIREncoder embeddings of their kernel sources.
#pragma once

#include "support/Error.h"
#include "tasks/tune/Search.h"

#include <filesystem>
#include <vector>

namespace mirtune::tune {

/// One earlier session: its cache file and, when known, the kernel source it tuned.
struct HistoryCache {
  std::filesystem::path cache;
  std::filesystem::path kernel;  ///< empty = no source: the session gets the same all-zero embedding as the others
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
