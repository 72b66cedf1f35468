// Tests of mirtune_database: migrations, versions, constraints, concurrent writers, embeddings and export.
#include "database/CanonicalJson.h"
#include "database/Database.h"
#include "database/MeasureStatus.h"
#include "database/Migrations.h"
#include "database/SqliteStatement.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    folder_ = fs::temp_directory_path() / fmt::format("mirtune-db-test-{}-{:08x}", getpid(), random());
    fs::create_directories(folder_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(folder_, ec);
  }

  fs::path folder_;
};

// Runs one SQL statement through the plain SQLite API (outside the access layer); returns the result code.
int rawExec(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  int extended = sqlite3_extended_errcode(db);
  sqlite3_close(db);
  return code == SQLITE_OK ? SQLITE_OK : extended;
}

std::string rawText(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string text;
  if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
    text = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return text;
}

// Ids of a workload, platform and session to hang measurements on.
struct Fixture {
  std::int64_t workloadId = 0;
  std::int64_t platformId = 0;
  std::int64_t sessionId = 0;
};

Fixture addFixture(Database& database) {
  Fixture fixture;
  WorkloadRecord workload;
  workload.contentSha256 = "content-1";
  workload.language = "opencl";
  workload.path = "k.cl";
  fixture.workloadId = database.upsertWorkload(workload).value();
  PlatformRecord platform;
  platform.fingerprint = "fp-1";
  platform.cpuModel = "cpu";
  platform.cores = 2;
  platform.memoryBytes = 1024;
  platform.os = "os";
  fixture.platformId = database.upsertPlatform(platform).value();
  SessionRecord session;
  session.command = "test";
  fixture.sessionId = database.beginSession(session).value();
  return fixture;
}

MeasurementRecord okMeasurement(const Fixture& fixture, int index) {
  MeasurementRecord measurement;
  measurement.sessionId = fixture.sessionId;
  measurement.workloadId = fixture.workloadId;
  measurement.platformId = fixture.platformId;
  measurement.task = "unroll";
  measurement.configuration = {{"unroll", index}};
  measurement.timesSeconds = {0.5, 0.25};
  measurement.medianSeconds = 0.375;
  return measurement;
}

TEST(CanonicalJsonTest, SortsKeysDropsSpacesAndNormalisesNumbers) {
  nlohmann::json a = nlohmann::json::parse(R"({"b": [1, 2.0, -0.0], "a": {"z": 1.5, "é": "x", "y": true}})");
  EXPECT_EQ(canonicalJson(a), R"({"a":{"y":true,"z":1.5,"é":"x"},"b":[1,2,0]})");
  nlohmann::json b = nlohmann::json::parse(R"({"a": {"é": "x", "y": true, "z": 1.5}, "b": [1.0, 2, 0]})");
  EXPECT_EQ(canonicalJsonSha256(a), canonicalJsonSha256(b));
  EXPECT_NE(canonicalJsonSha256(a), canonicalJsonSha256(nlohmann::json{{"a", 1}}));
  EXPECT_EQ(canonicalJsonSha256(a).size(), 64u);
  EXPECT_EQ(canonicalJson(std::numeric_limits<double>::infinity()), "null");
}

TEST(CanonicalJsonTest, InvalidUtf8IsReplacedNotThrown) {
  nlohmann::json value = std::string("bad \xff byte");
  EXPECT_EQ(canonicalJson(value), "\"bad \xEF\xBF\xBD byte\"");
}

TEST(MeasureStatusTest, NamesRoundTripAndUnknownIsRejected) {
  for (std::size_t i = 0; i < kMeasureStatusNames.size(); ++i) {
    auto status = static_cast<MeasureStatus>(i);
    auto parsed = parseMeasureStatus(measureStatusName(status));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, status);
    EXPECT_NE(measureStatusSqlList().find(fmt::format("'{}'", kMeasureStatusNames[i])), std::string::npos);
  }
  EXPECT_EQ(measureStatusName(MeasureStatus::kWrongOutput), "wrong_output");
  auto unknown = parseMeasureStatus("fast");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("build_timeout"), std::string::npos);
}

TEST(MigrationsTest, NumberedFromOneToTheSchemaVersion) {
  const auto& migrations = schemaMigrations();
  ASSERT_EQ(static_cast<int>(migrations.size()), kSchemaVersion);
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(migrations[i].sql.empty());
  }
}

