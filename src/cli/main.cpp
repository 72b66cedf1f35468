// mirtune: command-line entry point. Parses options into per-command structs and runs one command.
#include "cli/Commands.h"
#include "cli/CorpusCommand.h"
#include "cli/DevmapCommand.h"
#include "cli/GraphCommand.h"
#include "cli/OmpCommand.h"
#include "cli/UnrollCommand.h"
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

}  // namespace mirtune::cli

int main(int argc, char** argv) {
  using namespace mirtune;
  CLI::App app{"mirtune: autotuning of kernels and applications with learned program embeddings", "mirtune"};
  app.set_version_flag("--version", fmt::format("mirtune {} ({})", toolVersion(), gitCommit()));
  app.require_subcommand(1);
  app.fallthrough(true);  // global options may follow the subcommand: `mirtune db info --db x.db`

  cli::GlobalOptions global;
  app.add_option("--db", global.databasePath, "SQLite database (default: $MIRTUNE_DB or ~/.local/share/mirtune/mirtune.db)");
  app.add_flag("-q,--quiet", global.quiet, "No progress line; only warnings and errors on stderr");
  app.add_flag("-v,--verbose", global.verbosity, "More log output (-v info, -vv debug)");

  cli::CommandAction action;
  cli::addIrCommand(app, global, action);
  cli::addDbCommand(app, global, action);
  cli::addPlatformCommand(app, global, action);
  cli::addTokensCommand(app, global, action);
  cli::addGraphCommand(app, global, action);
  cli::addPretrainCommand(app, global, action, argc, argv);
  cli::addEmbedCommand(app, global, action);
  cli::addCorpusCommand(app, global, action);
  cli::addDevmapCommand(app, global, action, argc, argv);
  cli::addCoarsenCommand(app, global, action, argc, argv);
  cli::addRewriteCommand(app, global, action);
  cli::addOmpCommand(app, global, action, argc, argv);
  cli::addUnrollCommand(app, global, action, argc, argv);
  cli::addInfoCommand(app, global, action);

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

  if (!action) return cli::reportError(Error(ErrorCode::kUsage, "no command given (see mirtune --help)"));
  try {
    return action();
  } catch (const std::exception& e) {
    return cli::reportError(Error(ErrorCode::kInternal, fmt::format("internal error: {}", e.what())));
  }
}
