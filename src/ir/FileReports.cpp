// The module summary and program graph of one file.
#include "ir/FileReports.h"

#include "ir/Normaliser.h"
#include "ir/Tokenizer.h"
#include "support/Log.h"

namespace mirtune {

nlohmann::json moduleSummaryJson(const IrModule& module, const std::string& file, int optimizationLevel) {
  return {
      {"file", file},
      {"language", languageName(module.language())},
      {"ir_sha256", module.irSha256()},
      {"functions", module.functionCount()},
      {"instructions", module.instructionCount()},
      {"kernels", module.kernelNames()},
      {"optimization_level", optimizationLevel},
      {"clang_version", clangVersion()},
  };
}

Expected<ProgramGraph> programGraphOfFile(const std::filesystem::path& file, const CompileOptions& compile,
                                          const ProgramGraphFileOptions& options) {
  const std::string name = file.string();
  auto module = compileFile(file, compile);
  if (!module) return module.error();
  auto normalised = NormalisedModule::create(*module);
  if (!normalised) return normalised.error();
  auto graph = buildProgramGraph(*normalised);
  if (!graph) return graph.error().withContext(name);
  if (options.validate) {
    if (Status valid = validateProgramGraph(*graph, *normalised); !valid) return valid.error().withContext(name);
    GraphCounts counts = countGraph(*graph);
    logInfo("{}: valid program graph, {} nodes, {} edges ({} control, {} data, {} call)", name, graph->nodes.size(),
            graph->edges.size(), counts.edges[static_cast<std::size_t>(EdgeFlow::kControl)],
            counts.edges[static_cast<std::size_t>(EdgeFlow::kData)],
            counts.edges[static_cast<std::size_t>(EdgeFlow::kCall)]);
  }
  if (options.tokens) {
    // Node tokens come from the tokenizer the encoder uses; without one the graph is still printed.
    auto tokenizer = Tokenizer::loadOrDefault(options.tokenizer);
    if (tokenizer) {
      tokenizeNodes(*graph, *tokenizer);
    } else if (!options.tokenizer.empty()) {
      return tokenizer.error();
    } else {
      logWarn("node tokens left empty: {}", tokenizer.error().message());
    }
  }
  return graph;
}

}  // namespace mirtune
