// `mirtune db info` and `mirtune db export`: look into the results database and take tables out of it.
#include "cli/Commands.h"
#include "database/Database.h"
#include "database/Migrations.h"
#include "support/Files.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

namespace mirtune::cli {

namespace {

struct DbInfoOptions {
  bool json = false;
};

struct DbExportOptions {
  std::string table;
  std::string format = "csv";
  std::string outputPath;  ///< empty = stdout
};

std::uintmax_t fileSize(const std::filesystem::path& path) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

int runDbInfo(const GlobalOptions& global, const DbInfoOptions& options) {
  std::filesystem::path path = resolveDatabasePath(global);
  auto database = Database::open(path, Database::OpenMode::kExisting);
  if (!database) return reportError(database.error());
  auto version = database->schemaVersion();
  if (!version) return reportError(version.error());
  auto counts = database->tableCounts();
  if (!counts) return reportError(counts.error());
  std::uintmax_t mainBytes = fileSize(path);
  std::uintmax_t walBytes = fileSize(path.string() + "-wal");

  if (options.json) {
    nlohmann::ordered_json tables = nlohmann::ordered_json::object();
    for (const TableCount& count : *counts) tables[count.table] = count.rows;
    nlohmann::ordered_json info = {{"path", path.string()},
                                   {"schema_version", *version},
                                   {"file_bytes", mainBytes},
                                   {"wal_bytes", walBytes},
                                   {"tables", tables}};
    std::cout << info.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    return 0;
  }
  fmt::print("database  {}\n", path.string());
  fmt::print("schema    version {} (this mirtune writes version {})\n", *version, kSchemaVersion);
  fmt::print("size      {} bytes (+ {} bytes write-ahead log)\n", mainBytes, walBytes);
  fmt::print("rows\n");
  for (const TableCount& count : *counts) fmt::print("  {:<14}{:>10}\n", count.table, count.rows);
  return 0;
}

int runDbExport(const GlobalOptions& global, const DbExportOptions& options) {
  auto format = parseExportFormat(options.format);
  if (!format) return reportError(format.error());
  auto database = Database::open(resolveDatabasePath(global), Database::OpenMode::kExisting);
  if (!database) return reportError(database.error());
  if (options.outputPath.empty() || options.outputPath == "-") {
    Status status = database->exportTable(options.table, *format, std::cout);
    return status ? 0 : reportError(status.error());
  }
  // Built in memory and renamed into place, so an interrupted export never leaves half a file.
  std::ostringstream buffer;
  if (Status status = database->exportTable(options.table, *format, buffer); !status) {
    return reportError(status.error());
  }
  if (Status status = writeFileAtomically(options.outputPath, buffer.str()); !status) {
    return reportError(status.error());
  }
  return 0;
}

}  // namespace

void addDbCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  CLI::App* db = app.add_subcommand("db", "Inspect the results database and export its tables");
  db->require_subcommand(1);

  auto infoOptions = std::make_shared<DbInfoOptions>();
  CLI::App* info = db->add_subcommand("info", "Path, schema version, file size and row count of every table");
  info->add_flag("--json", infoOptions->json, "Print JSON instead of text");
  info->callback([&global, &action, infoOptions] {
    action = [&global, infoOptions] { return runDbInfo(global, *infoOptions); };
  });

  auto exportOptions = std::make_shared<DbExportOptions>();
  CLI::App* exportTable = db->add_subcommand("export", "Write one table as CSV (RFC 4180) or JSON");
  exportTable
      ->add_option("--table", exportOptions->table,
                   fmt::format("Table to export ({})", fmt::join(Database::tableNames(), ", ")))
      ->required();
  exportTable->add_option("--format", exportOptions->format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  exportTable->add_option("-o,--output", exportOptions->outputPath, "Write to FILE instead of stdout");
  exportTable->callback([&global, &action, exportOptions] {
    action = [&global, exportOptions] { return runDbExport(global, *exportOptions); };
  });
}

}  // namespace mirtune::cli
