// The mirtune results database: opening, migrations and the typed reads and writes.
#include "database/Database.h"

#include "database/CanonicalJson.h"
#include "database/Migrations.h"
#include "database/SqliteStatement.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

namespace mirtune {

namespace fs = std::filesystem;
using detail::SqliteStatement;
using detail::WriteTransaction;

namespace {

// How long a writer waits for another process's write transaction before giving up.
constexpr int kBusyTimeoutMilliseconds = 10000;

Expected<nlohmann::json> parseJsonColumn(const SqliteStatement& statement, int column,
                                         std::string_view what) {
  if (statement.isNull(column)) return nlohmann::json();
  nlohmann::json value = nlohmann::json::parse(statement.columnText(column), nullptr, false);
  if (value.is_discarded()) return makeError(ErrorCode::kDatabase, "corrupt JSON in {}", what);
  return value;
}

Status checkFinite(const std::optional<double>& value, std::string_view what) {
  if (value && !std::isfinite(*value)) return makeError(ErrorCode::kInvalidInput, "{} is not finite", what);
  return success();
}

Expected<std::int64_t> singleInt(sqlite3* db, std::string_view sql, std::string_view what) {
  auto statement = SqliteStatement::prepare(db, sql);
  if (!statement) return statement.error();
  auto row = statement->step(what);
  if (!row) return row.error();
  if (!*row) return makeError(ErrorCode::kInternal, "{}: no result row", what);
  return statement->columnInt(0);
}

}  // namespace

Expected<ExportFormat> parseExportFormat(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "json") return ExportFormat::kJson;
  return makeError(ErrorCode::kUsage, "unknown export format '{}' (valid: csv, json)", name);
}

std::string utcTimestampNow() {
  auto now = std::chrono::system_clock::now();
  auto milliseconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, milliseconds);
}

PlatformRecord platformRecordFromProbe(const PlatformInfo& info) {
  PlatformRecord record;
  record.fingerprint = info.fingerprint;
  record.cpuModel = info.cpuModel;
  record.cores = info.logicalCores;
  record.memoryBytes = static_cast<std::int64_t>(info.memoryBytes);
  record.os = info.os;
  record.openclDevices = info.opencl;
  record.gpu = info.gpus.empty() ? nlohmann::json() : info.gpus;
  record.compilers = info.compilers;
  return record;
}

void Database::Closer::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Database::Database(fs::path path, sqlite3* db) : path_(std::move(path)), db_(db) {}
Database::Database(Database&& other) noexcept = default;
Database& Database::operator=(Database&& other) noexcept = default;
Database::~Database() = default;

Expected<Database> Database::open(const fs::path& path, OpenMode mode) {
  std::error_code ec;
  if (mode == OpenMode::kExisting && !fs::exists(path, ec)) {
    return makeError(ErrorCode::kNotFound,
                     "{}: no database here (one is created by the first command that records results, "
                     "e.g. `mirtune platform --record`; --db selects another file)",
                     path.string());
  }
  if (mode == OpenMode::kCreate && path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return makeError(ErrorCode::kIo, "{}: cannot create folder {}: {}", path.string(),
                       path.parent_path().string(), ec.message());
    }
  }
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (mode == OpenMode::kCreate ? SQLITE_OPEN_CREATE : 0);
  int code = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database database(path, raw);
  if (code != SQLITE_OK) {
    return makeError(ErrorCode::kDatabase, "{}: cannot open: {}", path.string(),
                     raw != nullptr ? sqlite3_errmsg(raw) : "out of memory");
  }
  if (Status status = database.configure(); !status) return status.error();
  if (Status status = database.migrate(); !status) return status.error();
  return Expected<Database>(std::move(database));  // explicit: move-only, and C++17 has no implicit move here
}

