// The MIREncoder network (LibTorch): a pre-norm transformer over IR tokens and a relational message-passing
// network over the program graph, sharing one token embedding table, plus the three pretraining heads.
// Only embeddings/*.cpp include this header (each LibTorch TU costs ~15 s to compile).
#pragma once

#include "embeddings/EncoderConfig.h"
#include "embeddings/EncoderInput.h"

#include <torch/torch.h>

#include <array>
#include <filesystem>

#include <vector>

namespace mirtune {

/// A batch of encoder inputs as tensors. Tokens are padded with [PAD] (id 0); graphs are concatenated with
/// their node ids shifted, and nodes of graph b are the contiguous range [nodeStart[b], nodeStart[b+1]).
struct EncoderBatch {
  torch::Tensor tokens;            ///< [B, L] int64
  torch::Tensor tokenPadding;      ///< [B, L] bool, true at padding
  torch::Tensor nodeTokenIds;      ///< [T] int64
  torch::Tensor nodeTokenOffsets;  ///< [N] int64
  torch::Tensor nodeKinds;         ///< [N] int64
  /// Edges grouped by flow (control, data, call): sources, targets and positions, int64.
  std::array<torch::Tensor, 3> flowSources, flowTargets, flowPositions;
  /// 1 / (number of messages a node receives over all flows and directions), at least 1: [N, 1] float.
  torch::Tensor inverseDegree;
  std::vector<std::int64_t> nodeStart;  ///< B + 1 entries
};

/// A 1-D int64 tensor holding a copy of `values`.
torch::Tensor int64Tensor(const std::vector<std::int64_t>& values);

/// Builds the batch tensors. `keepEdge` (optional, one flag per edge of every input in order) removes edges
/// from the message passing: the graph auto-encoding task hides the edges it asks the model to reconstruct.
EncoderBatch makeBatch(const std::vector<const EncoderInput*>& inputs, const std::vector<bool>* keepEdge = nullptr);

/// Pre-norm transformer layer: x + attention(norm(x)), then x + feed-forward(norm(x)).
struct PreNormLayerImpl : torch::nn::Module {
  PreNormLayerImpl(const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& padding);  // x: [L, B, D]

  torch::nn::LayerNorm attentionNorm{nullptr}, feedForwardNorm{nullptr};
  torch::nn::MultiheadAttention attention{nullptr};
  torch::nn::Linear expand{nullptr}, contract{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(PreNormLayer);

/// One round of relational message passing: per edge flow and direction a linear message plus a position
/// embedding, mean-aggregated per receiving node, then a residual update.
struct MessagePassingLayerImpl : torch::nn::Module {
  MessagePassingLayerImpl(const EncoderConfig& config);
  torch::Tensor forward(const torch::Tensor& states, const EncoderBatch& batch);

  /// The 3 flows x 2 directions linear maps as one [D -> 6D] map (one matrix product for all relations).
  torch::nn::Linear messages{nullptr};
  torch::nn::Embedding positions{nullptr};  ///< (3 flows x 2 directions x positions) x D
  torch::nn::Linear update{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  int positionsPerRelation = 32;
};
TORCH_MODULE(MessagePassingLayer);

/// Output of one forward pass.
struct EncoderOutput {
  torch::Tensor tokenStates;   ///< [B, L, D]
  torch::Tensor nodeStates;    ///< [N, D]
  torch::Tensor tokenVectors;  ///< [B, D] pooled token modality
  torch::Tensor graphVectors;  ///< [B, D] pooled graph modality
  torch::Tensor fused;         ///< [B, embeddingDim]
};

struct MirEncoderImpl : torch::nn::Module {
  explicit MirEncoderImpl(const EncoderConfig& config);

  EncoderOutput forward(const EncoderBatch& batch);
  torch::Tensor encodeTokens(const EncoderBatch& batch, torch::Tensor& states);
  torch::Tensor encodeGraph(const EncoderBatch& batch, torch::Tensor& states);

  /// Masked-token logits for token states [M, D] → [M, V] (output weights tied to the token embedding).
  torch::Tensor maskedTokenLogits(const torch::Tensor& states);
  /// Edge scores for node pairs: per flow, a source and a target projection of the node states, dotted.
  torch::Tensor edgeScores(const torch::Tensor& nodeStates, const torch::Tensor& sources, const torch::Tensor& targets,
                           const torch::Tensor& flows);
  /// Matching logits for pairs of pooled token and graph vectors ([P, D] each).
  torch::Tensor matchLogits(const torch::Tensor& tokenVectors, const torch::Tensor& graphVectors);
  /// Predicted (standardised) module properties from fused embeddings [B, E] → [B, propertyTargets].
  torch::Tensor propertyPredictions(const torch::Tensor& fused);
  /// Unit-length contrastive projections of fused embeddings [B, E] → [B, contrastiveDim].
  torch::Tensor contrastiveProjections(const torch::Tensor& fused);

  EncoderConfig config;
  torch::nn::Embedding tokenEmbedding{nullptr};
  torch::nn::Embedding tokenPositions{nullptr};
  torch::nn::ModuleList tokenLayers{nullptr};
  torch::nn::LayerNorm tokenNorm{nullptr};
  torch::nn::Embedding nodeKindEmbedding{nullptr};
  torch::nn::ModuleList graphLayers{nullptr};
  torch::nn::Linear graphPool{nullptr};
  torch::nn::Linear fuse{nullptr};
  torch::nn::Linear maskedTokenTransform{nullptr};
  torch::nn::LayerNorm maskedTokenNorm{nullptr};
  torch::Tensor maskedTokenBias;
  torch::nn::Linear edgeSourceProjection{nullptr}, edgeTargetProjection{nullptr};  ///< D -> 3 flows x D
  torch::nn::Linear matchHidden{nullptr}, matchOutput{nullptr};
  torch::nn::Linear propertyHead{nullptr};        ///< only when config.propertyTargets > 0
  torch::nn::Linear contrastiveProjection{nullptr};  ///< only when config.contrastiveDim > 0
};
TORCH_MODULE(MirEncoder);

}  // namespace mirtune

namespace mirtune {

/// Writes a complete model folder: weights.pt, tokenizer/ (copied from tokenizerDirectory) and manifest.json
/// (versions, config, limits, weights SHA-256, plus `extra`: corpus, training command, metrics). Atomic per file.
Status writeModelFolder(MirEncoder& model, const EncoderConfig& config, const InputLimits& limits,
                        const std::filesystem::path& tokenizerDirectory, const std::filesystem::path& out,
                        const nlohmann::json& extra);

}  // namespace mirtune