TEST_F(DatabaseTest, OpeningAnEmptyFileAppliesEveryMigration) {
  fs::path path = folder_ / "nested" / "folder" / "mirtune.db";
  auto database = Database::open(path);
  ASSERT_TRUE(database.ok()) << database.error().message();
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(database->migrationsApplied(), kSchemaVersion);
  EXPECT_EQ(database->schemaVersion().value(), kSchemaVersion);
  EXPECT_EQ(rawText(path, "PRAGMA journal_mode"), "wal");

  // tableNames() must list exactly the tables the schema creates (export and info rely on it).
  std::set<std::string> created;
  for (const std::string& name : Database::tableNames()) {
    created.insert(rawText(
        path, fmt::format("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{}'", name)));
  }
  EXPECT_EQ(created, std::set<std::string>(Database::tableNames().begin(), Database::tableNames().end()));
  EXPECT_EQ(
      rawText(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"),
      std::to_string(Database::tableNames().size()));
  // The CHECK on status is generated from the one status table.
  std::string schema = rawText(path, "SELECT sql FROM sqlite_master WHERE name = 'measurements'");
  for (std::string_view name : kMeasureStatusNames)
    EXPECT_NE(schema.find(fmt::format("'{}'", name)), std::string::npos);

  auto counts = database->tableCounts();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), Database::tableNames().size());
  for (const TableCount& count : *counts) EXPECT_EQ(count.rows, 0) << count.table;
}

TEST_F(DatabaseTest, ReopeningACurrentDatabaseDoesNoWorkAndKeepsData) {
  fs::path path = folder_ / "mirtune.db";
  std::int64_t workloadId = 0;
  {
    auto database = Database::open(path);
    ASSERT_TRUE(database.ok()) << database.error().message();
    WorkloadRecord workload;
    workload.contentSha256 = "abc";
    workload.language = "c";
    workload.path = "kernel.c";
    workloadId = database->upsertWorkload(workload).value();
  }
  auto reopened = Database::open(path, Database::OpenMode::kExisting);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message();
  EXPECT_EQ(reopened->migrationsApplied(), 0);
  EXPECT_EQ(reopened->schemaVersion().value(), kSchemaVersion);
  auto workload = reopened->getWorkload(workloadId);
  ASSERT_TRUE(workload.ok());
  ASSERT_TRUE(workload->has_value());
  EXPECT_EQ((*workload)->path, "kernel.c");
  EXPECT_EQ(rawText(path, "SELECT count(*) FROM workloads"), "1");
}

TEST_F(DatabaseTest, AVersionOneDatabaseIsUpgradedKeepingItsMeasurements) {
  // A database written before ingest keys existed: version 1's schema and one measurement.
  fs::path path = folder_ / "v1.db";
  ASSERT_EQ(rawExec(path, schemaMigrations()[0].sql + "PRAGMA user_version = 1;"), SQLITE_OK);
  ASSERT_EQ(rawExec(path,
                    "INSERT INTO workloads (content_sha256, language, path, created) VALUES ('c', 'c', 'a.c', 't');"
                    "INSERT INTO platforms (fingerprint, cpu_model, cores, memory_bytes, os, opencl_devices, compilers, "
                    "created) VALUES ('f', 'cpu', 2, 1, 'os', '[]', '{}', 't');"
                    "INSERT INTO sessions (tool_version, git_commit, command, options, model_ids, started) "
                    "VALUES ('v', 'g', 'c', '{}', '[]', 't');"
                    "INSERT INTO measurements (session_id, workload_id, platform_id, task, configuration, "
                    "configuration_sha256, status, times, median_seconds, created) "
                    "VALUES (1, 1, 1, 'omp', '{}', 'x', 'ok', '[1]', 1, 't');"),
            SQLITE_OK);
  auto database = Database::open(path, Database::OpenMode::kExisting);
  ASSERT_TRUE(database.ok()) << database.error().message();
  EXPECT_EQ(database->migrationsApplied(), kSchemaVersion - 1);
  auto old = database->listMeasurements();
  ASSERT_TRUE(old.ok()) << old.error().message();
  ASSERT_EQ(old->size(), 1u);
  EXPECT_FALSE(old->front().ingestKey.has_value());
}

