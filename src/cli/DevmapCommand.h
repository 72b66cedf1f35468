// `mirtune devmap`: device mapping of OpenCL kernels (predict, batch predict, run, evaluate, train, collect).
#pragma once

#include "cli/Commands.h"

namespace mirtune::cli {

void addDevmapCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);

}  // namespace mirtune::cli
