// The reports of `mirtune tokens` (a module's token sequence) and the text a tokenizer is trained on.
#pragma once

#include "ir/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

/// {file, tokenizer, vocab_size, max_length, length, untruncated_length, truncated, segment_starts, ids, pieces}.
nlohmann::json toJson(const TokenSequence& sequence, const Tokenizer& tokenizer, const std::string& file,
                      std::size_t maxLength);
/// A "# N tokens" header, then one segment per line as "id:piece id:piece ...".
std::string textReport(const TokenSequence& sequence, const Tokenizer& tokenizer);

/// The normalised IR lines of a set of files, the input of tokenizer training.
struct TokenizerTrainingText {
  std::vector<std::string> lines;  ///< non-empty lines of every module's normalised text, in file order
  std::size_t failed = 0;          ///< files that did not compile or normalise (logged at info level)
  std::string irSha256;            ///< SHA-256 over the IR hashes of the modules that compiled, in order
};

/// Compiles and normalises each file (with a progress line "normalising").
TokenizerTrainingText normalisedTrainingText(const std::vector<std::filesystem::path>& files);

}  // namespace mirtune