TEST_F(DatabaseTest, AnIngestKeyIsStoredOnceEvenWhenInsertedAgain) {
  auto database = Database::open(folder_ / "once.db");
  ASSERT_TRUE(database.ok()) << database.error().message();
  const Fixture fixture = addFixture(*database);
  MeasurementRecord measurement = okMeasurement(fixture, 1);
  EXPECT_EQ(database->insertMeasurementOnce(measurement).error().code(), ErrorCode::kInvalidInput);  // no key
  measurement.ingestKey = "campaign-a/3/config-sha/0:0";
  EXPECT_FALSE(database->hasIngestKey(*measurement.ingestKey).value());
  auto first = database->insertMeasurementOnce(measurement);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_TRUE(first->inserted);
  measurement.medianSeconds = 9.0;  // a second copy of the same result, read again
  auto second = database->insertMeasurementOnce(measurement);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_FALSE(second->inserted);
  EXPECT_EQ(second->id, first->id);
  EXPECT_TRUE(database->hasIngestKey(*measurement.ingestKey).value());
  // Another key, and measurements without a key (measured here), are independent of it.
  measurement.ingestKey = "campaign-b/3/config-sha/0:0";
  EXPECT_TRUE(database->insertMeasurementOnce(measurement).value().inserted);
  EXPECT_TRUE(database->insertMeasurement(okMeasurement(fixture, 2)).ok());
  EXPECT_TRUE(database->insertMeasurement(okMeasurement(fixture, 2)).ok());
  auto stored = database->listMeasurements();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 4u);
  EXPECT_EQ(stored->at(0).ingestKey, std::optional<std::string>("campaign-a/3/config-sha/0:0"));
  EXPECT_EQ(stored->at(0).medianSeconds, std::optional<double>(0.375));  // the first copy is the one kept
  EXPECT_FALSE(stored->at(2).ingestKey.has_value());
  // The unique index holds against a writer that bypasses the check.
  EXPECT_EQ(rawExec(folder_ / "once.db",
                    "INSERT INTO measurements (session_id, workload_id, platform_id, task, configuration, "
                    "configuration_sha256, status, times, median_seconds, created, ingest_key) "
                    "VALUES (1, 1, 1, 'omp', '{}', 'x', 'ok', '[1]', 1, 't', 'campaign-a/3/config-sha/0:0')"),
            SQLITE_CONSTRAINT_UNIQUE);
}

TEST_F(DatabaseTest, RefusesADatabaseFromANewerMirtune) {
  fs::path path = folder_ / "newer.db";
  ASSERT_TRUE(Database::open(path).ok());
  ASSERT_EQ(rawExec(path, fmt::format("PRAGMA user_version = {}", kSchemaVersion + 1)), SQLITE_OK);
  auto database = Database::open(path);
  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.error().code(), ErrorCode::kVersion);
  EXPECT_NE(database.error().message().find(path.string()), std::string::npos) << database.error().message();
  EXPECT_EQ(rawText(path, "PRAGMA user_version"), std::to_string(kSchemaVersion + 1));
}

TEST_F(DatabaseTest, RefusesAForeignSqliteFileAndAMissingOne) {
  fs::path foreign = folder_ / "foreign.db";
  ASSERT_EQ(rawExec(foreign, "CREATE TABLE notes (text TEXT)"), SQLITE_OK);
  auto database = Database::open(foreign);
  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.error().code(), ErrorCode::kInvalidInput);

  auto missing = Database::open(folder_ / "missing.db", Database::OpenMode::kExisting);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(folder_ / "missing.db"));
}

TEST_F(DatabaseTest, WorkloadsAndPlatformsAreDeduplicatedByHash) {
  auto database = Database::open(folder_ / "mirtune.db");
  ASSERT_TRUE(database.ok());
  WorkloadRecord workload;
  workload.contentSha256 = "same";
  workload.language = "opencl";
  workload.path = "first.cl";
  std::int64_t first = database->upsertWorkload(workload).value();
  workload.path = "second.cl";
  workload.irSha256 = "ir-hash";
  EXPECT_EQ(database->upsertWorkload(workload).value(), first);
  auto stored = database->getWorkload(first).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->path, "first.cl");
  EXPECT_EQ(stored->irSha256, std::optional<std::string>("ir-hash"));  // learned on the second insert
  workload.contentSha256 = "other";
  EXPECT_NE(database->upsertWorkload(workload).value(), first);

  PlatformRecord platform;
  platform.fingerprint = "fp";
  platform.cpuModel = "cpu";
  platform.cores = 8;
  platform.memoryBytes = 1 << 20;
  platform.os = "linux";
  platform.gpu = nlohmann::json::array({{{"name", "GPU"}}});
  platform.compilers = {{"g++", "12"}};
  std::int64_t platformId = database->upsertPlatform(platform).value();
  EXPECT_EQ(database->upsertPlatform(platform).value(), platformId);
  auto counts = database->tableCounts().value();
  EXPECT_EQ(counts[0].table, "workloads");
  EXPECT_EQ(counts[0].rows, 2);
  EXPECT_EQ(counts[1].table, "platforms");
  EXPECT_EQ(counts[1].rows, 1);
  auto storedPlatform = database->getPlatform(platformId).value();
  ASSERT_TRUE(storedPlatform.has_value());
  EXPECT_EQ(storedPlatform->gpu, platform.gpu);
  EXPECT_EQ(storedPlatform->compilers, platform.compilers);
  EXPECT_EQ(storedPlatform->cores, 8);
}

