// Sizes of the MIREncoder model, stored in every model's manifest (no LibTorch here).
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace mirtune {

/// Bumped when the model's architecture or weight layout changes; loading refuses other versions.
inline constexpr int kEncoderFormatVersion = 1;

/// Which vector `embed` returns.
enum class Modality { kFused, kTokens, kGraph };
std::string_view modalityName(Modality modality);
std::optional<Modality> parseModality(std::string_view name);

/// Relations of the graph network: 3 edge flows x 2 directions (messages travel along and against every
/// edge).
inline constexpr int kGraphRelations = 6;

/// Bounds on the sizes a manifest may give, checked before any tensor is built: far above any model mirtune
/// trains (the shipped one has 2 M weights), far below what would exhaust a machine's memory.
inline constexpr int kMaxVocabularySize = 1 << 20;
inline constexpr int kMaxModelDim = 4096;
inline constexpr int kMaxEncoderLayers = 64;
inline constexpr int kMaxFeedForwardDim = 16384;
inline constexpr int kMaxEncoderTokens = 1 << 16;
inline constexpr int kMaxEdgePositions = 4096;
inline constexpr std::int64_t kMaxEncoderParameters = std::int64_t{1} << 28;  ///< 1 GiB of float weights

struct EncoderConfig {
  int vocabularySize = 8000;
  int modelDim = 128;        ///< token and node state size
  int tokenLayers = 2;       ///< pre-norm transformer layers
  int attentionHeads = 4;
  int feedForwardDim = 256;
  int maxTokens = 512;       ///< learned positions
  int graphLayers = 3;       ///< message-passing rounds
  int maxEdgePosition = 31;  ///< edge positions above share the last embedding
  int embeddingDim = 128;    ///< fused embedding size
  double dropout = 0.1;
  /// Pretraining-only heads beyond the paper's three (0 = absent; inference never reads them): a linear map from
  /// the fused embedding to the module's static properties, and a projection for the -O-level contrastive task.
  int propertyTargets = 0;
  int contrastiveDim = 0;

  /// Optional keys "property_targets" and "contrastive_dim" appear only when non-zero, so that models without
  /// those heads (mirencoder-1.0) keep their manifests.
  nlohmann::json toJson() const;
  /// Reads a manifest's "config" object and checks it (validate). kInvalidInput naming the field
  /// ("config.model_dim") when one is missing, not an integer or out of range.
  static Expected<EncoderConfig> fromJson(const nlohmann::json& json);

  /// Ok when every size is within its bound above (vocabulary_size >= 2, model_dim >= 1 and a multiple of
  /// attention_heads >= 1, dropout in [0, 1), ...) and the model has at most kMaxEncoderParameters weights;
  /// kInvalidInput naming the field otherwise.
  Status validate() const;
  /// The number of weights MirEncoder has for this config (what a manifest's "parameters" records).
  std::int64_t parameterCount() const;
};

}  // namespace mirtune
