// Transfer data from Kernel Tuner cache files and kernel embeddings (tasks/tune/TransferHistory.h).
#include "tasks/tune/TransferHistory.h"

#include "tasks/common/EmbedFiles.h"
#include "tasks/tune/KernelTunerCache.h"
#include "tasks/tune/Replay.h"

#include <fmt/format.h>

#include <map>
#include <string>

namespace mirtune::tune {
namespace fs = std::filesystem;

HistoryCache parseHistoryArgument(const std::string& text) {
  HistoryCache history;
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos) {
    history.cache = text;
  } else {
    history.cache = text.substr(0, equals);
    history.kernel = text.substr(equals + 1);
  }
  return history;
}

Expected<TransferData> transferDataFromCaches(const std::vector<HistoryCache>& history, const fs::path& kernel,
                                              const fs::path& encoder, const fs::path& databasePath) {
  TransferData transfer;
  for (const HistoryCache& item : history) {
    auto cache = readKernelTunerCache(item.cache);
    if (!cache) return cache.error();
    TransferSession session = transferSessionFromCache(*cache);
    if (!item.kernel.empty()) {
      session.kernel = item.kernel.string();
    } else if (session.kernel.empty()) {
      session.kernel = item.cache.string();
    }
    if (session.times.empty()) {
      return makeError(ErrorCode::kInvalidInput, "{}: no configuration with a time", item.cache.string());
    }
    transfer.sessions.push_back(std::move(session));
  }

  bool everySource = !kernel.empty();
  for (const HistoryCache& item : history) everySource = everySource && !item.kernel.empty();
  if (!everySource) return transfer;

  EmbedFilesRequest request;
  request.inputs.push_back(kernel.string());
  for (const HistoryCache& item : history) request.inputs.push_back(item.kernel.string());
  request.encoder = encoder.string();
  request.databasePath = databasePath.string();
  auto embedded = embedFiles(request);
  if (!embedded) return embedded.error().withContext("embedding the kernels of --history");
  std::map<std::string, std::vector<float>> byFile;
  for (const EmbeddedFile& file : embedded->files) byFile[fs::weakly_canonical(file.file).string()] = file.vector;
  auto vectorOf = [&](const fs::path& file) -> Expected<std::vector<float>> {
    auto found = byFile.find(fs::weakly_canonical(file).string());
    if (found == byFile.end()) {
      return makeError(ErrorCode::kInvalidInput, "{}: the kernel did not embed (see the log)", file.string());
    }
    return found->second;
  };
  auto own = vectorOf(kernel);
  if (!own) return own.error();
  transfer.embedding = std::move(*own);
  for (std::size_t i = 0; i < history.size(); ++i) {
    auto vector = vectorOf(history[i].kernel);
    if (!vector) return vector.error();
    transfer.sessions[i].embedding = std::move(*vector);
  }
  return transfer;
}

}  // namespace mirtune::tune