TEST_F(DatabaseTest, SessionsRecordProvenanceAndEnd) {
  auto database = Database::open(folder_ / "mirtune.db");
  ASSERT_TRUE(database.ok());
  SessionRecord session;
  session.toolVersion = "0.1.0";
  session.gitCommit = "abc123";
  session.command = "tune devmap";
  session.options = {{"top_k", 3}};
  session.modelIds = {"encoder-v1", "devmap-head-v1"};
  session.seed = 42;
  std::int64_t id = database->beginSession(session).value();
  auto started = database->getSession(id).value();
  ASSERT_TRUE(started.has_value());
  EXPECT_FALSE(started->ended.has_value());
  EXPECT_EQ(started->modelIds, session.modelIds);
  EXPECT_EQ(started->seed, std::optional<std::int64_t>(42));
  EXPECT_EQ(started->options, session.options);
  EXPECT_EQ(started->started.size(), 24u);  // 2024-05-01T12:34:56.789Z
  EXPECT_EQ(started->started.back(), 'Z');
  ASSERT_TRUE(database->endSession(id).ok());
  EXPECT_TRUE(database->getSession(id).value()->ended.has_value());
  Status unknown = database->endSession(id + 100);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_F(DatabaseTest, StatusCheckRejectsAnUnknownStatus) {
  fs::path path = folder_ / "mirtune.db";
  auto database = Database::open(path);
  ASSERT_TRUE(database.ok());
  Fixture fixture = addFixture(*database);
  ASSERT_TRUE(database->insertMeasurement(okMeasurement(fixture, 1)).ok());

  // Straight through SQLite, past the typed layer: the schema itself refuses the row.
  auto insert = [&](std::string_view status) {
    return fmt::format(
        "INSERT INTO measurements (session_id, workload_id, platform_id, task, configuration, "
        "configuration_sha256, "
        "status, times, median_seconds, created) VALUES ({}, {}, {}, 't', '{{}}', 'h', '{}', '[]', 1.0, "
        "'now')",
        fixture.sessionId, fixture.workloadId, fixture.platformId, status);
  };
  EXPECT_EQ(rawExec(path, insert("fast")), SQLITE_CONSTRAINT_CHECK);
  EXPECT_EQ(rawExec(path, insert("OK")), SQLITE_CONSTRAINT_CHECK);
  EXPECT_EQ(rawExec(path, insert("run_timeout")), SQLITE_OK);

  // Through the layer: a value outside the enum, and "ok" without a runtime.
  MeasurementRecord bad = okMeasurement(fixture, 2);
  bad.status = static_cast<MeasureStatus>(99);
  auto rejected = database->insertMeasurement(bad);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code(), ErrorCode::kDatabase);
  EXPECT_NE(rejected.error().message().find("CHECK"), std::string::npos) << rejected.error().message();
  MeasurementRecord noTime = okMeasurement(fixture, 3);
  noTime.medianSeconds.reset();
  EXPECT_FALSE(database->insertMeasurement(noTime).ok());
  noTime.status = MeasureStatus::kBuildFailed;
  EXPECT_TRUE(database->insertMeasurement(noTime).ok());

  // Foreign keys are on: a measurement of a workload that does not exist is refused.
  MeasurementRecord orphan = okMeasurement(fixture, 4);
  orphan.workloadId = fixture.workloadId + 1000;
  EXPECT_FALSE(database->insertMeasurement(orphan).ok());
  EXPECT_EQ(database->listMeasurements().value().size(), 3u);
}

