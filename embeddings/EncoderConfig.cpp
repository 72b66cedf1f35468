// EncoderConfig <-> JSON.
#include "embeddings/EncoderConfig.h"

#include "ir/ProgramGraph.h"

#include <optional>

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
  nlohmann::json json = {{"vocabulary_size", vocabularySize}, {"model_dim", modelDim},          {"token_layers", tokenLayers},
          {"attention_heads", attentionHeads}, {"feed_forward_dim", feedForwardDim}, {"max_tokens", maxTokens},
          {"graph_layers", graphLayers},       {"max_edge_position", maxEdgePosition}, {"embedding_dim", embeddingDim},
          {"dropout", dropout}};
  if (propertyTargets > 0) json["property_targets"] = propertyTargets;
  if (contrastiveDim > 0) json["contrastive_dim"] = contrastiveDim;
  return json;
}

namespace {

// One integer of the config, range-checked before it is narrowed: one beyond int's range must not wrap.
Status readSize(const nlohmann::json& json, const char* key, int lowest, int highest, int& out) {
  if (!json.contains(key)) return makeError(ErrorCode::kInvalidInput, "config.{} is missing", key);
  const auto& value = json[key];
  std::optional<std::int64_t> number;
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() <= static_cast<std::uint64_t>(highest)) number = value.get<std::int64_t>();
  } else if (value.is_number_integer()) {
    number = value.get<std::int64_t>();
  }
  if (!number || *number < lowest || *number > highest) {
    return makeError(ErrorCode::kInvalidInput, "config.{} is {}; it must be an integer from {} to {}", key,
                     value.dump(), lowest, highest);
  }
  out = static_cast<int>(*number);
  return success();
}

Status checkRange(const char* key, int value, int lowest, int highest) {
  if (value < lowest || value > highest) {
    return makeError(ErrorCode::kInvalidInput, "config.{} is {}; it must be an integer from {} to {}", key,
                     value, lowest, highest);
  }
  return success();
}

}  // namespace

Expected<EncoderConfig> EncoderConfig::fromJson(const nlohmann::json& json) {
  if (!json.is_object()) return makeError(ErrorCode::kInvalidInput, "config must be an object");
  EncoderConfig config;
  for (Status status : {readSize(json, "vocabulary_size", 2, kMaxVocabularySize, config.vocabularySize),
                        readSize(json, "model_dim", 1, kMaxModelDim, config.modelDim),
                        readSize(json, "token_layers", 0, kMaxEncoderLayers, config.tokenLayers),
                        readSize(json, "attention_heads", 1, kMaxModelDim, config.attentionHeads),
                        readSize(json, "feed_forward_dim", 1, kMaxFeedForwardDim, config.feedForwardDim),
                        readSize(json, "max_tokens", 2, kMaxEncoderTokens, config.maxTokens),
                        readSize(json, "graph_layers", 0, kMaxEncoderLayers, config.graphLayers),
                        readSize(json, "max_edge_position", 0, kMaxEdgePositions, config.maxEdgePosition),
                        readSize(json, "embedding_dim", 1, kMaxModelDim, config.embeddingDim)}) {
    if (!status) return status.error();
  }
  if (!json.contains("dropout") || !json["dropout"].is_number()) {
    return makeError(ErrorCode::kInvalidInput, "config.dropout must be a number in [0, 1)");
  }
  config.dropout = json["dropout"].get<double>();
  for (auto [key, target] : {std::pair{"property_targets", &config.propertyTargets},
                             std::pair{"contrastive_dim", &config.contrastiveDim}}) {
    if (!json.contains(key)) continue;
    if (auto read = readSize(json, key, 0, kMaxModelDim, *target); !read) return read.error();
  }
  if (auto valid = config.validate(); !valid) return valid.error();
  return config;
}

Status EncoderConfig::validate() const {
  for (Status status : {checkRange("vocabulary_size", vocabularySize, 2, kMaxVocabularySize),
                        checkRange("model_dim", modelDim, 1, kMaxModelDim),
                        checkRange("token_layers", tokenLayers, 0, kMaxEncoderLayers),
                        checkRange("attention_heads", attentionHeads, 1, kMaxModelDim),
                        checkRange("feed_forward_dim", feedForwardDim, 1, kMaxFeedForwardDim),
                        checkRange("max_tokens", maxTokens, 2, kMaxEncoderTokens),
                        checkRange("graph_layers", graphLayers, 0, kMaxEncoderLayers),
                        checkRange("max_edge_position", maxEdgePosition, 0, kMaxEdgePositions),
                        checkRange("embedding_dim", embeddingDim, 1, kMaxModelDim),
                        checkRange("property_targets", propertyTargets, 0, kMaxModelDim),
                        checkRange("contrastive_dim", contrastiveDim, 0, kMaxModelDim)}) {
    if (!status) return status;
  }
  if (modelDim % attentionHeads != 0) {
    return makeError(ErrorCode::kInvalidInput,
                     "config.model_dim {} is not a multiple of config.attention_heads {}", modelDim,
                     attentionHeads);
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    return makeError(ErrorCode::kInvalidInput, "config.dropout is {}; it must be in [0, 1)", dropout);
  }
  if (parameterCount() > kMaxEncoderParameters) {
    return makeError(ErrorCode::kInvalidInput,
                     "the config describes a model of {} weights, more than the {} allowed", parameterCount(),
                     kMaxEncoderParameters);
  }
  return success();
}

std::int64_t EncoderConfig::parameterCount() const {
  // Mirrors MirEncoderImpl's modules (Model.cpp): every bound above keeps each product far inside int64.
  const std::int64_t d = modelDim;
  const std::int64_t ff = feedForwardDim;
  const std::int64_t relations = kGraphRelations;
  const std::int64_t tokenLayer = 4 * d * d + 4 * d  // attention: in and out projections with biases
                                  + 4 * d            // two layer norms
                                  + d * ff + ff + ff * d + d;
  const std::int64_t graphLayer = relations * d * d +
                                  relations * (maxEdgePosition + 1) * d  // messages, positions
                                  + 2 * d * d + d                        // update
                                  + 2 * d;                               // norm
  return std::int64_t{vocabularySize} * d + std::int64_t{maxTokens} * d + tokenLayers * tokenLayer + 2 * d +
         static_cast<std::int64_t>(kNodeKinds.size()) * d + graphLayers * graphLayer + (2 * d * d + d) +
         (2 * d * embeddingDim + embeddingDim) + (d * d + d) + 2 * d + vocabularySize +
         2 * (3 * d * d + 3 * d) + (4 * d * d + d) + (d + 1) +
         (std::int64_t{embeddingDim} * propertyTargets + propertyTargets) +
         (std::int64_t{embeddingDim} * contrastiveDim + contrastiveDim);
}

}  // namespace mirtune
