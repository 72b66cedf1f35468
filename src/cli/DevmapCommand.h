// `mirtune devmap`: device mapping of OpenCL kernels (predict, batch predict, run, evaluate, train, collect).
#pragma once

#include "cli/Commands.h"

namespace mirtune::cli {

/// argc/argv are recorded in trained heads' manifests as the training command.
void addDevmapCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv);

}  // namespace mirtune::cli
