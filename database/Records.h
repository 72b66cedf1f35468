// Plain rows of the mirtune database, one struct per table. Times in seconds, timestamps ISO-8601 UTC.
#pragma once

#include "database/MeasureStatus.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// A program that was compiled or measured. Deduplicated by contentSha256.
struct WorkloadRecord {
  std::int64_t id = 0;                  ///< set by the database
  std::string contentSha256;            ///< SHA-256 of the source bytes
  std::optional<std::string> irSha256;  ///< SHA-256 of the canonical IR; empty when it did not compile
  std::string language;                 ///< "opencl", "c", "cpp", "cuda", "llvm-ir"
  std::string path;                     ///< where the source was read from (informative)
  std::string created;                  ///< set by the database on insert
};

/// A machine that measurements ran on. Deduplicated by fingerprint (see probePlatform).
struct PlatformRecord {
  std::int64_t id = 0;
  std::string fingerprint;
  std::string cpuModel;
  std::int64_t cores = 0;        ///< logical cores
  std::int64_t memoryBytes = 0;  ///< physical memory
  std::string os;
  nlohmann::json openclDevices =
      nlohmann::json::object();                         ///< the runner's probe: platforms, devices, drivers
  nlohmann::json gpu;                                   ///< GPUs (array) or null when there is none
  nlohmann::json compilers = nlohmann::json::object();  ///< {"g++": "first line of --version", ...}
  std::string created;
};

/// One run of a mirtune command that records results; its rows point here for provenance.
struct SessionRecord {
  std::int64_t id = 0;
  std::string toolVersion;
  std::string gitCommit;
  std::string command;                                ///< e.g. "tune devmap"
  nlohmann::json options = nlohmann::json::object();  ///< the command's parsed options
  std::vector<std::string> modelIds;                  ///< models the session used
  std::optional<std::int64_t> seed;
  std::optional<std::int64_t> platformId;
  std::string started;               ///< set by beginSession
  std::optional<std::string> ended;  ///< set by endSession
};

/// One measured (or failed) configuration of a workload on a platform.
struct MeasurementRecord {
  std::int64_t id = 0;
  std::int64_t sessionId = 0;
  std::int64_t workloadId = 0;
  std::int64_t platformId = 0;
  std::string task;                                         ///< "devmap", "omp", "coarsen", "unroll", ...
  nlohmann::json configuration = nlohmann::json::object();  ///< stored as canonical JSON
  std::string configurationSha256;                          ///< set by the database from configuration
  MeasureStatus status = MeasureStatus::kOk;
  std::vector<double> timesSeconds;          ///< every repetition, warm-ups excluded
  std::optional<double> medianSeconds;       ///< required when status is kOk
  std::optional<double> spreadSeconds;       ///< e.g. interquartile range
  std::optional<std::string> stderrExcerpt;  ///< what the build or run said on failure
  /// Set on measurements ingested from an exported folder: "<campaign>/<plan folder>/<configuration>/<device>",
  /// unique in the database (Database::insertMeasurementOnce).
  std::optional<std::string> ingestKey;
  std::string created;
};

/// What a model predicted for a workload.
struct PredictionRecord {
  std::int64_t id = 0;
  std::int64_t sessionId = 0;
  std::int64_t workloadId = 0;
  std::string task;
  std::string modelId;
  nlohmann::json configuration = nlohmann::json::object();  ///< stored as canonical JSON
  std::optional<double> score;                              ///< model score or probability, if it has one
  std::string created;
};

/// A cached program embedding, keyed by (irSha256, modelId).
struct EmbeddingRecord {
  std::string irSha256;
  std::string modelId;
  std::vector<float> vector;  ///< stored as little-endian IEEE-754 float32; dimension = size()
  std::string created;
};

/// Rows in one table, for `mirtune db info`.
struct TableCount {
  std::string table;
  std::int64_t rows = 0;
};

}  // namespace mirtune
