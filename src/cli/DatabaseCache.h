// The embedding cache of the SQLite database, for embedBatch; a failing write is a warning, not an error.
#pragma once

#include "cli/Commands.h"
#include "database/Database.h"
#include "embeddings/BatchEmbed.h"

#include <optional>

namespace mirtune::cli {

class DatabaseEmbeddingCache final : public EmbeddingCache {
 public:
  explicit DatabaseEmbeddingCache(Database& database) : database_(database) {}
  std::optional<std::vector<float>> get(const std::string& irSha256, const std::string& key) override;
  void put(const std::string& irSha256, const std::string& key, const std::vector<float>& vector) override;

 private:
  Database& database_;
};

/// The database of a command and its embedding cache, opened together, or neither (--no-cache).
struct CacheHandle {
  std::optional<Database> database;
  std::optional<DatabaseEmbeddingCache> cache;
  EmbeddingCache* get() { return cache ? &*cache : nullptr; }
};

/// Opens the database `global` selects into `handle`, unless noCache.
Status openCache(CacheHandle& handle, bool noCache, const GlobalOptions& global);

}  // namespace mirtune::cli