Status Database::configure() {
  sqlite3* db = db_.get();
  sqlite3_busy_timeout(db, kBusyTimeoutMilliseconds);
  sqlite3_extended_result_codes(db, 1);
  // Switching a fresh file to WAL needs a brief exclusive lock; when several processes create the same file
  // at once the busy handler is not always consulted for it, so retry here within the same time limit.
  std::string journalMode;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMilliseconds);
  for (;;) {
    auto statement = SqliteStatement::prepare(db, "PRAGMA journal_mode=WAL");
    Expected<bool> row =
        statement ? statement->step("set journal_mode=WAL") : Expected<bool>(statement.error());
    if (row && *row) {
      journalMode = statement->columnText(0);
      break;
    }
    int primary = sqlite3_errcode(db) & 0xff;
    bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() > deadline) {
      return row ? makeError(ErrorCode::kDatabase, "{}: journal_mode returned nothing", path_.string())
                 : row.error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (journalMode != "wal" && path_ != ":memory:") {
    logWarn(
        "{}: journal mode is '{}', not WAL (file system without shared memory?); concurrent writers will "
        "wait longer",
        path_.string(), journalMode);
  }
  if (Status status = detail::execute(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"); !status) {
    return status;
  }
  return success();
}

Status Database::migrate() {
  sqlite3* db = db_.get();
  auto tooNew = [&](std::int64_t version) {
    return makeError(
        ErrorCode::kVersion,
        "{}: database schema version {} is newer than version {} that this mirtune understands; use "
        "a newer mirtune, or another database with --db",
        path_.string(), version, kSchemaVersion);
  };
  auto version = singleInt(db, "PRAGMA user_version", "read schema version");
  if (!version) return version.error();
  if (*version > kSchemaVersion) return tooNew(*version);
  if (*version == kSchemaVersion) return success();

  for (const Migration& migration : schemaMigrations()) {
    if (migration.version <= *version) continue;
    auto transaction = WriteTransaction::begin(db);
    if (!transaction) return transaction.error();
    // Another process may have migrated while this one waited for the write lock: read again under the lock.
    auto current = singleInt(db, "PRAGMA user_version", "read schema version");
    if (!current) return current.error();
    if (*current > kSchemaVersion) return tooNew(*current);
    if (*current >= migration.version) continue;
    if (*current == 0) {
      auto objects = singleInt(db, "SELECT count(*) FROM sqlite_master", "inspect schema");
      if (!objects) return objects.error();
      if (*objects > 0) {
        return makeError(
            ErrorCode::kInvalidInput,
            "{}: an SQLite database with other tables, not a mirtune database; choose another file "
            "with --db",
            path_.string());
      }
    }
    if (Status status = detail::execute(db, migration.sql); !status) {
      return status.error().withContext(fmt::format("schema migration {}", migration.version));
    }
    // PRAGMA takes no bound parameters; the version is a constant from the migration table, not user input.
    if (Status status = detail::execute(db, fmt::format("PRAGMA user_version = {}", migration.version));
        !status) {
      return status;
    }
    if (Status status = transaction->commit(); !status) return status;
    ++migrationsApplied_;
    logInfo("{}: applied schema migration {} ({})", path_.string(), migration.version, migration.description);
  }
  return success();
}

Expected<int> Database::schemaVersion() const {
  auto version = singleInt(db_.get(), "PRAGMA user_version", "read schema version");
  if (!version) return version.error();
  return static_cast<int>(*version);
}

const std::vector<std::string>& Database::tableNames() {
  static const std::vector<std::string> kTables = {"workloads",    "platforms",   "sessions",
                                                   "measurements", "predictions", "embeddings"};
  return kTables;
}

Expected<std::vector<TableCount>> Database::tableCounts() const {
  std::vector<TableCount> counts;
  for (const std::string& table : tableNames()) {
    // Table names come from the fixed list above; identifiers cannot be bound parameters.
    auto rows = singleInt(db_.get(), fmt::format("SELECT count(*) FROM {}", table), "count rows of " + table);
    if (!rows) return rows.error();
    counts.push_back({table, *rows});
  }
  return counts;
}

Expected<std::int64_t> Database::upsertWorkload(const WorkloadRecord& workload) {
  if (workload.contentSha256.empty())
    return makeError(ErrorCode::kInvalidInput, "workload without a content hash");
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  std::int64_t id = 0;
  {
    auto find = SqliteStatement::prepare(db, "SELECT id, ir_sha256 FROM workloads WHERE content_sha256 = ?1");
    if (!find) return find.error();
    find->bind(1, std::string_view(workload.contentSha256));
    auto row = find->step("find workload");
    if (!row) return row.error();
    if (*row) {
      id = find->columnInt(0);
      if (find->isNull(1) && workload.irSha256) {
        auto update = SqliteStatement::prepare(db, "UPDATE workloads SET ir_sha256 = ?1 WHERE id = ?2");
        if (!update) return update.error();
        update->bind(1, workload.irSha256);
        update->bind(2, id);
        if (auto done = update->step("update workload"); !done) return done.error();
      }
    } else {
      auto insert = SqliteStatement::prepare(db,
                                             "INSERT INTO workloads (content_sha256, ir_sha256, language, "
                                             "path, created) VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!insert) return insert.error();
      insert->bind(1, std::string_view(workload.contentSha256));
      insert->bind(2, workload.irSha256);
      insert->bind(3, std::string_view(workload.language));
      insert->bind(4, std::string_view(workload.path));
      insert->bind(5, std::string_view(utcTimestampNow()));
      if (auto done = insert->step("insert workload"); !done) return done.error();
      id = sqlite3_last_insert_rowid(db);
    }
  }
  if (Status status = transaction->commit(); !status) return status.error();
  return id;
}

Expected<std::int64_t> Database::upsertPlatform(const PlatformRecord& platform) {
  if (platform.fingerprint.empty())
    return makeError(ErrorCode::kInvalidInput, "platform without a fingerprint");
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  std::int64_t id = 0;
  {
    auto find = SqliteStatement::prepare(db, "SELECT id FROM platforms WHERE fingerprint = ?1");
    if (!find) return find.error();
    find->bind(1, std::string_view(platform.fingerprint));
    auto row = find->step("find platform");
    if (!row) return row.error();
    if (*row) {
      id = find->columnInt(0);
    } else {
      auto insert = SqliteStatement::prepare(db,
                                             "INSERT INTO platforms (fingerprint, cpu_model, cores, "
                                             "memory_bytes, os, opencl_devices, gpu, compilers, "
                                             "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      if (!insert) return insert.error();
      insert->bind(1, std::string_view(platform.fingerprint));
      insert->bind(2, std::string_view(platform.cpuModel));
      insert->bind(3, platform.cores);
      insert->bind(4, platform.memoryBytes);
      insert->bind(5, std::string_view(platform.os));
      insert->bind(6, std::string_view(canonicalJson(platform.openclDevices)));
      if (platform.gpu.is_null())
        insert->bindNull(7);
      else
        insert->bind(7, std::string_view(canonicalJson(platform.gpu)));
      insert->bind(8, std::string_view(canonicalJson(platform.compilers)));
      insert->bind(9, std::string_view(utcTimestampNow()));
      if (auto done = insert->step("insert platform"); !done) return done.error();
      id = sqlite3_last_insert_rowid(db);
    }
  }
  if (Status status = transaction->commit(); !status) return status.error();
  return id;
}

Expected<std::int64_t> Database::beginSession(const SessionRecord& session) {
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  {
    auto insert = SqliteStatement::prepare(db,
                                           "INSERT INTO sessions (tool_version, git_commit, command, "
                                           "options, model_ids, seed, platform_id, started) "
                                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!insert) return insert.error();
    insert->bind(1, std::string_view(session.toolVersion));
    insert->bind(2, std::string_view(session.gitCommit));
    insert->bind(3, std::string_view(session.command));
    insert->bind(4, std::string_view(canonicalJson(session.options.is_null() ? nlohmann::json::object()
                                                                             : session.options)));
    insert->bind(5, std::string_view(canonicalJson(nlohmann::json(session.modelIds))));
    insert->bind(6, session.seed);
    insert->bind(7, session.platformId);
    insert->bind(8, std::string_view(utcTimestampNow()));
    if (auto done = insert->step("insert session"); !done) return done.error();
  }
  std::int64_t id = sqlite3_last_insert_rowid(db);
  if (Status status = transaction->commit(); !status) return status.error();
  return id;
}

Status Database::endSession(std::int64_t sessionId) {
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  {
    auto update = SqliteStatement::prepare(db, "UPDATE sessions SET ended = ?1 WHERE id = ?2");
    if (!update) return update.error();
    update->bind(1, std::string_view(utcTimestampNow()));
    update->bind(2, sessionId);
    if (auto done = update->step("end session"); !done) return done.error();
  }
  if (sqlite3_changes(db) == 0)
    return makeError(ErrorCode::kNotFound, "{}: no session {}", path_.string(), sessionId);
  return transaction->commit();
}

namespace {

// Inserts one measurement inside the caller's write transaction; returns its row id.
Expected<std::int64_t> insertMeasurementRow(sqlite3* db, const MeasurementRecord& measurement) {
  auto insert =
      SqliteStatement::prepare(db,
                               "INSERT INTO measurements (session_id, workload_id, platform_id, task, "
                               "configuration, configuration_sha256, "
                               "status, times, median_seconds, spread_seconds, stderr_excerpt, created, ingest_key) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  if (!insert) return insert.error();
  std::string configuration = canonicalJson(measurement.configuration);
  insert->bind(1, measurement.sessionId);
  insert->bind(2, measurement.workloadId);
  insert->bind(3, measurement.platformId);
  insert->bind(4, std::string_view(measurement.task));
  insert->bind(5, std::string_view(configuration));
  insert->bind(6, std::string_view(sha256Hex(configuration)));
  insert->bind(7, measureStatusName(measurement.status));
  insert->bind(8, std::string_view(canonicalJson(nlohmann::json(measurement.timesSeconds))));
  insert->bind(9, measurement.medianSeconds);
  insert->bind(10, measurement.spreadSeconds);
  insert->bind(11, measurement.stderrExcerpt);
  insert->bind(12, std::string_view(utcTimestampNow()));
  insert->bind(13, measurement.ingestKey);
  if (auto done = insert->step("insert measurement"); !done) return done.error();
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db));
}

// The id of the measurement stored under `ingestKey`, or nullopt.
Expected<std::optional<std::int64_t>> measurementWithIngestKey(sqlite3* db, std::string_view ingestKey) {
  auto select = SqliteStatement::prepare(db, "SELECT id FROM measurements WHERE ingest_key = ?1");
  if (!select) return select.error();
  select->bind(1, ingestKey);
  auto row = select->step("find ingested measurement");
  if (!row) return row.error();
  if (!*row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(select->columnInt(0));
}

Status checkMeasurementNumbers(const MeasurementRecord& measurement) {
  for (double time : measurement.timesSeconds) {
    if (!std::isfinite(time))
      return makeError(ErrorCode::kInvalidInput, "measurement time {} is not finite", time);
  }
  if (Status status = checkFinite(measurement.medianSeconds, "median time"); !status) return status;
  return checkFinite(measurement.spreadSeconds, "time spread");
}

}  // namespace

Expected<std::int64_t> Database::insertMeasurement(const MeasurementRecord& measurement) {
  if (Status checked = checkMeasurementNumbers(measurement); !checked) return checked.error();
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  auto id = insertMeasurementRow(db, measurement);
  if (!id) return id.error();
  if (Status status = transaction->commit(); !status) return status.error();
  return *id;
}

Expected<Database::InsertedMeasurement> Database::insertMeasurementOnce(const MeasurementRecord& measurement) {
  if (!measurement.ingestKey || measurement.ingestKey->empty()) {
    return Error(ErrorCode::kInvalidInput, "insertMeasurementOnce needs an ingest key");
  }
  if (Status checked = checkMeasurementNumbers(measurement); !checked) return checked.error();
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  auto existing = measurementWithIngestKey(db, *measurement.ingestKey);
  if (!existing) return existing.error();
  if (*existing) return InsertedMeasurement{**existing, false};  // the transaction rolls back: nothing written
  auto id = insertMeasurementRow(db, measurement);
  if (!id) return id.error();
  if (Status status = transaction->commit(); !status) return status.error();
  return InsertedMeasurement{*id, true};
}

Expected<bool> Database::hasIngestKey(std::string_view ingestKey) const {
  auto existing = measurementWithIngestKey(db_.get(), ingestKey);
  if (!existing) return existing.error();
  return existing->has_value();
}

Expected<std::int64_t> Database::insertPrediction(const PredictionRecord& prediction) {
  if (Status status = checkFinite(prediction.score, "prediction score"); !status) return status.error();
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  {
    auto insert = SqliteStatement::prepare(
        db,
        "INSERT INTO predictions (session_id, workload_id, task, model_id, configuration, score, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!insert) return insert.error();
    insert->bind(1, prediction.sessionId);
    insert->bind(2, prediction.workloadId);
    insert->bind(3, std::string_view(prediction.task));
    insert->bind(4, std::string_view(prediction.modelId));
    insert->bind(5, std::string_view(canonicalJson(prediction.configuration)));
    insert->bind(6, prediction.score);
    insert->bind(7, std::string_view(utcTimestampNow()));
    if (auto done = insert->step("insert prediction"); !done) return done.error();
  }
  std::int64_t id = sqlite3_last_insert_rowid(db);
  if (Status status = transaction->commit(); !status) return status.error();
  return id;
}

Status Database::putEmbedding(const EmbeddingRecord& embedding) {
  if (embedding.vector.empty()) {
    return makeError(ErrorCode::kInvalidInput, "empty embedding for {} / {}", embedding.irSha256,
                     embedding.modelId);
  }
  for (float value : embedding.vector) {
    if (!std::isfinite(value)) {
      return makeError(ErrorCode::kInvalidInput, "embedding for {} / {} has a non-finite value",
                       embedding.irSha256, embedding.modelId);
    }
  }
  sqlite3* db = db_.get();
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return transaction.error();
  {
    auto upsert = SqliteStatement::prepare(db,
                                           "INSERT INTO embeddings (ir_sha256, model_id, dimension, vector, "
                                           "created) VALUES (?1, ?2, ?3, ?4, ?5) "
                                           "ON CONFLICT (ir_sha256, model_id) DO UPDATE SET dimension = "
                                           "excluded.dimension, vector = excluded.vector, "
                                           "created = excluded.created");
    if (!upsert) return upsert.error();
    upsert->bind(1, std::string_view(embedding.irSha256));
    upsert->bind(2, std::string_view(embedding.modelId));
    upsert->bind(3, static_cast<std::int64_t>(embedding.vector.size()));
    upsert->bindBlob(4, detail::encodeFloat32(embedding.vector));
    upsert->bind(5, std::string_view(utcTimestampNow()));
    if (auto done = upsert->step("store embedding"); !done) return done.error();
  }
  return transaction->commit();
}

Expected<std::optional<EmbeddingRecord>> Database::getEmbedding(std::string_view irSha256,
                                                                std::string_view modelId) const {
  auto select = SqliteStatement::prepare(
      db_.get(), "SELECT dimension, vector, created FROM embeddings WHERE ir_sha256 = ?1 AND model_id = ?2");
  if (!select) return select.error();
  select->bind(1, irSha256);
  select->bind(2, modelId);
  auto row = select->step("read embedding");
  if (!row) return row.error();
  if (!*row) return std::optional<EmbeddingRecord>();
  std::vector<std::uint8_t> bytes = select->columnBlob(1);
  if (bytes.size() != static_cast<std::size_t>(select->columnInt(0)) * 4) {
    return makeError(ErrorCode::kDatabase, "{}: embedding {} / {} has a vector of {} bytes for dimension {}",
                     path_.string(), irSha256, modelId, bytes.size(), select->columnInt(0));
  }
  EmbeddingRecord record;
  record.irSha256 = std::string(irSha256);
  record.modelId = std::string(modelId);
  record.vector = detail::decodeFloat32(bytes);
  record.created = select->columnText(2);
  return std::optional<EmbeddingRecord>(std::move(record));
}

Expected<std::optional<WorkloadRecord>> Database::getWorkload(std::int64_t id) const {
  auto select = SqliteStatement::prepare(
      db_.get(),
      "SELECT id, content_sha256, ir_sha256, language, path, created FROM workloads WHERE id = ?1");
  if (!select) return select.error();
  select->bind(1, id);
  auto row = select->step("read workload");
  if (!row) return row.error();
  if (!*row) return std::optional<WorkloadRecord>();
  WorkloadRecord record;
  record.id = select->columnInt(0);
  record.contentSha256 = select->columnText(1);
  record.irSha256 = select->columnOptionalText(2);
  record.language = select->columnText(3);
  record.path = select->columnText(4);
  record.created = select->columnText(5);
  return std::optional<WorkloadRecord>(std::move(record));
}

Expected<std::optional<PlatformRecord>> Database::getPlatform(std::int64_t id) const {
  auto select =
      SqliteStatement::prepare(db_.get(),
                               "SELECT id, fingerprint, cpu_model, cores, memory_bytes, os, opencl_devices, "
                               "gpu, compilers, created FROM platforms WHERE id = ?1");
  if (!select) return select.error();
  select->bind(1, id);
  auto row = select->step("read platform");
  if (!row) return row.error();
  if (!*row) return std::optional<PlatformRecord>();
  PlatformRecord record;
  record.id = select->columnInt(0);
  record.fingerprint = select->columnText(1);
  record.cpuModel = select->columnText(2);
  record.cores = select->columnInt(3);
  record.memoryBytes = select->columnInt(4);
  record.os = select->columnText(5);
  auto opencl = parseJsonColumn(*select, 6, "platforms.opencl_devices");
  auto gpu = parseJsonColumn(*select, 7, "platforms.gpu");
  auto compilers = parseJsonColumn(*select, 8, "platforms.compilers");
  if (!opencl) return opencl.error();
  if (!gpu) return gpu.error();
  if (!compilers) return compilers.error();
  record.openclDevices = std::move(*opencl);
  record.gpu = std::move(*gpu);
  record.compilers = std::move(*compilers);
  record.created = select->columnText(9);
  return std::optional<PlatformRecord>(std::move(record));
}

Expected<std::optional<SessionRecord>> Database::getSession(std::int64_t id) const {
  auto select =
      SqliteStatement::prepare(db_.get(),
                               "SELECT id, tool_version, git_commit, command, options, model_ids, seed, "
                               "platform_id, started, ended FROM sessions WHERE id = ?1");
  if (!select) return select.error();
  select->bind(1, id);
  auto row = select->step("read session");
  if (!row) return row.error();
  if (!*row) return std::optional<SessionRecord>();
  SessionRecord record;
  record.id = select->columnInt(0);
  record.toolVersion = select->columnText(1);
  record.gitCommit = select->columnText(2);
  record.command = select->columnText(3);
  auto options = parseJsonColumn(*select, 4, "sessions.options");
  auto models = parseJsonColumn(*select, 5, "sessions.model_ids");
  if (!options) return options.error();
  if (!models) return models.error();
  record.options = std::move(*options);
  for (const auto& model : *models) {
    if (model.is_string()) record.modelIds.push_back(model.get<std::string>());
  }
  record.seed = select->columnOptionalInt(6);
  record.platformId = select->columnOptionalInt(7);
  record.started = select->columnText(8);
  record.ended = select->columnOptionalText(9);
  return std::optional<SessionRecord>(std::move(record));
}

Expected<std::vector<MeasurementRecord>> Database::listMeasurements(
    std::optional<std::int64_t> sessionId) const {
  auto select =
      SqliteStatement::prepare(db_.get(),
                               "SELECT id, session_id, workload_id, platform_id, task, configuration, "
                               "configuration_sha256, status, times, "
                               "median_seconds, spread_seconds, stderr_excerpt, created, ingest_key FROM measurements "
                               "WHERE ?1 IS NULL OR session_id = ?1 ORDER BY id");
  if (!select) return select.error();
  select->bind(1, sessionId);
  std::vector<MeasurementRecord> records;
  for (;;) {
    auto row = select->step("read measurements");
    if (!row) return row.error();
    if (!*row) break;
    MeasurementRecord record;
    record.id = select->columnInt(0);
    record.sessionId = select->columnInt(1);
    record.workloadId = select->columnInt(2);
    record.platformId = select->columnInt(3);
    record.task = select->columnText(4);
    auto configuration = parseJsonColumn(*select, 5, "measurements.configuration");
    if (!configuration) return configuration.error();
    record.configuration = std::move(*configuration);
    record.configurationSha256 = select->columnText(6);
    auto status = parseMeasureStatus(select->columnText(7));
    if (!status) return status.error().withContext(path_.string());
    record.status = *status;
    auto times = parseJsonColumn(*select, 8, "measurements.times");
    if (!times) return times.error();
    for (const auto& time : *times) {
      if (time.is_number()) record.timesSeconds.push_back(time.get<double>());
    }
    record.medianSeconds = select->columnOptionalDouble(9);
    record.spreadSeconds = select->columnOptionalDouble(10);
    record.stderrExcerpt = select->columnOptionalText(11);
    record.created = select->columnText(12);
    record.ingestKey = select->columnOptionalText(13);
    records.push_back(std::move(record));
  }
  return records;
}

Expected<std::vector<PredictionRecord>> Database::listPredictions(
    std::optional<std::int64_t> sessionId) const {
  auto select = SqliteStatement::prepare(
      db_.get(),
      "SELECT id, session_id, workload_id, task, model_id, configuration, score, created FROM predictions "
      "WHERE ?1 IS NULL OR session_id = ?1 ORDER BY id");
  if (!select) return select.error();
  select->bind(1, sessionId);
  std::vector<PredictionRecord> records;
  for (;;) {
    auto row = select->step("read predictions");
    if (!row) return row.error();
    if (!*row) break;
    PredictionRecord record;
    record.id = select->columnInt(0);
    record.sessionId = select->columnInt(1);
    record.workloadId = select->columnInt(2);
    record.task = select->columnText(3);
    record.modelId = select->columnText(4);
    auto configuration = parseJsonColumn(*select, 5, "predictions.configuration");
    if (!configuration) return configuration.error();
    record.configuration = std::move(*configuration);
    record.score = select->columnOptionalDouble(6);
    record.created = select->columnText(7);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace mirtune
