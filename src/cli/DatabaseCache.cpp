// DatabaseEmbeddingCache: embeddings table lookups and inserts.
#include "cli/DatabaseCache.h"

#include "support/Log.h"

namespace mirtune::cli {

std::optional<std::vector<float>> DatabaseEmbeddingCache::get(const std::string& irSha256, const std::string& key) {
  auto hit = database_.getEmbedding(irSha256, key);
  if (!hit) {
    logWarn("embedding cache: {}", hit.error().message());
    return std::nullopt;
  }
  if (!*hit) return std::nullopt;
  return std::move((*hit)->vector);
}

void DatabaseEmbeddingCache::put(const std::string& irSha256, const std::string& key, const std::vector<float>& vector) {
  if (auto stored = database_.putEmbedding({irSha256, key, vector, {}}); !stored) {
    logWarn("embedding cache: {}", stored.error().message());
  }
}

Status openCache(CacheHandle& handle, bool noCache, const GlobalOptions& global) {
  if (noCache) return {};
  auto opened = Database::open(resolveDatabasePath(global));
  if (!opened) return opened.error();
  handle.database.emplace(std::move(*opened));
  handle.cache.emplace(*handle.database);
  return {};
}

}  // namespace mirtune::cli
