// The embedding cache of the SQLite database, for embedBatch; a failing write is a warning, not an error.
#pragma once

#include "database/Database.h"
#include "embeddings/BatchEmbed.h"

namespace mirtune::cli {

class DatabaseEmbeddingCache final : public EmbeddingCache {
 public:
  explicit DatabaseEmbeddingCache(Database& database) : database_(database) {}
  std::optional<std::vector<float>> get(const std::string& irSha256, const std::string& key) override;
  void put(const std::string& irSha256, const std::string& key, const std::vector<float>& vector) override;

 private:
  Database& database_;
};

}  // namespace mirtune::cli
