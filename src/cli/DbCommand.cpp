// `mirtune db info` and `mirtune db export`: look into the results database and take tables out of it.
#include "cli/Commands.h"
#include "database/DatabaseInfo.h"

#include <fmt/ranges.h>

#include <iostream>
#include <memory>

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

int runDbInfo(const GlobalOptions& global, const DbInfoOptions& options) {
  auto info = describeDatabase(resolveDatabasePath(global));
  if (!info) return reportError(info.error());
  return writeOutput("", options.json ? toJson(*info).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                                      : textReport(*info));
}

int runDbExport(const GlobalOptions& global, const DbExportOptions& options) {
  auto format = parseExportFormat(options.format);
  if (!format) return reportError(format.error());
  auto database = Database::open(resolveDatabasePath(global), Database::OpenMode::kExisting);
  if (!database) return reportError(database.error());
  const bool toStdout = options.outputPath.empty() || options.outputPath == "-";
  Status status = toStdout ? database->exportTable(options.table, *format, std::cout)
                           : exportTableToFile(*database, options.table, *format, options.outputPath);
  return status ? 0 : reportError(status.error());
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
