// Token sequence reports and the normalised text tokenizer training reads.
#include "ir/TokenReports.h"

#include "frontend/Frontend.h"
#include "ir/Normaliser.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "support/Sha256.h"

#include <fmt/format.h>

namespace mirtune {

nlohmann::json toJson(const TokenSequence& sequence, const Tokenizer& tokenizer, const std::string& file,
                      std::size_t maxLength) {
  std::vector<std::string> pieces;
  for (int id : sequence.ids) pieces.push_back(tokenizer.piece(id));
  return {{"file", file},
          {"tokenizer", tokenizer.id()},
          {"vocab_size", tokenizer.vocabularySize()},
          {"max_length", maxLength},
          {"length", sequence.ids.size()},
          {"untruncated_length", sequence.untruncatedLength},
          {"truncated", sequence.truncated()},
          {"segment_starts", sequence.segmentStarts},
          {"ids", sequence.ids},
          {"pieces", pieces}};
}

std::string textReport(const TokenSequence& sequence, const Tokenizer& tokenizer) {
  std::string out = fmt::format("# {} tokens ({} before truncation), tokenizer {}\n", sequence.ids.size(),
                                sequence.untruncatedLength, tokenizer.id());
  for (int id : sequence.ids) {
    out += fmt::format("{}:{}", id, tokenizer.piece(id));
    out += id == kSeparatorToken.id || id == kClassToken.id ? '\n' : ' ';
  }
  return out;
}

TokenizerTrainingText normalisedTrainingText(const std::vector<std::filesystem::path>& files) {
  TokenizerTrainingText text;
  Sha256 corpusHash;
  ProgressLine progress("normalising", files.size());
  for (const std::filesystem::path& file : files) {
    progress.advance();
    auto module = compileFile(file);
    if (!module) {
      ++text.failed;
      logInfo("{}", module.error().message());
      continue;
    }
    corpusHash.update(module->irSha256());
    auto normalised = NormalisedModule::create(*module);
    if (!normalised) {
      ++text.failed;
      continue;
    }
    const std::string moduleText = normalised->text();
    std::size_t start = 0;
    while (start < moduleText.size()) {
      std::size_t end = moduleText.find('\n', start);
      if (end == std::string::npos) end = moduleText.size();
      if (end > start) text.lines.emplace_back(moduleText, start, end - start);
      start = end + 1;
    }
  }
  progress.finish();
  auto digest = corpusHash.finish();
  text.irSha256 = toHex(digest.data(), digest.size());
  return text;
}

}  // namespace mirtune
