// What `mirtune db info` shows of a results database (path, schema, sizes, rows per table), and table export
// to a file.
#pragma once

#include "database/Database.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

/// A results database as found on disk.
struct DatabaseInfo {
  std::filesystem::path path;
  int schemaVersion = 0;
  std::uintmax_t fileBytes = 0;  ///< the main file (0 when unreadable)
  std::uintmax_t walBytes = 0;   ///< the write-ahead log beside it (0 when none)
  std::vector<TableCount> tables;
};

/// Opens the existing database at `path` (never creates one) and reads its schema version and row counts.
Expected<DatabaseInfo> describeDatabase(const std::filesystem::path& path);

/// {path, schema_version, file_bytes, wal_bytes, tables: {name: rows}}.
nlohmann::ordered_json toJson(const DatabaseInfo& info);
/// "database", "schema", "size" lines and one "rows" line per table.
std::string textReport(const DatabaseInfo& info);

/// Writes `table` of the database in `format` to `outputPath`, built in memory and renamed into place so an
/// interrupted export never leaves half a file.
Status exportTableToFile(const Database& database, std::string_view table, ExportFormat format,
                         const std::filesystem::path& outputPath);

}  // namespace mirtune
