// `mirtune tokens FILE` (a module's token sequence) and `mirtune tokenizer train --corpus DIR`.
#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "corpus/CorpusFiles.h"
#include "ir/Normaliser.h"
#include "ir/TokenReports.h"
#include "support/Files.h"
#include "support/Log.h"

#include <filesystem>

namespace mirtune::cli {
namespace {

namespace fs = std::filesystem;

struct TokensOptions {
  std::string file;
  std::string tokenizer;
  std::size_t maxLength = kDefaultMaxSequenceLength;
  CompileFlags compile;
  bool json = false;
};

int runTokens(const TokensOptions& options) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto tokenizer = Tokenizer::loadOrDefault(options.tokenizer);
  if (!tokenizer) return reportError(tokenizer.error());
  auto module = compileFile(options.file, *compile);
  if (!module) return reportError(module.error());
  auto normalised = NormalisedModule::create(*module);
  if (!normalised) return reportError(normalised.error());
  TokenSequence sequence = tokenizer->encodeModule(*normalised, options.maxLength);
  return writeOutput("", options.json ? toJson(sequence, *tokenizer, options.file, options.maxLength).dump() + "\n"
                                      : textReport(sequence, *tokenizer));
}

struct TrainOptions {
  std::string corpus;
  std::string out;
  TokenizerTrainOptions train;
  bool json = false;
};

int runTrain(const TrainOptions& options) {
  fs::path corpus(options.corpus);
  if (!fs::is_directory(corpus)) return reportError(makeError(ErrorCode::kNotFound, "{}: no such folder", options.corpus));
  auto files = corpusModuleFiles(corpus);
  if (!files) return reportError(files.error());
  if (files->empty()) return reportError(makeError(ErrorCode::kInvalidInput, "{}: no IR modules or sources", options.corpus));
  const TokenizerTrainingText text = normalisedTrainingText(*files);
  const std::size_t failed = text.failed, modules = files->size() - failed;
  const TokenizerTrainOptions& train = options.train;
  nlohmann::json provenance = {
      {"corpus", fs::absolute(corpus).lexically_normal().string()},
      {"corpus_modules", modules},
      {"corpus_failed", failed},
      {"corpus_ir_sha256", text.irSha256},
      {"command", fmt::format("mirtune tokenizer train --corpus {} --vocab-size {} --max-lines {} --max-piece-length {}{}",
                              options.corpus, train.vocabularySize, train.maxLines, train.maxPieceLength,
                              train.piecesSpanSpaces ? "" : " --word-pieces")},
      {"mirtune_version", toolVersion()},
      {"git_commit", gitCommit()},
  };
  // Never the shipped tokenizer by default: the shipped encoder was trained on its pieces.
  fs::path out = options.out.empty() ? userModelDirectory("tokenizer", "default") : fs::path(options.out);
  logInfo("{} modules, {} lines; {} could not be read", modules, text.lines.size(), failed);
  if (auto trained = trainTokenizer(text.lines, out, train, provenance); !trained) return reportError(trained.error());
  auto tokenizer = Tokenizer::load(out);
  if (!tokenizer) return reportError(tokenizer.error());
  const std::string report =
      options.json ? nlohmann::json({{"tokenizer", tokenizer->id()},
                                     {"out", out.string()},
                                     {"vocab_size", tokenizer->vocabularySize()},
                                     {"lines", text.lines.size()},
                                     {"modules", modules},
                                     {"failed", failed}})
                             .dump(2) + "\n"
                   : fmt::format("{}: {} pieces from {} lines of {} modules\ntokenizer written to {}\n", tokenizer->id(),
                                 tokenizer->vocabularySize(), text.lines.size(), modules, out.string());
  if (int code = writeOutput("", report); code != 0) return code;
  if (failed > 0) {
    logWarn("{} of {} modules could not be read and were left out (-v names them)", failed, files->size());
    return 1;
  }
  return 0;
}

}  // namespace

void addTokensCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  auto tokens = std::make_shared<TokensOptions>();
  CLI::App* command = app.add_subcommand("tokens", "Print a module's IR token sequence (pieces and ids)");
  command->add_option("file", tokens->file, "Source or IR file")->required();
  command->add_option("--tokenizer", tokens->tokenizer, "Tokenizer folder (default: the shipped one)");
  command->add_option("--max-length", tokens->maxLength, "Maximum sequence length (default 512)")
      ->check(CLI::Range(2, 1 << 20));
  addCompileFlags(*command, tokens->compile);
  command->add_flag("--json", tokens->json, "Print {tokenizer, length, truncated, ids, pieces, …} as JSON");
  command->callback([tokens, &action] { action = [tokens] { return runTokens(*tokens); }; });

  auto train = std::make_shared<TrainOptions>();
  CLI::App* tokenizer = app.add_subcommand("tokenizer", "Build the IR tokenizer");
  tokenizer->require_subcommand(1);
  CLI::App* trainCommand = tokenizer->add_subcommand("train", "Train the BPE tokenizer on a corpus of IR modules");
  trainCommand->add_option("--corpus", train->corpus, "Corpus folder (`mirtune corpus build`) or any folder of sources")
      ->required();
  trainCommand->add_option("--out", train->out,
                           "Output folder (default: the user's models folder, " +
                               userModelDirectory("tokenizer", "default").string() + ")");
  trainCommand->add_option("--vocab-size", train->train.vocabularySize, "Pieces in the vocabulary (default 8000)")
      ->check(CLI::Range(300, 1 << 20));
  trainCommand->add_option("--max-lines", train->train.maxLines, "Training lines at most (default 3,000,000)")
      ->check(CLI::Range(1000, 1 << 30));
  trainCommand->add_option("--max-piece-length", train->train.maxPieceLength, "Longest piece in characters (default 32)")
      ->check(CLI::Range(4, 256));
  trainCommand->add_flag("!--word-pieces", train->train.piecesSpanSpaces,
                         "Keep every piece within one space-separated word (longer sequences)");
  trainCommand->add_option("--threads", train->train.threads, "Training threads (default 2)")->check(CLI::Range(1, 256));
  trainCommand->add_flag("--json", train->json,
                         "Print {tokenizer, out, vocab_size, lines, modules, failed} as JSON");
  trainCommand->callback([train, &action] { action = [train] { return runTrain(*train); }; });
}

}  // namespace mirtune::cli
