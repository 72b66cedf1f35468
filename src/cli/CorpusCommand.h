// `mirtune corpus build|info`: the pretraining corpus of unlabelled LLVM IR modules.
#pragma once

#include "cli/Commands.h"

namespace mirtune::cli {

/// Adds `corpus build` (collect, compile, deduplicate and store modules) and `corpus info` (counts per
/// source).
void addCorpusCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action);

}  // namespace mirtune::cli
