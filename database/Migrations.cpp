// Schema migrations of the mirtune database. Times are in seconds, timestamps ISO-8601 UTC text.
#include "database/Migrations.h"

#include "database/MeasureStatus.h"

#include <fmt/format.h>

namespace mirtune {

namespace {

// Version 1: the provenance tables (workloads, platforms, sessions) and the results that refer to them.
// JSON columns are checked with json_valid so a broken writer fails loudly instead of storing junk.
std::string schemaVersion1() {
  return fmt::format(R"sql(
CREATE TABLE workloads (
  id INTEGER PRIMARY KEY,
  content_sha256 TEXT NOT NULL UNIQUE,
  ir_sha256 TEXT,
  language TEXT NOT NULL,
  path TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE INDEX workloads_by_ir ON workloads(ir_sha256);

CREATE TABLE platforms (
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  cpu_model TEXT NOT NULL,
  cores INTEGER NOT NULL CHECK (cores >= 0),
  memory_bytes INTEGER NOT NULL CHECK (memory_bytes >= 0),
  os TEXT NOT NULL,
  opencl_devices TEXT NOT NULL CHECK (json_valid(opencl_devices)),
  gpu TEXT CHECK (gpu IS NULL OR json_valid(gpu)),
  compilers TEXT NOT NULL CHECK (json_valid(compilers)),
  created TEXT NOT NULL
);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  tool_version TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  command TEXT NOT NULL,
  options TEXT NOT NULL CHECK (json_valid(options)),
  model_ids TEXT NOT NULL CHECK (json_valid(model_ids)),
  seed INTEGER,
  platform_id INTEGER REFERENCES platforms(id),
  started TEXT NOT NULL,
  ended TEXT
);
CREATE INDEX sessions_by_platform ON sessions(platform_id);

CREATE TABLE measurements (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  workload_id INTEGER NOT NULL REFERENCES workloads(id),
  platform_id INTEGER NOT NULL REFERENCES platforms(id),
  task TEXT NOT NULL,
  configuration TEXT NOT NULL CHECK (json_valid(configuration)),
  configuration_sha256 TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ({statuses})),
  times TEXT NOT NULL CHECK (json_valid(times)),
  median_seconds REAL,
  spread_seconds REAL,
  stderr_excerpt TEXT,
  created TEXT NOT NULL,
  CHECK (status <> 'ok' OR median_seconds IS NOT NULL)
);
CREATE INDEX measurements_by_config ON measurements(workload_id, platform_id, task, configuration_sha256);
CREATE INDEX measurements_by_session ON measurements(session_id);

CREATE TABLE predictions (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  workload_id INTEGER NOT NULL REFERENCES workloads(id),
  task TEXT NOT NULL,
  model_id TEXT NOT NULL,
  configuration TEXT NOT NULL CHECK (json_valid(configuration)),
  score REAL,
  created TEXT NOT NULL
);
CREATE INDEX predictions_by_workload ON predictions(workload_id, task, model_id);
CREATE INDEX predictions_by_session ON predictions(session_id);

CREATE TABLE embeddings (
  ir_sha256 TEXT NOT NULL,
  model_id TEXT NOT NULL,
  dimension INTEGER NOT NULL CHECK (dimension > 0),
  vector BLOB NOT NULL CHECK (length(vector) = 4 * dimension),
  created TEXT NOT NULL,
  PRIMARY KEY (ir_sha256, model_id)
);
)sql",
                     fmt::arg("statuses", measureStatusSqlList()));
}

// Version 2: the key of a measurement brought back from another machine (campaign, plan folder, configuration,
// device), unique where set, so that ingesting a folder again stores nothing twice.
std::string schemaVersion2() {
  return R"sql(
ALTER TABLE measurements ADD COLUMN ingest_key TEXT;
CREATE UNIQUE INDEX measurements_by_ingest_key ON measurements(ingest_key) WHERE ingest_key IS NOT NULL;
)sql";
}

}  // namespace

const std::vector<Migration>& schemaMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "workloads, platforms, sessions, measurements, predictions, embeddings", schemaVersion1()},
      {2, "measurements.ingest_key: each ingested measurement stored once", schemaVersion2()},
  };
  return kMigrations;
}

}  // namespace mirtune
