// --encoder DIR of the commands that embed (devmap, coarsen, embed), with --model kept as a hidden alias.
#pragma once

#include "support/Log.h"

#include <CLI/CLI.hpp>

#include <string>

namespace mirtune::cli {

/// Adds --encoder DIR writing `encoder`, and the hidden --model DIR that these commands took for the encoder
/// before: it still sets `encoder`, with one warning on stderr.
inline void addEncoderOption(CLI::App& command, std::string& encoder) {
  command.add_option("--encoder", encoder, "Encoder folder (default: the shipped encoder)");
  command
      .add_option_function<std::string>("--model",
                                        [&encoder](const std::string& folder) {
                                          logWarn("--model is deprecated here; use --encoder");
                                          encoder = folder;
                                        })
      ->group("");
}

}  // namespace mirtune::cli
