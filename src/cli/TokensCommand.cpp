// `mirtune tokens FILE` (a module's token sequence) and `mirtune tokenizer train --corpus DIR`.
#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "corpus/Manifest.h"
#include "ir/Normaliser.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "support/Sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
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

  std::string out;
  if (options.json) {
    std::vector<std::string> pieces;
    for (int id : sequence.ids) pieces.push_back(tokenizer->piece(id));
    nlohmann::json result = {{"file", options.file},
                             {"tokenizer", tokenizer->id()},
                             {"vocab_size", tokenizer->vocabularySize()},
                             {"max_length", options.maxLength},
                             {"length", sequence.ids.size()},
                             {"untruncated_length", sequence.untruncatedLength},
                             {"truncated", sequence.truncated()},
                             {"segment_starts", sequence.segmentStarts},
                             {"ids", sequence.ids},
                             {"pieces", pieces}};
    out = result.dump() + "\n";
  } else {
    // One segment per line: "id:piece id:piece …", after a header line.
    out = fmt::format("# {} tokens ({} before truncation), tokenizer {}\n", sequence.ids.size(),
                      sequence.untruncatedLength, tokenizer->id());
    for (std::size_t i = 0; i < sequence.ids.size(); ++i) {
      int id = sequence.ids[i];
      out += fmt::format("{}:{}", id, tokenizer->piece(id));
      out += id == kSeparatorToken.id || id == kClassToken.id ? '\n' : ' ';
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

struct TrainOptions {
  std::string corpus;
  std::string out;
  TokenizerTrainOptions train;
  bool json = false;
};

// Modules of a corpus folder: the files its manifest lists (`mirtune corpus build`), or else every file with a
// known extension below it.
Expected<std::vector<fs::path>> corpusFiles(const fs::path& corpus) {
  std::vector<fs::path> files;
  if (fs::exists(corpus / kCorpusManifestFile)) {
    auto records = readCorpusManifest(corpus);
    if (!records) return records.error();
    for (const CorpusRecord& record : *records) files.push_back(corpus / record.file);
    return files;
  }
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    if (entry.is_regular_file() && languageFromExtension(entry.path().extension().string())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

int runTrain(const TrainOptions& options) {
  fs::path corpus(options.corpus);
  if (!fs::is_directory(corpus)) return reportError(makeError(ErrorCode::kNotFound, "{}: no such folder", options.corpus));
  auto listed = corpusFiles(corpus);
  if (!listed) return reportError(listed.error());
  std::vector<fs::path>& files = *listed;
  if (files.empty()) return reportError(makeError(ErrorCode::kInvalidInput, "{}: no IR modules or sources", options.corpus));
  std::vector<std::string> lines;
  std::size_t failed = 0;
  Sha256 corpusHash;
  ProgressLine progress("normalising", files.size());
  for (const fs::path& file : files) {
    progress.advance();
    auto module = compileFile(file);
    if (!module) {
      ++failed;
      logInfo("{}", module.error().message());
      continue;
    }
    corpusHash.update(module->irSha256());
    auto normalised = NormalisedModule::create(*module);
    if (!normalised) {
      ++failed;
      continue;
    }
    std::string text = normalised->text();
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) lines.emplace_back(text, start, end - start);
      start = end + 1;
    }
  }
  progress.finish();
  auto digest = corpusHash.finish();
  nlohmann::json provenance = {
      {"corpus", fs::absolute(corpus).lexically_normal().string()},
      {"corpus_modules", files.size() - failed},
      {"corpus_failed", failed},
      {"corpus_ir_sha256", toHex(digest.data(), digest.size())},
      {"command", fmt::format("mirtune tokenizer train --corpus {} --vocab-size {} --max-lines {} --max-piece-length {}{}",
                              options.corpus, options.train.vocabularySize, options.train.maxLines,
                              options.train.maxPieceLength, options.train.piecesSpanSpaces ? "" : " --word-pieces")},
      {"mirtune_version", toolVersion()},
      {"git_commit", gitCommit()},
  };
  // Never the shipped tokenizer by default: the shipped encoder was trained on its pieces.
  fs::path out = options.out.empty() ? userModelDirectory("tokenizer", "default") : fs::path(options.out);
  logInfo("{} modules, {} lines; {} could not be read", files.size() - failed, lines.size(), failed);
  if (auto trained = trainTokenizer(lines, out, options.train, provenance); !trained) return reportError(trained.error());
  auto tokenizer = Tokenizer::load(out);
  if (!tokenizer) return reportError(tokenizer.error());
  if (options.json) {
    nlohmann::json summary = {{"tokenizer", tokenizer->id()},
                              {"out", out.string()},
                              {"vocab_size", tokenizer->vocabularySize()},
                              {"lines", lines.size()},
                              {"modules", files.size() - failed},
                              {"failed", failed}};
    std::printf("%s\n", summary.dump(2).c_str());
  } else {
    std::printf("%s: %d pieces from %zu lines of %zu modules\n", tokenizer->id().c_str(),
                tokenizer->vocabularySize(), lines.size(), files.size() - failed);
    std::printf("tokenizer written to %s\n", out.string().c_str());
  }
  if (failed > 0) {
    logWarn("{} of {} modules could not be read and were left out (-v names them)", failed, files.size());
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
