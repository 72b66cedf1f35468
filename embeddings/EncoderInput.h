// What the encoder reads of one module: its token sequence and its program graph with node tokens, as flat
// arrays.
#pragma once

#include "frontend/IrModule.h"
#include "ir/Tokenizer.h"
#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune {

struct InputLimits {
  /// Token sequence length, [CLS]/[SEP] included (Tokenizer::encodeModule's truncation rule).
  std::size_t maxTokens = kDefaultMaxSequenceLength;
  /// Graph nodes. A larger graph keeps the first instructions in IR order with every variable and constant they
  /// touch, as many as fit (plus the external node); edges between kept nodes stay.
  std::size_t maxNodes = 8192;
  /// Tokens per node text (its head); node inputs average these tokens' embeddings.
  std::size_t maxNodeTokens = 16;
  /// Edge positions above this share the last position embedding.
  std::uint32_t maxEdgePosition = 31;
};

struct EncoderInput {
  std::string irSha256;
  std::vector<std::int32_t> tokens;  ///< [CLS] … [SEP], at most InputLimits::maxTokens
  std::vector<std::uint8_t> nodeKinds;
  std::vector<std::int32_t> nodeTokenIds;      ///< all nodes' tokens, concatenated
  std::vector<std::int32_t> nodeTokenOffsets;  ///< start of each node's tokens in nodeTokenIds
  std::vector<std::int32_t> edgeSources;
  std::vector<std::int32_t> edgeTargets;
  std::vector<std::uint8_t> edgeFlows;
  std::vector<std::uint8_t> edgePositions;  ///< clamped to InputLimits::maxEdgePosition
  bool tokensTruncated = false;
  bool graphTruncated = false;

  std::size_t nodeCount() const { return nodeKinds.size(); }
  std::size_t edgeCount() const { return edgeSources.size(); }
};

/// The limits a manifest records, and reading them back (each checked against its sane range).
nlohmann::json inputLimitsToJson(const InputLimits& limits);
Expected<InputLimits> inputLimitsFromJson(const nlohmann::json& json);

/// Normalises the module, builds its token sequence and program graph, tokenises the node texts, and applies
/// the limits. Deterministic.
Expected<EncoderInput> prepareEncoderInput(const IrModule& module, const Tokenizer& tokenizer,
                                           const InputLimits& limits = {});

/// Serialisation of many inputs in one binary file (the pretraining cache): a header with a format version,
/// then the inputs. `key` (tokenizer id, limits, graph schema) must match on reading, else kVersion.
Status writeEncoderInputs(const std::string& path, const std::string& key, const std::vector<EncoderInput>& inputs);
Expected<std::vector<EncoderInput>> readEncoderInputs(const std::string& path, const std::string& key);

/// The key describing how inputs were prepared (tokenizer id, graph schema, normaliser version, limits).
std::string encoderInputKey(const Tokenizer& tokenizer, const InputLimits& limits);

}  // namespace mirtune
