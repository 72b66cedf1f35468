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

Expected<SourceEmbeddings> SourceEmbeddings::embed(const std::vector<fs::path>& sources, const fs::path& encoder,
                                                   const fs::path& databasePath) {
  EmbedFilesRequest request;
  for (const fs::path& source : sources) request.inputs.push_back(source.string());
  request.encoder = encoder.string();
  request.databasePath = databasePath.string();
  auto embedded = embedFiles(request);
  if (!embedded) return embedded.error();
  SourceEmbeddings result;
  for (const EmbeddedFile& file : embedded->files) {
    result.byPath_[fs::weakly_canonical(file.file).string()] = file.vector;
  }
  return result;
}

const std::vector<float>* SourceEmbeddings::find(const fs::path& source) const {
  auto found = byPath_.find(fs::weakly_canonical(source).string());
  return found == byPath_.end() ? nullptr : &found->second;
}

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

  std::vector<fs::path> sources = {kernel};
  for (const HistoryCache& item : history) sources.push_back(item.kernel);
  auto embedded = SourceEmbeddings::embed(sources, encoder, databasePath);
  if (!embedded) return embedded.error().withContext("embedding the kernels of --history");
  auto vectorOf = [&](const fs::path& file) -> Expected<std::vector<float>> {
    const std::vector<float>* found = embedded->find(file);
    if (found == nullptr) {
      return makeError(ErrorCode::kInvalidInput, "{}: the kernel did not embed (see the log)", file.string());
    }
    return *found;
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
