// What `mirtune ir` and `mirtune graph` compute from one source or IR file: the module summary and the
// program graph with its node tokens.
#pragma once

#include "frontend/Frontend.h"
#include "ir/ProgramGraph.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace mirtune {

/// {file, language, ir_sha256, functions, instructions, kernels, optimization_level, clang_version}.
nlohmann::json moduleSummaryJson(const IrModule& module, const std::string& file, int optimizationLevel);

/// How programGraphOfFile builds the graph.
struct ProgramGraphFileOptions {
  bool validate = false;  ///< check the graph's invariants (an error naming the broken one); counts logged at info
  bool tokens = true;     ///< fill node tokens
  std::string tokenizer;  ///< tokenizer folder; empty: the shipped one, and a graph without tokens when missing
};

/// Compiles `file`, normalises it and builds its program graph; errors name the file.
Expected<ProgramGraph> programGraphOfFile(const std::filesystem::path& file, const CompileOptions& compile,
                                          const ProgramGraphFileOptions& options);

}  // namespace mirtune
