// Describing a results database and exporting a table to a file.
#include "database/DatabaseInfo.h"

#include "database/Migrations.h"
#include "support/Files.h"

#include <fmt/format.h>

#include <sstream>

namespace mirtune {
namespace {

std::uintmax_t fileSize(const std::filesystem::path& path) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

}  // namespace

Expected<DatabaseInfo> describeDatabase(const std::filesystem::path& path) {
  auto database = Database::open(path, Database::OpenMode::kExisting);
  if (!database) return database.error();
  auto version = database->schemaVersion();
  if (!version) return version.error();
  auto counts = database->tableCounts();
  if (!counts) return counts.error();
  return DatabaseInfo{path, *version, fileSize(path), fileSize(path.string() + "-wal"), std::move(*counts)};
}

nlohmann::ordered_json toJson(const DatabaseInfo& info) {
  nlohmann::ordered_json tables = nlohmann::ordered_json::object();
  for (const TableCount& count : info.tables) tables[count.table] = count.rows;
  return {{"path", info.path.string()},
          {"schema_version", info.schemaVersion},
          {"file_bytes", info.fileBytes},
          {"wal_bytes", info.walBytes},
          {"tables", tables}};
}

std::string textReport(const DatabaseInfo& info) {
  std::string text = fmt::format("database  {}\n", info.path.string());
  text += fmt::format("schema    version {} (this mirtune writes version {})\n", info.schemaVersion, kSchemaVersion);
  text += fmt::format("size      {} bytes (+ {} bytes write-ahead log)\n", info.fileBytes, info.walBytes);
  text += "rows\n";
  for (const TableCount& count : info.tables) text += fmt::format("  {:<14}{:>10}\n", count.table, count.rows);
  return text;
}

Status exportTableToFile(const Database& database, std::string_view table, ExportFormat format,
                         const std::filesystem::path& outputPath) {
  std::ostringstream buffer;
  if (Status status = database.exportTable(table, format, buffer); !status) return status;
  return writeFileAtomically(outputPath, buffer.str());
}

}  // namespace mirtune
