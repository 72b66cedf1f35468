// What every mirtune program shares: error reporting, output, the global options and running a parsed command.
#include "cli/Commands.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Progress.h"

#include <cstdio>
#include <exception>

namespace mirtune::cli {

int reportError(const Error& error) {
  logError("{}", error.message());
  return error.code() == ErrorCode::kUsage ? 2 : 1;
}

int writeOutput(const std::string& path, std::string_view content) {
  if (path.empty() || path == "-") {
    std::fwrite(content.data(), 1, content.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : reportError(Error(ErrorCode::kIo, "cannot write to stdout"));
  }
  if (auto written = writeFileAtomically(path, content); !written) return reportError(written.error());
  return 0;
}

std::string resolveDatabasePath(const GlobalOptions& global) {
  return global.databasePath.empty() ? defaultDatabasePath().string() : global.databasePath;
}

void addGlobalOptions(CLI::App& app, GlobalOptions& global) {
  app.add_option("--db", global.databasePath, "SQLite database (default: $MIRTUNE_DB or ~/.local/share/mirtune/mirtune.db)");
  app.add_flag("-q,--quiet", global.quiet, "No progress line; only warnings and errors on stderr");
  app.add_flag("-v,--verbose", global.verbosity, "More log output (-v info, -vv debug)");
}

int runCommandLine(CLI::App& app, const GlobalOptions& global, const CommandAction& action, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (global.quiet) {
    ProgressLine::setQuiet(true);
    setLogLevel(LogLevel::kWarn);
  }
  if (global.verbosity >= 2) setLogLevel(LogLevel::kDebug);
  else if (global.verbosity == 1) setLogLevel(LogLevel::kInfo);

  if (!action) return reportError(Error(ErrorCode::kUsage, "no command given (see mirtune --help)"));
  try {
    return action();
  } catch (const std::exception& e) {
    return reportError(Error(ErrorCode::kInternal, fmt::format("internal error: {}", e.what())));
  }
}

}  // namespace mirtune::cli
