// The mirtune results database: SQLite with numbered migrations and a typed access layer.
#pragma once

#include "database/Records.h"
#include "support/Error.h"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace mirtune {

struct PlatformInfo;

/// Formats of exportTable.
enum class ExportFormat { kCsv, kJson };

/// "csv" or "json"; kUsage otherwise.
Expected<ExportFormat> parseExportFormat(std::string_view name);

/// Current UTC time as ISO-8601 with milliseconds, e.g. "2024-05-01T12:34:56.789Z".
std::string utcTimestampNow();

/// The row a probed platform is stored as.
PlatformRecord platformRecordFromProbe(const PlatformInfo& info);

/// One connection to a mirtune database. Opening applies pending migrations; every write is its own
/// transaction (BEGIN IMMEDIATE), so several processes may record into one file at once (WAL mode, 10 s busy
/// timeout). A Database is not shared between threads: open one per thread.
class Database {
 public:
  enum class OpenMode {
    kCreate,    ///< create the file (and its folder) when missing
    kExisting,  ///< kNotFound when the file does not exist
  };

  /// Opens (or creates) the database at path and brings its schema to kSchemaVersion. A database written by a
  /// newer mirtune (user_version > kSchemaVersion) is a kVersion error naming the file.
  static Expected<Database> open(const std::filesystem::path& path, OpenMode mode = OpenMode::kCreate);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  const std::filesystem::path& path() const { return path_; }
  /// PRAGMA user_version as stored in the file.
  Expected<int> schemaVersion() const;
  /// How many migrations this open() applied (0 when the file was already current).
  int migrationsApplied() const { return migrationsApplied_; }

  /// Names of the tables, in schema order.
  static const std::vector<std::string>& tableNames();
  /// Row count of every table, in tableNames() order.
  Expected<std::vector<TableCount>> tableCounts() const;

  /// Inserts the workload, or returns the id of the one with the same contentSha256 (filling in its
  /// irSha256 if it had none).
  Expected<std::int64_t> upsertWorkload(const WorkloadRecord& workload);
  /// Inserts the platform, or returns the id of the one with the same fingerprint.
  Expected<std::int64_t> upsertPlatform(const PlatformRecord& platform);
  /// Starts a session (started = now) and returns its id.
  Expected<std::int64_t> beginSession(const SessionRecord& session);
  /// Marks the session ended now; kNotFound for an unknown id.
  Status endSession(std::int64_t sessionId);
  /// Stores a measurement (configuration canonicalised and hashed here) and returns its id.
  Expected<std::int64_t> insertMeasurement(const MeasurementRecord& measurement);
  /// What insertMeasurementOnce did: the row's id, and whether it was inserted now (false: a measurement
  /// with the same ingestKey was already stored, and it is that one's id).
  struct InsertedMeasurement {
    std::int64_t id = 0;
    bool inserted = false;
  };
  /// Stores a measurement unless one with the same ingestKey is stored already (checked and inserted in one
  /// write transaction, so concurrent ingests of one folder store it once). kInvalidInput without an ingestKey.
  Expected<InsertedMeasurement> insertMeasurementOnce(const MeasurementRecord& measurement);
  /// Whether a measurement with this ingest key is stored.
  Expected<bool> hasIngestKey(std::string_view ingestKey) const;
  /// Stores a prediction and returns its id.
  Expected<std::int64_t> insertPrediction(const PredictionRecord& prediction);
  /// Stores (or replaces) the embedding of (irSha256, modelId). An empty vector is kInvalidInput.
  Status putEmbedding(const EmbeddingRecord& embedding);
  /// The cached embedding, or nullopt when there is none.
  Expected<std::optional<EmbeddingRecord>> getEmbedding(std::string_view irSha256,
                                                        std::string_view modelId) const;

  Expected<std::optional<WorkloadRecord>> getWorkload(std::int64_t id) const;
  Expected<std::optional<PlatformRecord>> getPlatform(std::int64_t id) const;
  Expected<std::optional<SessionRecord>> getSession(std::int64_t id) const;
  /// Measurements in insertion order, all of them or one session's.
  Expected<std::vector<MeasurementRecord>> listMeasurements(std::optional<std::int64_t> sessionId = {}) const;
  /// Predictions in insertion order, all of them or one session's.
  Expected<std::vector<PredictionRecord>> listPredictions(std::optional<std::int64_t> sessionId = {}) const;

  /// Writes a whole table to out in insertion order. CSV: RFC 4180 (header row, CRLF, fields with a comma,
  /// quote, CR or LF quoted, quotes doubled; NULL is an empty field, an empty string is ""). JSON: an array
  /// of objects with typed values (integer, real, string, null); the embeddings vector as an array of
  /// numbers, any other BLOB as a hex string. An unknown table is kNotFound listing the valid ones.
  Status exportTable(std::string_view table, ExportFormat format, std::ostream& out) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  Database(std::filesystem::path path, sqlite3* db);
  Status configure();
  Status migrate();

  std::filesystem::path path_;
  std::unique_ptr<sqlite3, Closer> db_;
  int migrationsApplied_ = 0;
};

}  // namespace mirtune
