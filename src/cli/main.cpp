// mirtune: command-line entry point. Parses options into per-command structs and runs one command.
#include "cli/Commands.h"
#include "cli/CorpusCommand.h"
#include "cli/DevmapCommand.h"
#include "cli/GraphCommand.h"
#include "cli/OmpCommand.h"
#include "cli/UnrollCommand.h"
#include "support/Files.h"


int main(int argc, char** argv) {
  using namespace mirtune;
  CLI::App app{"mirtune: autotuning of kernels and applications with learned program embeddings", "mirtune"};
  app.set_version_flag("--version", fmt::format("mirtune {} ({})", toolVersion(), gitCommit()));
  app.require_subcommand(1);
  app.fallthrough(true);  // global options may follow the subcommand: `mirtune db info --db x.db`

  cli::GlobalOptions global;
  cli::addGlobalOptions(app, global);

  cli::CommandAction action;
  cli::addIrCommand(app, global, action);
  cli::addDbCommand(app, global, action);
  cli::addPlatformCommand(app, global, action);
  cli::addTokensCommand(app, global, action);
  cli::addGraphCommand(app, global, action);
  cli::addPretrainCommand(app, global, action, argc, argv);
  cli::addEmbedCommand(app, global, action);
  cli::addCorpusCommand(app, global, action);
  cli::addDevmapCommand(app, global, action, argc, argv);
  cli::addCoarsenCommand(app, global, action, argc, argv);
  cli::addRewriteCommand(app, global, action);
  cli::addOmpCommand(app, global, action, argc, argv);
  cli::addUnrollCommand(app, global, action, argc, argv);
  cli::addTuneCommand(app, global, action);
  cli::addCampaignCommand(app, global, action);
  cli::addInfoCommand(app, global, action);

  return cli::runCommandLine(app, global, action, argc, argv);
}
