// `mirtune unroll`: per-loop unroll / vectorize factors (predict, apply, run a file), collection, train,
// eval.
#pragma once

#include "cli/Commands.h"

namespace mirtune::cli {

/// argc/argv are recorded in a trained head's manifest as the training command.
void addUnrollCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc,
                      char** argv);

}  // namespace mirtune::cli
