// `mirtune graph`: compile a file, normalise it, build its program graph and print it as JSON or DOT.
#include "cli/GraphCommand.h"

#include "cli/CompileFlags.h"
#include "ir/FileReports.h"
#include "ir/GraphFormat.h"

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
  auto graph = programGraphOfFile(options.file, *compile, {options.validate, !options.noTokens, options.tokenizer});
  if (!graph) return reportError(graph.error());
  const bool dot = options.format == "dot" && !options.json;
  return writeOutput(options.output, dot ? programGraphToDot(*graph) : programGraphToJson(*graph));
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