TEST_F(DatabaseTest, EmbeddingsRoundTripBitForBit) {
  fs::path path = folder_ / "mirtune.db";
  auto database = Database::open(path);
  ASSERT_TRUE(database.ok());
  EmbeddingRecord embedding;
  embedding.irSha256 = "ir";
  embedding.modelId = "encoder-v1";
  embedding.vector = {0.1f, -2.5f, 1e-8f, 3.4e38f, 0.0f, -0.0f, 1.17549435e-38f};
  ASSERT_TRUE(database->putEmbedding(embedding).ok());
  auto stored = database->getEmbedding("ir", "encoder-v1");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  ASSERT_EQ((*stored)->vector.size(), embedding.vector.size());
  EXPECT_EQ(
      std::memcmp((*stored)->vector.data(), embedding.vector.data(), embedding.vector.size() * sizeof(float)),
      0);
  EXPECT_EQ(rawText(path, "SELECT length(vector) FROM embeddings"),
            std::to_string(4 * embedding.vector.size()));
  // Little-endian float32 whatever the host: 0.1f is 0x3dcccccd.
  EXPECT_EQ(rawText(path, "SELECT hex(substr(vector, 1, 4)) FROM embeddings"), "CDCCCC3D");

  embedding.vector = {1.0f, 2.0f};
  ASSERT_TRUE(database->putEmbedding(embedding).ok());
  EXPECT_EQ(database->getEmbedding("ir", "encoder-v1").value()->vector, embedding.vector);
  EXPECT_FALSE(database->getEmbedding("ir", "encoder-v2").value().has_value());
  EXPECT_FALSE(database->getEmbedding("other", "encoder-v1").value().has_value());
  embedding.vector.clear();
  EXPECT_FALSE(database->putEmbedding(embedding).ok());
  embedding.vector = {std::numeric_limits<float>::quiet_NaN()};
  EXPECT_FALSE(database->putEmbedding(embedding).ok());
  EXPECT_EQ(database->tableCounts().value().back().rows, 1);
}

TEST_F(DatabaseTest, ConcurrentWritersLoseNothingAndNeverSeeALock) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 250;
  // A fresh path: the writers also race to create the file and apply the migrations.
  fs::path path = folder_ / "shared" / "mirtune.db";
  std::vector<Expected<SubprocessResult>> results(kWriters, Error(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int writer = 0; writer < kWriters; ++writer) {
    threads.emplace_back([&, writer] {
      SubprocessOptions options;
      options.argv = {MIRTUNE_DB_WRITER, path.string(), std::to_string(writer), std::to_string(kPerWriter)};
      options.timeoutSeconds = 120;
      results[static_cast<std::size_t>(writer)] = runSubprocess(options);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int writer = 0; writer < kWriters; ++writer) {
    const auto& result = results[static_cast<std::size_t>(writer)];
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_TRUE(result->succeeded()) << "writer " << writer << ": " << result->describe() << "\n"
                                     << result->standardError;
    EXPECT_EQ(result->standardError.find("locked"), std::string::npos) << result->standardError;
  }

  auto database = Database::open(path, Database::OpenMode::kExisting);
  ASSERT_TRUE(database.ok()) << database.error().message();
  EXPECT_EQ(database->migrationsApplied(), 0);
  std::map<std::string, std::int64_t> counts;
  auto tableCounts = database->tableCounts();
  ASSERT_TRUE(tableCounts.ok());
  for (const TableCount& count : *tableCounts) counts[count.table] = count.rows;
  EXPECT_EQ(counts["measurements"], kWriters * kPerWriter);
  EXPECT_EQ(counts["sessions"], kWriters);
  EXPECT_EQ(counts["workloads"], 1);  // all four asked for the same workload and platform at the same time
  EXPECT_EQ(counts["platforms"], 1);
  auto measurements = database->listMeasurements().value();
  std::set<std::string> configurations;
  std::map<std::int64_t, int> perSession;
  for (const auto& measurement : measurements) {
    configurations.insert(measurement.configurationSha256);
    ++perSession[measurement.sessionId];
  }
  EXPECT_EQ(configurations.size(), static_cast<std::size_t>(kWriters * kPerWriter));
  ASSERT_EQ(perSession.size(), static_cast<std::size_t>(kWriters));
  for (const auto& [session, rows] : perSession) {
    EXPECT_EQ(rows, kPerWriter);
    EXPECT_TRUE(database->getSession(session).value()->ended.has_value());
  }
}

// RFC 4180 reader for the round-trip tests: CRLF between records; an unquoted empty field is NULL (nullopt).
std::vector<std::vector<std::optional<std::string>>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<std::optional<std::string>> row;
  std::size_t i = 0;
  while (i < text.size()) {
    std::optional<std::string> field;
    if (text[i] == '"') {
      std::string value;
      ++i;
      for (;;) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted field";
          return rows;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            value += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += text[i++];
      }
      field = value;
    } else {
      std::size_t end = text.find_first_of(",\r\n", i);
      if (end == std::string::npos) end = text.size();
      std::string value = text.substr(i, end - i);
      EXPECT_EQ(value.find('"'), std::string::npos) << "quote inside an unquoted field";
      if (!value.empty()) field = value;
      i = end;
    }
    row.push_back(field);
    if (i < text.size() && text[i] == ',') {
      ++i;
      if (i == text.size()) row.push_back(std::nullopt);
    } else if (text.compare(i, 2, "\r\n") == 0) {
      rows.push_back(row);
      row.clear();
      i += 2;
    } else if (i < text.size()) {
      ADD_FAILURE() << "bare character " << int(text[i]) << " after a field at offset " << i;
      return rows;
    }
  }
  EXPECT_TRUE(row.empty()) << "last record not terminated by CRLF";
  return rows;
}

