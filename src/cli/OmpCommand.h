// `mirtune omp`: OpenMP thread count, schedule and chunk (tune an app, collect, train, eval).
#pragma once

#include "cli/Commands.h"

namespace mirtune::cli {

/// argc/argv are recorded in a trained head's manifest as the training command.
void addOmpCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv);

}  // namespace mirtune::cli
