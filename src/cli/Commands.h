// The subcommands of the mirtune executable; each file in src/cli adds one command group to the parser.
#pragma once

#include "support/Error.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

namespace mirtune::cli {

/// Options shared by every subcommand (parsed before the subcommand's own).
struct GlobalOptions {
  std::string databasePath;  ///< --db; empty = defaultDatabasePath()
  bool quiet = false;        ///< --quiet: no progress line, warnings only
  int verbosity = 0;         ///< -v (info) / -vv (debug)
};

/// Set by the selected subcommand's parse callback; returns the process exit code.
using CommandAction = std::function<int()>;

void addIrCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void addDbCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void addPlatformCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void addTokensCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void addEmbedCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
/// `mirtune info [--json]`: version, commit and the resolved paths (models, kernels, data, database, runner).
void addInfoCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
/// `mirtune rewrite omp|loops FILE`: OpenMP schedule(runtime) rewrite and innermost-loop listing.
void addRewriteCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
/// argc/argv are recorded in the model's manifest as the training command.
void addPretrainCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv);
/// `mirtune coarsen`; argc/argv are recorded in trained heads' manifests as the training command.
void addCoarsenCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv);
/// `mirtune tune`: a user's own tuning problem, or --replay of a brute-forced Kernel Tuner cache.
void addTuneCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);
/// `mirtune campaign submit|status|wait|resubmit DIR`: an exported folder measured through a scheduler.
void addCampaignCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);

/// A finite number >= 0 ("nan" and "inf", which CLI11's NonNegativeNumber lets through, are refused).
inline CLI::Validator finiteNonNegative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(value) || value < 0) {
          return "expected a finite number >= 0, got '" + text + "'";
        }
        return {};
      },
      "NUMBER>=0");
}

/// Prints "mirtune: error: <message>" and returns the exit code for it (2 for usage errors, else 1).
int reportError(const Error& error);

/// The options every mirtune program takes (--db, -q, -v), and running one: parse, set the log level, run the
/// action the parsed command set (exit 2 on a usage error).
void addGlobalOptions(CLI::App& app, GlobalOptions& global);
int runCommandLine(CLI::App& app, const GlobalOptions& global, const CommandAction& action, int argc, char** argv);

/// Writes a command's output to stdout (path empty or "-") or atomically to a file; returns the exit code.
int writeOutput(const std::string& path, std::string_view content);

/// The database path these options select (--db, then $MIRTUNE_DB, then the default location).
std::string resolveDatabasePath(const GlobalOptions& global);

}  // namespace mirtune::cli