// A database whose rows carry every awkward value: commas, quotes, CR/LF, non-ASCII, NULLs, an empty string.
class ExportTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    auto opened = Database::open(folder_ / "mirtune.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    database_.emplace(std::move(*opened));
    Database& db = *database_;
    fixture_ = addFixture(db);
    WorkloadRecord awkward;
    awkward.contentSha256 = "awkward";
    awkward.language = "opencl";
    awkward.path = "kernels/a,b \"quoted\"\nsecond line/ünïcödé-😀.cl";
    awkwardWorkload_ = db.upsertWorkload(awkward).value();

    MeasurementRecord ok = okMeasurement(fixture_, 1);
    ok.configuration = {{"local", {64, 1}}, {"name", "a,\"b\""}};
    ok.timesSeconds = {0.001, 0.0011, 0.00105};
    ok.medianSeconds = 0.00105;
    ok.spreadSeconds = 1e-5;
    ASSERT_TRUE(db.insertMeasurement(ok).ok());
    MeasurementRecord failed = okMeasurement(fixture_, 2);
    failed.workloadId = awkwardWorkload_;
    failed.status = MeasureStatus::kRunFailed;
    failed.timesSeconds.clear();
    failed.medianSeconds.reset();
    failed.stderrExcerpt = "error: line 1,\r\n\"boom\" ✗\nline 3";
    ASSERT_TRUE(db.insertMeasurement(failed).ok());
    MeasurementRecord wrong = okMeasurement(fixture_, 3);
    wrong.status = MeasureStatus::kWrongOutput;
    wrong.medianSeconds.reset();
    wrong.stderrExcerpt = "";
    ASSERT_TRUE(db.insertMeasurement(wrong).ok());

    PredictionRecord prediction;
    prediction.sessionId = fixture_.sessionId;
    prediction.workloadId = fixture_.workloadId;
    prediction.task = "devmap";
    prediction.modelId = "head-v1";
    prediction.configuration = {{"device", "GPU"}};
    ASSERT_TRUE(db.insertPrediction(prediction).ok());

    embedding_.irSha256 = "ir,1";
    embedding_.modelId = "encoder \"v1\"";
    embedding_.vector = {0.1f, -2.5f, 1e-8f, 3.4e38f, -0.0f, 123456.789f};
    ASSERT_TRUE(db.putEmbedding(embedding_).ok());
  }

  std::string exported(std::string_view table, ExportFormat format) {
    std::ostringstream out;
    Status status = database_->exportTable(table, format, out);
    EXPECT_TRUE(status.ok()) << status.error().message();
    return out.str();
  }

  std::optional<Database> database_;
  Fixture fixture_;
  std::int64_t awkwardWorkload_ = 0;
  EmbeddingRecord embedding_;
};

std::string optionalDouble(const std::optional<double>& value) {
  return value ? fmt::format("{}", *value) : std::string("NULL");
}

