// The IR tokenizer: a SentencePiece BPE model over normalised IR lines, shared by the token sequence and the
// program-graph node texts, so both modalities speak one vocabulary.
#pragma once

#include "ir/Normaliser.h"
#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Bumped when the way sequences are built from a module changes (segments, special tokens, truncation).
inline constexpr int kTokenizerFormatVersion = 1;
/// Default maximum sequence length, [CLS] and [SEP]s included.
inline constexpr std::size_t kDefaultMaxSequenceLength = 512;
/// Version of the shipped tokenizer; its folder is embeddings/models/ir-tokenizer-<version>.
inline constexpr int kShippedTokenizerVersion = 1;

/// Special tokens, with fixed ids (declared once; the trainer reserves them in this order).
struct SpecialToken {
  int id;
  std::string_view piece;
};
inline constexpr SpecialToken kPadToken{0, "[PAD]"};
inline constexpr SpecialToken kUnknownToken{1, "[UNK]"};
inline constexpr SpecialToken kClassToken{2, "[CLS]"};
inline constexpr SpecialToken kSeparatorToken{3, "[SEP]"};
inline constexpr SpecialToken kMaskToken{4, "[MASK]"};

/// A module as one token sequence: [CLS] segment [SEP] segment [SEP] …, where the first segment holds the struct
/// definitions and globals (when there are any) and every defined function is one segment, in IR order.
struct TokenSequence {
  std::vector<int> ids;
  std::vector<std::size_t> segmentStarts;  ///< index in ids of each segment's first token
  std::size_t untruncatedLength = 0;       ///< length before truncation ([CLS]/[SEP] included)
  bool truncated() const { return untruncatedLength > ids.size(); }
};

class Tokenizer {
 public:
  /// Loads `directory`/tokenizer.model after checking `directory`/manifest.json: format and normaliser
  /// versions must match this build and the model's SHA-256 must match the manifest.
  static Expected<Tokenizer> load(const std::filesystem::path& directory);
  /// The shipped tokenizer: $MIRTUNE_MODELS/ir-tokenizer-<v>, else embeddings/models/ir-tokenizer-<v> in the
  /// source tree.
  static std::filesystem::path defaultDirectory();
  /// load(directory), or load(defaultDirectory()) when `directory` is empty.
  static Expected<Tokenizer> loadOrDefault(const std::string& directory) {
    return load(directory.empty() ? defaultDirectory() : std::filesystem::path(directory));
  }

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  /// "ir-tokenizer-1/<first 12 hex of the model SHA-256>": what models record as the vocabulary they expect.
  const std::string& id() const { return id_; }
  int vocabularySize() const;
  const nlohmann::json& manifest() const { return manifest_; }

  /// Tokens of one normalised line or node text (no special tokens).
  std::vector<int> encodeText(std::string_view text) const;
  std::string piece(int id) const;

  /// The module's sequence, truncated to maxLength by the rule documented in README "IR tokens": each segment
  /// keeps its first min(length, c) tokens, with c the largest cap for which everything fits; when even a cap of
  /// kMinSegmentTokens cannot fit every segment, trailing segments are dropped.
  TokenSequence encodeModule(const NormalisedModule& module, std::size_t maxLength = kDefaultMaxSequenceLength) const;

  static constexpr std::size_t kMinSegmentTokens = 8;

  struct Processor;  ///< the loaded SentencePiece model (defined in Tokenizer.cpp)

 private:
  Tokenizer(std::unique_ptr<Processor> processor, nlohmann::json manifest, std::string id);

  std::unique_ptr<Processor> processor_;
  nlohmann::json manifest_;
  std::string id_;
};

struct ProgramGraph;

/// Fills every node's tokens with the tokens of its text (each distinct text is encoded once).
void tokenizeNodes(ProgramGraph& graph, const Tokenizer& tokenizer);

struct TokenizerTrainOptions {
  int vocabularySize = 8000;
  /// Lines fed to SentencePiece at most; more are subsampled deterministically (every k-th line).
  std::size_t maxLines = 3'000'000;
  int threads = 2;
  /// Let pieces span spaces ("float addrspace(1)*" can be one piece). IR lines are many short words, so pieces
  /// confined to one word make a sequence about as long as the line has words, whatever the vocabulary size.
  bool piecesSpanSpaces = true;
  /// Longest piece, in characters.
  int maxPieceLength = 32;
  /// Version written to the manifest and used in the id.
  int version = kShippedTokenizerVersion;
};

/// Trains a BPE tokenizer on normalised IR lines and writes tokenizer.model + manifest.json into `outDirectory`.
/// `provenance` (corpus hash, command, …) is stored in the manifest as it is.
Status trainTokenizer(const std::vector<std::string>& lines, const std::filesystem::path& outDirectory,
                      const TokenizerTrainOptions& options, const nlohmann::json& provenance);

/// Cap for the truncation rule above (exposed for tests): the segment lengths after truncation.
std::vector<std::size_t> truncatedSegmentLengths(const std::vector<std::size_t>& lengths, std::size_t maxLength);

}  // namespace mirtune
