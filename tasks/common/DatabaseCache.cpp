// DatabaseEmbeddingCache: embeddings table lookups and inserts.
#include "tasks/common/DatabaseCache.h"

#include "support/Log.h"

#include <fmt/format.h>

namespace mirtune {

std::optional<std::vector<float>> DatabaseEmbeddingCache::get(const std::string& irSha256, const std::string& key) {
  auto hit = database_.getEmbedding(irSha256, key);
  if (!hit) {
    keep(hit.error());
    return std::nullopt;
  }
  if (!*hit) return std::nullopt;
  return std::move((*hit)->vector);
}

void DatabaseEmbeddingCache::put(const std::string& irSha256, const std::string& key, const std::vector<float>& vector) {
  if (auto stored = database_.putEmbedding({irSha256, key, vector, {}}); !stored) keep(stored.error());
}

void DatabaseEmbeddingCache::keep(const Error& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!firstError_) {
    logWarn("embedding cache: {}", error.message());
    firstError_ = notAllRecorded(error, "results");
  }
}

Status DatabaseEmbeddingCache::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (firstError_) return *firstError_;
  return success();
}

Status openCache(CacheHandle& handle, bool noCache, const std::string& databasePath) {
  if (noCache) return {};
  auto opened = Database::open(databasePath);
  if (!opened) return opened.error();
  handle.database.emplace(std::move(*opened));
  handle.cache.emplace(*handle.database);
  return {};
}

Error notAllRecorded(const Error& error, std::string_view what) {
  return Error(error.code(), fmt::format("{} (the {} are not all recorded in the database)", error.message(), what));
}

int databaseFailures(const CacheHandle& cache, const Status& recorded) {
  int status = 0;
  if (auto cached = cache.status(); !cached) {
    logError("{}", cached.error().message());
    status = 1;
  }
  if (!recorded) {
    logError("{}", recorded.error().message());
    status = 1;
  }
  return status;
}

Expected<Database> openCollectedDatabase(const std::filesystem::path& path, std::string_view collectCommand) {
  if (!std::filesystem::exists(path)) {
    return makeError(ErrorCode::kNotFound, "no database at {}: run `{}` first", path.string(), collectCommand);
  }
  return Database::open(path, Database::OpenMode::kExisting);
}

}  // namespace mirtune