TEST_F(ExportTest, CsvRoundTripsEveryAwkwardValue) {
  auto rows = parseCsv(exported("measurements", ExportFormat::kCsv));
  auto records = database_->listMeasurements().value();
  ASSERT_EQ(rows.size(), records.size() + 1);
  std::map<std::string, std::size_t> column;
  for (std::size_t c = 0; c < rows[0].size(); ++c) column[rows[0][c].value()] = c;
  for (const char* name : {"id", "session_id", "task", "configuration", "configuration_sha256", "status",
                           "times", "median_seconds", "spread_seconds", "stderr_excerpt", "created"}) {
    ASSERT_TRUE(column.count(name)) << name;
  }
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& row = rows[r + 1];
    const auto& record = records[r];
    ASSERT_EQ(row.size(), rows[0].size());
    EXPECT_EQ(row[column["id"]], std::to_string(record.id));
    EXPECT_EQ(row[column["session_id"]], std::to_string(record.sessionId));
    EXPECT_EQ(row[column["configuration"]], canonicalJson(record.configuration));
    EXPECT_EQ(row[column["configuration_sha256"]], canonicalJsonSha256(record.configuration));
    EXPECT_EQ(row[column["status"]], std::string(measureStatusName(record.status)));
    EXPECT_EQ(nlohmann::json::parse(row[column["times"]].value()).get<std::vector<double>>(),
              record.timesSeconds);
    auto median = row[column["median_seconds"]];
    EXPECT_EQ(median ? fmt::format("{}", std::stod(*median)) : "NULL", optionalDouble(record.medianSeconds));
    if (record.medianSeconds) {
      EXPECT_EQ(std::stod(*median), *record.medianSeconds);
    }
    EXPECT_EQ(row[column["stderr_excerpt"]], record.stderrExcerpt);
    EXPECT_EQ(row[column["created"]], record.created);
  }
  EXPECT_FALSE(rows[1][column["stderr_excerpt"]].has_value());                   // NULL
  EXPECT_EQ(rows[3][column["stderr_excerpt"]], std::optional<std::string>(""));  // empty string, not NULL

  auto workloads = parseCsv(exported("workloads", ExportFormat::kCsv));
  ASSERT_EQ(workloads.size(), 3u);
  EXPECT_EQ(workloads[0][4], std::optional<std::string>("path"));
  EXPECT_EQ(workloads[2][0], std::to_string(awkwardWorkload_));
  EXPECT_EQ(workloads[2][4], database_->getWorkload(awkwardWorkload_).value()->path);
  EXPECT_FALSE(workloads[2][2].has_value());  // ir_sha256 NULL

  auto embeddings = parseCsv(exported("embeddings", ExportFormat::kCsv));
  ASSERT_EQ(embeddings.size(), 2u);
  EXPECT_EQ(embeddings[0][3], std::optional<std::string>("vector"));
  EXPECT_EQ(embeddings[1][0], embedding_.irSha256);
  EXPECT_EQ(embeddings[1][1], embedding_.modelId);
  auto stored = database_->getEmbedding(embedding_.irSha256, embedding_.modelId).value().value();
  EXPECT_EQ(embeddings[1][2], std::to_string(stored.vector.size()));
  auto vector = nlohmann::json::parse(embeddings[1][3].value());
  ASSERT_EQ(vector.size(), stored.vector.size());
  for (std::size_t i = 0; i < stored.vector.size(); ++i) {
    float value = static_cast<float>(vector[i].get<double>());
    EXPECT_EQ(std::memcmp(&value, &stored.vector[i], sizeof value), 0) << i;
  }
  auto predictions = parseCsv(exported("predictions", ExportFormat::kCsv));
  ASSERT_EQ(predictions.size(), 2u);
  ASSERT_EQ(predictions[0][6], std::optional<std::string>("score"));
  EXPECT_EQ(predictions[1][6], std::nullopt);  // NULL
  EXPECT_EQ(predictions[1][5], std::optional<std::string>(R"({"device":"GPU"})"));
}

