// `mirtune embed`: embeddings of many files with the pretrained encoder, cached in SQLite by (IR hash, model).
#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "cli/EncoderOption.h"
#include "support/Log.h"
#include "tasks/common/EmbedFiles.h"

#include <memory>

namespace mirtune::cli {
namespace {

struct EmbedOptions {
  EmbedFilesRequest request;  ///< the database path and compile options are set when the command runs
  std::string format = "json";
  std::string output;
  CompileFlags compile;
};

int runEmbed(const EmbedOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  if (options.format == "npy" && (options.output.empty() || options.output == "-")) {
    return reportError(Error(ErrorCode::kUsage, "--format npy needs -o FILE.npy (the file list goes to FILE.npy.files)"));
  }
  EmbedFilesRequest request = options.request;
  request.compile = *compile;
  request.databasePath = resolveDatabasePath(global);
  auto result = embedFiles(request);
  if (!result) return reportError(result.error());
  if (result->files.empty() && result->failed > 0) {
    // Nothing to write: an output file would only hold an empty result, which reads like a success.
    logError("no file could be embedded; nothing written");
    return 1;
  }
  int status = 0;
  if (options.format == "npy") {
    if (auto written = writeEmbeddingsNpy(*result, options.output); !written) status = reportError(written.error());
  } else {
    status = writeOutput(options.output, formatEmbeddings(*result, options.format));
  }
  if (!result->cacheStatus) {
    logError("{}", result->cacheStatus.error().message());
    if (status == 0) status = 1;
  }
  return status != 0 ? status : (result->failed > 0 ? 1 : 0);
}

}  // namespace

void addEmbedCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto options = std::make_shared<EmbedOptions>();
  CLI::App* command = app.add_subcommand("embed", "Embed source or IR files with the pretrained MIREncoder");
  command->add_option("inputs", options->request.inputs, "Files, or folders searched for .cl .c .cpp .cu .ll .bc")->required();
  command->add_option("--format", options->format, "json (default), csv, or npy (needs -o)")
      ->check(CLI::IsMember({"json", "csv", "npy"}));
  command->add_option("-o,--output", options->output, "Write here instead of stdout (never a partial file)");
  command->add_option("--modality", options->request.modality, "fused (default), tokens or graph")
      ->check(CLI::IsMember({"fused", "tokens", "graph"}));
  addEncoderOption(*command, options->request.encoder);
  command->add_flag("--no-cache", options->request.noCache, "Neither read nor write the embedding cache");
  command->add_option("--threads", options->request.threads, "Threads for compiling, preparing and the forward passes (default 2)")->check(CLI::Range(1, 512));
  command->add_option("--batch-size", options->request.batchSize, "Modules per forward pass (default 16)")
      ->check(CLI::Range(1, 4096));
  addCompileFlags(*command, options->compile);
  command->callback([options, &global, &action] { action = [options, &global] { return runEmbed(*options, global); }; });
}

}  // namespace mirtune::cli
