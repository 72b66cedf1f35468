// `mirtune graph`: compile a file, normalise it, build its program graph and print it as JSON or DOT.
#include "cli/GraphCommand.h"

#include "cli/CompileFlags.h"
#include "frontend/Frontend.h"
#include "ir/GraphFormat.h"
#include "ir/Normaliser.h"
#include "ir/ProgramGraph.h"
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
  bool validate = false;
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

  std::string out = options.format == "dot" ? programGraphToDot(*graph) : programGraphToJson(*graph);
  if (options.output.empty() || options.output == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : reportError(Error(ErrorCode::kIo, "cannot write to stdout"));
  }
  if (auto written = writeFileAtomically(options.output, out); !written) return reportError(written.error());
  return 0;
}

}  // namespace

void addGraphCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  auto options = std::make_shared<GraphOptions>();
  CLI::App* command = app.add_subcommand(
      "graph", "Print the program graph (ProGraML schema) of a source or IR file, as JSON or Graphviz DOT");
  command->add_option("file", options->file, "Source file (.cl .c .cpp .cu .ll .bc)")->required();
  command->add_option("--format", options->format, "json (default; read back by mirtune) or dot (Graphviz)")
      ->check(CLI::IsMember({"json", "dot"}));
  command->add_option("-o,--output", options->output, "Write here instead of stdout (never a partial file)");
  command->add_flag("--validate", options->validate,
                    "Check the graph's invariants first; exit 1 naming the broken one, print nothing");
  addCompileFlags(*command, options->compile);
  command->callback([options, &action] { action = [options] { return runGraph(*options); }; });
}

}  // namespace mirtune::cli
