// mirtune-pretrain: `mirtune pretrain` in a program of its own, the only mirtune program that links LibTorch.
// `mirtune pretrain ...` checks its options and then runs this program (beside it) with the same arguments, so
// that no other command pays LibTorch's start-up.
#include "cli/Commands.h"
#include "support/Files.h"

int main(int argc, char** argv) {
  using namespace mirtune;
  CLI::App app{"mirtune pretrain: self-supervised pretraining of the MIREncoder", "mirtune"};
  app.set_version_flag("--version", fmt::format("mirtune {} ({})", toolVersion(), gitCommit()));
  app.require_subcommand(1);
  app.fallthrough(true);
  cli::GlobalOptions global;
  cli::addGlobalOptions(app, global);
  cli::CommandAction action;
  cli::addPretrainCommand(app, global, action, argc, argv);
  return cli::runCommandLine(app, global, action, argc, argv);
}
