// `mirtune pretrain`: self-supervised pretraining of the MIREncoder on a corpus. Compiled twice: into
// mirtune-pretrain, which trains (MIRTUNE_PRETRAIN_IN_PROCESS, LibTorch linked), and into mirtune, which checks the
// options and then hands the same arguments to mirtune-pretrain beside it.
#include "cli/Commands.h"
#include "embeddings/Pretrain.h"
#include "support/Files.h"
#include "support/Log.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace mirtune::cli {
namespace {

struct PretrainCliOptions {
  PretrainOptions train;
  std::string corpus;
  std::string out;
  std::string logFile;
  bool json = false;
};

#ifdef MIRTUNE_PRETRAIN_IN_PROCESS
int runPretrain(PretrainCliOptions& options, const std::string& commandLine) {
  options.train.corpus = options.corpus;
  options.train.out = options.out;
  options.train.logFile = options.logFile.empty() ? std::filesystem::path(options.out) / "pretrain-log.jsonl"
                                                   : std::filesystem::path(options.logFile);
  options.train.command = commandLine;
  auto metrics = pretrain(options.train);
  if (!metrics) return reportError(metrics.error());
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochMetrics& m : *metrics) epochs.push_back(m.toJson());
  if (options.json) {
    std::printf("%s\n", nlohmann::json{{"model", options.out}, {"epochs", epochs}}.dump(2).c_str());
  } else {
    for (const EpochMetrics& m : *metrics) {
      std::printf("epoch %d: loss %.3f | held out: masked-token accuracy %.3f, edge AUC %.3f, matching accuracy %.3f | "
                  "%.0f s, %.0f tokens/s\n",
                  m.epoch, m.loss, m.heldOutMaskedTokenAccuracy, m.heldOutEdgeAuc, m.heldOutMatchAccuracy, m.seconds,
                  m.tokensPerSecond);
    }
    std::printf("model written to %s\n", options.out.c_str());
  }
  return 0;
}
#else
// Replaces this process by mirtune-pretrain with the same arguments (its exit status is the command's).
int runPretrain(int argc, char** argv) {
  const std::filesystem::path program = executableDirectory() / "mirtune-pretrain";
  std::vector<char*> arguments(argv, argv + argc);
  std::string name = program.string();
  arguments[0] = name.data();
  arguments.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(name.c_str(), arguments.data());
  return reportError(Error(ErrorCode::kNotFound, fmt::format("cannot run {}: {} (pretraining is a program of its own, "
                                                             "installed beside mirtune)", name, std::strerror(errno))));
}
#endif

}  // namespace

void addPretrainCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action, int argc, char** argv) {
  auto options = std::make_shared<PretrainCliOptions>();
  PretrainOptions& t = options->train;
  CLI::App* command = app.add_subcommand("pretrain", "Pretrain the MIREncoder on a corpus (self-supervised)");
  command->add_option("--corpus", options->corpus, "Corpus folder from `mirtune corpus build`")->required();
  command->add_option("--out", options->out, "Model folder to write")->required();
  command->add_option("--epochs", t.epochs, "Passes over the training modules (default 3)")->check(CLI::Range(1, 1000));
  command->add_option("--threads", t.threads, "LibTorch threads (default 2)")->check(CLI::Range(1, 512));
  command->add_option("--seed", t.seed, "Seed of every random choice (default 1)");
  command->add_flag("--resume", t.resume, "Continue from the last checkpoint in --out (same options required)");
  command->add_option("--tokenizer", t.tokenizerDirectory, "Tokenizer folder (default: the shipped one)");
  command->add_option("--batch-size", t.batchSize, "Modules per step (default 16)")->check(CLI::Range(2, 4096));
  command->add_option("--learning-rate", t.learningRate, "Peak AdamW learning rate (default 1e-3)");
  command->add_option("--checkpoint-minutes", t.checkpointMinutes, "Minutes between checkpoints (default 5)");
  command->add_option("--model-dim", t.config.modelDim, "Token/node state size (default 128)");
  command->add_option("--token-layers", t.config.tokenLayers, "Transformer layers (default 2)");
  command->add_option("--attention-heads", t.config.attentionHeads, "Attention heads (default 4)");
  // Earlier name of --attention-heads; --heads is a task's heads folder in the other commands.
  command
      ->add_option_function<int>("--heads",
                                 [options](const int& heads) {
                                   logWarn("--heads is deprecated here; use --attention-heads");
                                   options->train.config.attentionHeads = heads;
                                 })
      ->group("");
  command->add_option("--feed-forward-dim", t.config.feedForwardDim, "Transformer feed-forward size (default 256)");
  command->add_option("--graph-layers", t.config.graphLayers, "Message-passing rounds (default 3)");
  command->add_option("--embedding-dim", t.config.embeddingDim, "Fused embedding size (default 128)");
  command->add_option("--property-weight", t.propertyWeight,
                      "Weight of the module-property prediction task (default 0: off)")->check(CLI::Range(0.0, 100.0));
  command->add_option("--contrastive-weight", t.contrastiveWeight,
                      "Weight of the -O-level contrastive task (default 0: off)")->check(CLI::Range(0.0, 100.0));
  command->add_option("--max-tokens", t.limits.maxTokens, "Sequence length (default 512)");
  command->add_option("--max-nodes", t.limits.maxNodes, "Graph nodes at most (default 8192)");
  command->add_option("--max-modules", t.maxModules, "Use at most this many corpus modules (smoke runs)");
  command->add_option("--max-steps-per-epoch", t.maxStepsPerEpoch, "Stop each epoch after this many steps");
  command->add_option("--held-out", t.heldOutFraction, "Share of programs held out (default 0.05)");
  command->add_option("--stop-after-steps", t.stopAfterSteps, "Checkpoint and stop after this many steps (resume later)");
  command->add_option("--log", options->logFile, "Training log, JSON lines (default: OUT/pretrain-log.jsonl)");
  command->add_flag("--json", options->json, "Print the per-epoch metrics as JSON");
#ifdef MIRTUNE_PRETRAIN_IN_PROCESS
  std::string commandLine = "mirtune";
  for (int i = 1; i < argc; ++i) commandLine += std::string(" ") + argv[i];
  command->callback([options, commandLine, &action] {
    action = [options, commandLine] { return runPretrain(*options, commandLine); };
  });
#else
  command->callback([argc, argv, &action] { action = [argc, argv] { return runPretrain(argc, argv); }; });
#endif
}

}  // namespace mirtune::cli