TEST_F(ExportTest, JsonRoundTripsWithTypedValues) {
  auto rows = nlohmann::json::parse(exported("measurements", ExportFormat::kJson));
  auto records = database_->listMeasurements().value();
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), records.size());
  for (std::size_t r = 0; r < records.size(); ++r) {
    const auto& row = rows[r];
    const auto& record = records[r];
    ASSERT_TRUE(row["id"].is_number_integer());
    EXPECT_EQ(row["id"].get<std::int64_t>(), record.id);
    EXPECT_EQ(row["workload_id"].get<std::int64_t>(), record.workloadId);
    EXPECT_EQ(row["task"], record.task);
    EXPECT_EQ(row["configuration"], canonicalJson(record.configuration));
    EXPECT_EQ(row["status"], std::string(measureStatusName(record.status)));
    EXPECT_EQ(nlohmann::json::parse(row["times"].get<std::string>()).get<std::vector<double>>(),
              record.timesSeconds);
    if (record.medianSeconds) {
      ASSERT_TRUE(row["median_seconds"].is_number_float());
      EXPECT_EQ(row["median_seconds"].get<double>(), *record.medianSeconds);
    } else {
      EXPECT_TRUE(row["median_seconds"].is_null());
    }
    if (record.stderrExcerpt) {
      EXPECT_EQ(row["stderr_excerpt"], *record.stderrExcerpt);
    } else {
      EXPECT_TRUE(row["stderr_excerpt"].is_null());
    }
  }
  auto workloads = nlohmann::json::parse(exported("workloads", ExportFormat::kJson));
  ASSERT_EQ(workloads.size(), 2u);
  EXPECT_EQ(workloads[1]["path"], database_->getWorkload(awkwardWorkload_).value()->path);
  EXPECT_TRUE(workloads[1]["ir_sha256"].is_null());

  auto embeddings = nlohmann::json::parse(exported("embeddings", ExportFormat::kJson));
  ASSERT_EQ(embeddings.size(), 1u);
  EXPECT_EQ(embeddings[0]["model_id"], embedding_.modelId);
  EXPECT_TRUE(embeddings[0]["dimension"].is_number_integer());
  const auto& vector = embeddings[0]["vector"];
  ASSERT_TRUE(vector.is_array());
  ASSERT_EQ(vector.size(), embedding_.vector.size());
  for (std::size_t i = 0; i < vector.size(); ++i) {
    float value = static_cast<float>(vector[i].get<double>());
    EXPECT_EQ(std::memcmp(&value, &embedding_.vector[i], sizeof value), 0) << i;
  }
  auto predictions = nlohmann::json::parse(exported("predictions", ExportFormat::kJson));
  EXPECT_TRUE(predictions[0]["score"].is_null());
  auto platforms = nlohmann::json::parse(exported("platforms", ExportFormat::kJson));
  EXPECT_TRUE(platforms[0]["cores"].is_number_integer());
  EXPECT_TRUE(platforms[0]["gpu"].is_null());
}

TEST_F(ExportTest, EmptyTablesAndUnknownTables) {
  auto fresh = Database::open(folder_ / "empty.db");
  ASSERT_TRUE(fresh.ok());
  std::ostringstream json;
  ASSERT_TRUE(fresh->exportTable("measurements", ExportFormat::kJson, json).ok());
  EXPECT_EQ(nlohmann::json::parse(json.str()), nlohmann::json::array());
  std::ostringstream csv;
  ASSERT_TRUE(fresh->exportTable("embeddings", ExportFormat::kCsv, csv).ok());
  EXPECT_EQ(csv.str(), "ir_sha256,model_id,dimension,vector,created\r\n");

  std::ostringstream ignored;
  Status unknown = database_->exportTable("sqlite_master", ExportFormat::kCsv, ignored);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  for (const std::string& table : Database::tableNames()) {
    EXPECT_NE(unknown.error().message().find(table), std::string::npos) << unknown.error().message();
  }
  EXPECT_EQ(parseExportFormat("json").value(), ExportFormat::kJson);
  EXPECT_EQ(parseExportFormat("xml").error().code(), ErrorCode::kUsage);
}

TEST(SqliteStatement, ABindSqliteRefusesFailsTheStepInsteadOfRunningWithoutTheValue) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  {
    auto statement = detail::SqliteStatement::prepare(db, "SELECT ?1");
    ASSERT_TRUE(statement.ok());
    statement->bind(1, std::int64_t{7});
    statement->bind(2, std::string_view("no such parameter"));  // SQLITE_RANGE
    auto stepped = statement->step("select");
    ASSERT_FALSE(stepped.ok());
    EXPECT_EQ(stepped.error().code(), ErrorCode::kDatabase);
    EXPECT_NE(stepped.error().message().find("cannot bind parameter 2"), std::string::npos)
        << stepped.error().message();
  }
  {
    // A value over SQLite's length limit is refused by the bind (SQLITE_TOOBIG), and so is the step.
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16);
    auto statement = detail::SqliteStatement::prepare(db, "SELECT ?1");
    ASSERT_TRUE(statement.ok());
    statement->bind(1, std::string_view("a text longer than sixteen bytes"));
    auto stepped = statement->step("select");
    ASSERT_FALSE(stepped.ok());
    EXPECT_NE(stepped.error().message().find("cannot bind parameter 1"), std::string::npos)
        << stepped.error().message();
  }
  sqlite3_close(db);
}

}  // namespace
}  // namespace mirtune
