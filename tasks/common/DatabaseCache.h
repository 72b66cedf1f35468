// The embedding cache of the SQLite database, for embedBatch. A failing read or write does not stop the batch, but
// it is kept and the command ends with it as an error: a database that cannot record is never silently ignored.
#pragma once

#include "database/Database.h"
#include "embeddings/BatchEmbed.h"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mirtune {

class DatabaseEmbeddingCache final : public EmbeddingCache {
 public:
  explicit DatabaseEmbeddingCache(Database& database) : database_(database) {}
  std::optional<std::vector<float>> get(const std::string& irSha256, const std::string& key) override;
  void put(const std::string& irSha256, const std::string& key, const std::vector<float>& vector) override;
  /// The first error a read or write met, if any.
  Status status() const;

 private:
  void keep(const Error& error);
  Database& database_;
  mutable std::mutex mutex_;
  std::optional<Error> firstError_;
};

/// The database of a command and its embedding cache, opened together, or neither (--no-cache).
struct CacheHandle {
  std::optional<Database> database;
  std::optional<DatabaseEmbeddingCache> cache;
  EmbeddingCache* get() { return cache ? &*cache : nullptr; }
  /// The cache's first error (none without a cache).
  Status status() const { return cache ? cache->status() : Status(); }
};

/// The database a task's collect command filled, opened as it is (never created): kNotFound telling the user to
/// run `collectCommand` first when there is none at `path`.
Expected<Database> openCollectedDatabase(const std::filesystem::path& path, std::string_view collectCommand);

/// Opens the database at `databasePath` into `handle`, unless noCache.
Status openCache(CacheHandle& handle, bool noCache, const std::string& databasePath);

/// `error` with what it costs the command: "... (the WHAT are not all recorded in the database)".
Error notAllRecorded(const Error& error, std::string_view what);

/// Logs a command's database errors (the embedding cache's first, then `recorded`); 1 when there was one.
int databaseFailures(const CacheHandle& cache, const Status& recorded = success());

}  // namespace mirtune
