// Sizes of the MIREncoder model, stored in every model's manifest (no LibTorch here).
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

namespace mirtune {

/// Bumped when the model's architecture or weight layout changes; loading refuses other versions.
inline constexpr int kEncoderFormatVersion = 1;

/// Which vector `embed` returns.
enum class Modality { kFused, kTokens, kGraph };
std::string_view modalityName(Modality modality);
std::optional<Modality> parseModality(std::string_view name);

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

  nlohmann::json toJson() const;
  static Expected<EncoderConfig> fromJson(const nlohmann::json& json);
};

}  // namespace mirtune
