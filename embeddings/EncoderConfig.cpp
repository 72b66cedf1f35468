// EncoderConfig <-> JSON.
#include "embeddings/EncoderConfig.h"

namespace mirtune {

std::string_view modalityName(Modality modality) {
  switch (modality) {
    case Modality::kFused: return "fused";
    case Modality::kTokens: return "tokens";
    case Modality::kGraph: return "graph";
  }
  return "fused";
}

std::optional<Modality> parseModality(std::string_view name) {
  for (Modality modality : {Modality::kFused, Modality::kTokens, Modality::kGraph}) {
    if (modalityName(modality) == name) return modality;
  }
  return std::nullopt;
}

nlohmann::json EncoderConfig::toJson() const {
  return {{"vocabulary_size", vocabularySize}, {"model_dim", modelDim},          {"token_layers", tokenLayers},
          {"attention_heads", attentionHeads}, {"feed_forward_dim", feedForwardDim}, {"max_tokens", maxTokens},
          {"graph_layers", graphLayers},       {"max_edge_position", maxEdgePosition}, {"embedding_dim", embeddingDim},
          {"dropout", dropout}};
}

Expected<EncoderConfig> EncoderConfig::fromJson(const nlohmann::json& json) {
  EncoderConfig config;
  try {
    config.vocabularySize = json.at("vocabulary_size").get<int>();
    config.modelDim = json.at("model_dim").get<int>();
    config.tokenLayers = json.at("token_layers").get<int>();
    config.attentionHeads = json.at("attention_heads").get<int>();
    config.feedForwardDim = json.at("feed_forward_dim").get<int>();
    config.maxTokens = json.at("max_tokens").get<int>();
    config.graphLayers = json.at("graph_layers").get<int>();
    config.maxEdgePosition = json.at("max_edge_position").get<int>();
    config.embeddingDim = json.at("embedding_dim").get<int>();
    config.dropout = json.at("dropout").get<double>();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "encoder config: {}", e.what());
  }
  if (config.modelDim % config.attentionHeads != 0) {
    return makeError(ErrorCode::kInvalidInput, "encoder config: model_dim {} is not a multiple of attention_heads {}",
                     config.modelDim, config.attentionHeads);
  }
  return config;
}

}  // namespace mirtune
