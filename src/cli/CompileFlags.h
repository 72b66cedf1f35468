// Front-end options shared by every command that takes a source file (ir, graph, tokens, …).
#pragma once

#include "frontend/Frontend.h"
#include "support/Error.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mirtune::cli {

struct CompileFlags {
  std::string language;
  int optimizationLevel = 2;
  std::vector<std::string> defines;
  std::vector<std::string> includeDirectories;
  std::string openClStandard = "CL1.2";
  bool noOpenClPrelude = false;
};

/// Adds --lang, -O, -D, -I, --cl-std and --no-cl-prelude to a command.
void addCompileFlags(CLI::App& command, CompileFlags& flags);

/// The CompileOptions these flags describe; a kUsage error for an unknown --lang.
Expected<CompileOptions> toCompileOptions(const CompileFlags& flags);

}  // namespace mirtune::cli
