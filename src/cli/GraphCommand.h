// `mirtune graph`: the program graph (ProGraML schema) of a source or IR file, as JSON or DOT.
#pragma once

#include "cli/Commands.h"

namespace mirtune::cli {

/// Adds `mirtune graph FILE [--format json|dot] [-o OUT] [--validate] [-O0..-O3] [--lang L] [-D …] [-I …]`.
void addGraphCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);

}  // namespace mirtune::cli
