// `mirtune graph`: compile a file, normalise it, build its program graph and print it as JSON or DOT.
#include "cli/GraphCommand.h"

#include "cli/CompileFlags.h"
#include "frontend/Frontend.h"
#include "ir/GraphFormat.h"
#include "ir/Normaliser.h"
#include "ir/ProgramGraph.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"
#include "support/Log.h"

#include <cstdio>
#include <memory>

namespace mirtune::cli {
namespace {

struct GraphOptions {
  std::string file;
  std::string output;
  std::string format = "json";
  bool json = false;
  bool validate = false;
  std::string tokenizer;
  bool noTokens = false;
  CompileFlags compile;
};

int runGraph(const GraphOptions& options) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto module = compileFile(options.file, *compile);
  if (!module) return reportError(module.error());
  auto normalised = NormalisedModule::create(*module);
  if (!normalised) return reportError(normalised.error());
  auto graph = buildProgramGraph(*normalised);
  if (!graph) return reportError(graph.error().withContext(options.file));
  if (options.validate) {
    if (Status valid = validateProgramGraph(*graph, *normalised); !valid) {
      return reportError(valid.error().withContext(options.file));
    }
    GraphCounts counts = countGraph(*graph);
    logInfo("{}: valid program graph, {} nodes, {} edges ({} control, {} data, {} call)", options.file,
            graph->nodes.size(), graph->edges.size(),
            counts.edges[static_cast<std::size_t>(EdgeFlow::kControl)],
            counts.edges[static_cast<std::size_t>(EdgeFlow::kData)],
            counts.edges[static_cast<std::size_t>(EdgeFlow::kCall)]);
  }

  if (!options.noTokens) {
    // Node tokens come from the tokenizer the encoder uses; without one the graph is still printed.
    auto tokenizer = Tokenizer::loadOrDefault(options.tokenizer);
    if (tokenizer) {
      tokenizeNodes(*graph, *tokenizer);
    } else if (!options.tokenizer.empty()) {
      return reportError(tokenizer.error());
    } else {
      logWarn("node tokens left empty: {}", tokenizer.error().message());
    }
  }

  const bool dot = options.format == "dot" && !options.json;
  std::string out = dot ? programGraphToDot(*graph) : programGraphToJson(*graph);
  return writeOutput(options.output, out);
}

}  // namespace

void addGraphCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  auto options = std::make_shared<GraphOptions>();
  CLI::App* command = app.add_subcommand(
      "graph", "Print the program graph (ProGraML schema) of a source or IR file, as JSON or Graphviz DOT");
  command->add_option("file", options->file, "Source file (.cl .c .cpp .cu .ll .bc)")->required();
  command->add_option("--format", options->format, "json (default; read back by mirtune) or dot (Graphviz)")
      ->check(CLI::IsMember({"json", "dot"}));
  command->add_flag("--json", options->json, "Print the graph as JSON (the same as --format json)")
      ->excludes("--format");
  command->add_option("-o,--output", options->output, "Write here instead of stdout (never a partial file)");
  command->add_flag("--validate", options->validate,
                    "Check the graph's invariants first; exit 1 naming the broken one, print nothing");
  command->add_option("--tokenizer", options->tokenizer, "Tokenizer for the node tokens (default: the shipped one)");
  command->add_flag("--no-tokens", options->noTokens, "Leave node tokens empty");
  addCompileFlags(*command, options->compile);
  command->callback([options, &action] { action = [options] { return runGraph(*options); }; });
}

}  // namespace mirtune::cli
