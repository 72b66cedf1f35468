// MIREncoder network: forward passes and pretraining heads.
#include "embeddings/Model.h"

#include "ir/ProgramGraph.h"
#include "support/Files.h"
#include "support/Sha256.h"

namespace mirtune {

namespace {
constexpr int kRelations = kGraphRelations;
}  // namespace

torch::Tensor int64Tensor(const std::vector<std::int64_t>& values) {
  return torch::from_blob(const_cast<std::int64_t*>(values.data()), {static_cast<long>(values.size())}, torch::kInt64)
      .clone();
}

EncoderBatch makeBatch(const std::vector<const EncoderInput*>& inputs, const std::vector<bool>* keepEdge) {
  EncoderBatch batch;
  std::size_t maxLength = 1;
  for (const EncoderInput* input : inputs) maxLength = std::max(maxLength, input->tokens.size());
  std::vector<std::int64_t> tokens(inputs.size() * maxLength, kPadToken.id);
  std::vector<std::int64_t> nodeTokenIds, nodeTokenOffsets, nodeKinds;
  std::array<std::vector<std::int64_t>, 3> sources, targets, positions;
  std::vector<float> degree;
  std::int64_t nodeBase = 0;
  std::size_t edgeIndex = 0;
  batch.nodeStart.push_back(0);
  for (std::size_t b = 0; b < inputs.size(); ++b) {
    const EncoderInput& input = *inputs[b];
    std::copy(input.tokens.begin(), input.tokens.end(), tokens.begin() + static_cast<long>(b * maxLength));
    std::int64_t tokenBase = static_cast<std::int64_t>(nodeTokenIds.size());
    nodeTokenIds.insert(nodeTokenIds.end(), input.nodeTokenIds.begin(), input.nodeTokenIds.end());
    for (std::int32_t offset : input.nodeTokenOffsets) nodeTokenOffsets.push_back(tokenBase + offset);
    nodeKinds.insert(nodeKinds.end(), input.nodeKinds.begin(), input.nodeKinds.end());
    degree.resize(degree.size() + input.nodeCount(), 0.0f);
    for (std::size_t e = 0; e < input.edgeCount(); ++e, ++edgeIndex) {
      if (keepEdge != nullptr && !(*keepEdge)[edgeIndex]) continue;
      std::size_t flow = input.edgeFlows[e];
      std::int64_t source = nodeBase + input.edgeSources[e];
      std::int64_t target = nodeBase + input.edgeTargets[e];
      sources[flow].push_back(source);
      targets[flow].push_back(target);
      positions[flow].push_back(input.edgePositions[e]);
      // Messages travel both ways along every edge.
      degree[static_cast<std::size_t>(source)] += 1.0f;
      degree[static_cast<std::size_t>(target)] += 1.0f;
    }
    nodeBase += static_cast<std::int64_t>(input.nodeCount());
    batch.nodeStart.push_back(nodeBase);
  }
  batch.tokens = torch::from_blob(tokens.data(), {static_cast<long>(inputs.size()), static_cast<long>(maxLength)},
                                  torch::kInt64)
                     .clone();
  batch.tokenPadding = batch.tokens.eq(kPadToken.id);
  batch.nodeTokenIds = int64Tensor(nodeTokenIds);
  batch.nodeTokenOffsets = int64Tensor(nodeTokenOffsets);
  batch.nodeKinds = int64Tensor(nodeKinds);
  for (std::size_t flow = 0; flow < 3; ++flow) {
    batch.flowSources[flow] = int64Tensor(sources[flow]);
    batch.flowTargets[flow] = int64Tensor(targets[flow]);
    batch.flowPositions[flow] = int64Tensor(positions[flow]);
  }
  for (float& d : degree) d = 1.0f / std::max(1.0f, d);
  batch.inverseDegree =
      torch::from_blob(degree.data(), {static_cast<long>(degree.size()), 1}, torch::kFloat32).clone();
  return batch;
}

PreNormLayerImpl::PreNormLayerImpl(const EncoderConfig& config) {
  attentionNorm = register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.modelDim})));
  feedForwardNorm =
      register_module("feed_forward_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.modelDim})));
  attention = register_module(
      "attention", torch::nn::MultiheadAttention(
                       torch::nn::MultiheadAttentionOptions(config.modelDim, config.attentionHeads).dropout(config.dropout)));
  expand = register_module("expand", torch::nn::Linear(config.modelDim, config.feedForwardDim));
  contract = register_module("contract", torch::nn::Linear(config.feedForwardDim, config.modelDim));
  dropout = register_module("dropout", torch::nn::Dropout(config.dropout));
}

torch::Tensor PreNormLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& padding) {
  torch::Tensor normed = attentionNorm(x);
  torch::Tensor attended = std::get<0>(attention(normed, normed, normed, padding, /*need_weights=*/false));
  torch::Tensor y = x + dropout(attended);
  return y + dropout(contract(dropout(torch::gelu(expand(feedForwardNorm(y))))));
}

MessagePassingLayerImpl::MessagePassingLayerImpl(const EncoderConfig& config)
    : positionsPerRelation(config.maxEdgePosition + 1) {
  messages = register_module(
      "messages", torch::nn::Linear(torch::nn::LinearOptions(config.modelDim, kRelations * config.modelDim).bias(false)));
  positions = register_module("positions", torch::nn::Embedding(kRelations * positionsPerRelation, config.modelDim));
  update = register_module("update", torch::nn::Linear(2 * config.modelDim, config.modelDim));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.modelDim})));
  dropout = register_module("dropout", torch::nn::Dropout(config.dropout));
}

torch::Tensor MessagePassingLayerImpl::forward(const torch::Tensor& states, const EncoderBatch& batch) {
  const long n = states.size(0);
  const long d = states.size(1);
  torch::Tensor transformed = messages(states).view({n, kRelations, d});
  torch::Tensor aggregate = torch::zeros_like(states);
  for (int flow = 0; flow < 3; ++flow) {
    if (batch.flowSources[flow].numel() == 0) continue;
    for (int direction = 0; direction < 2; ++direction) {
      int relation = 2 * flow + direction;
      const torch::Tensor& from = direction == 0 ? batch.flowSources[flow] : batch.flowTargets[flow];
      const torch::Tensor& to = direction == 0 ? batch.flowTargets[flow] : batch.flowSources[flow];
      torch::Tensor message = transformed.select(1, relation).index_select(0, from) +
                              positions(batch.flowPositions[flow] + relation * positionsPerRelation);
      aggregate.index_add_(0, to, message);
    }
  }
  aggregate = aggregate * batch.inverseDegree;
  return norm(states + dropout(torch::gelu(update(torch::cat({states, aggregate}, 1)))));
}

MirEncoderImpl::MirEncoderImpl(const EncoderConfig& cfg) : config(cfg) {
  const int d = config.modelDim;
  tokenEmbedding = register_module("token_embedding", torch::nn::Embedding(config.vocabularySize, d));
  tokenPositions = register_module("token_positions", torch::nn::Embedding(config.maxTokens, d));
  tokenLayers = register_module("token_layers", torch::nn::ModuleList());
  for (int i = 0; i < config.tokenLayers; ++i) tokenLayers->push_back(PreNormLayer(config));
  tokenNorm = register_module("token_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  nodeKindEmbedding = register_module("node_kind_embedding", torch::nn::Embedding(static_cast<int>(kNodeKinds.size()), d));
  graphLayers = register_module("graph_layers", torch::nn::ModuleList());
  for (int i = 0; i < config.graphLayers; ++i) graphLayers->push_back(MessagePassingLayer(config));
  graphPool = register_module("graph_pool", torch::nn::Linear(2 * d, d));
  fuse = register_module("fuse", torch::nn::Linear(2 * d, config.embeddingDim));
  maskedTokenTransform = register_module("masked_token_transform", torch::nn::Linear(d, d));
  maskedTokenNorm = register_module("masked_token_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  maskedTokenBias = register_parameter("masked_token_bias", torch::zeros({config.vocabularySize}));
  edgeSourceProjection = register_module("edge_source_projection", torch::nn::Linear(d, 3 * d));
  edgeTargetProjection = register_module("edge_target_projection", torch::nn::Linear(d, 3 * d));
  matchHidden = register_module("match_hidden", torch::nn::Linear(4 * d, d));
  matchOutput = register_module("match_output", torch::nn::Linear(d, 1));
  if (config.propertyTargets > 0) {
    propertyHead = register_module("property_head", torch::nn::Linear(config.embeddingDim, config.propertyTargets));
  }
  if (config.contrastiveDim > 0) {
    contrastiveProjection =
        register_module("contrastive_projection", torch::nn::Linear(config.embeddingDim, config.contrastiveDim));
  }
  torch::NoGradGuard noGrad;
  tokenEmbedding->weight.normal_(0.0, 0.02);
  tokenPositions->weight.normal_(0.0, 0.02);
  nodeKindEmbedding->weight.normal_(0.0, 0.02);
}

torch::Tensor MirEncoderImpl::encodeTokens(const EncoderBatch& batch, torch::Tensor& states) {
  const long length = batch.tokens.size(1);
  torch::Tensor positionIds = torch::arange(length, torch::kInt64).unsqueeze(0);
  torch::Tensor x = tokenEmbedding(batch.tokens) + tokenPositions(positionIds);  // [B, L, D]
  x = x.transpose(0, 1);                                                          // [L, B, D]
  for (const auto& layer : *tokenLayers) x = layer->as<PreNormLayer>()->forward(x, batch.tokenPadding);
  states = tokenNorm(x.transpose(0, 1));  // [B, L, D]
  // Mean over real tokens.
  torch::Tensor valid = batch.tokenPadding.logical_not().unsqueeze(2).to(states.dtype());
  return (states * valid).sum(1) / valid.sum(1).clamp_min(1.0);
}

torch::Tensor MirEncoderImpl::encodeGraph(const EncoderBatch& batch, torch::Tensor& states) {
  // Node input: mean of its text's token embeddings (the shared table) plus its kind.
  torch::Tensor nodeText = std::get<0>(torch::embedding_bag(tokenEmbedding->weight, batch.nodeTokenIds,
                                                            batch.nodeTokenOffsets, false, /*mode=mean*/ 1));
  states = nodeText + nodeKindEmbedding(batch.nodeKinds);
  for (const auto& layer : *graphLayers) states = layer->as<MessagePassingLayer>()->forward(states, batch);
  std::vector<torch::Tensor> pooled;
  for (std::size_t b = 0; b + 1 < batch.nodeStart.size(); ++b) {
    torch::Tensor nodes = states.narrow(0, batch.nodeStart[b], std::max<std::int64_t>(1, batch.nodeStart[b + 1] - batch.nodeStart[b]));
    pooled.push_back(torch::cat({nodes.mean(0), std::get<0>(nodes.max(0))}));
  }
  return graphPool(torch::stack(pooled));
}

EncoderOutput MirEncoderImpl::forward(const EncoderBatch& batch) {
  EncoderOutput out;
  out.tokenVectors = encodeTokens(batch, out.tokenStates);
  out.graphVectors = encodeGraph(batch, out.nodeStates);
  out.fused = fuse(torch::cat({out.tokenVectors, out.graphVectors}, 1));
  return out;
}

torch::Tensor MirEncoderImpl::maskedTokenLogits(const torch::Tensor& states) {
  torch::Tensor hidden = maskedTokenNorm(torch::gelu(maskedTokenTransform(states)));
  return torch::matmul(hidden, tokenEmbedding->weight.t()) + maskedTokenBias;
}

torch::Tensor MirEncoderImpl::edgeScores(const torch::Tensor& nodeStates, const torch::Tensor& sources,
                                         const torch::Tensor& targets, const torch::Tensor& flows) {
  const long d = nodeStates.size(1);
  // Project only the nodes involved, then pick each pair's flow block.
  torch::Tensor from = edgeSourceProjection(nodeStates.index_select(0, sources)).view({-1, 3, d});
  torch::Tensor to = edgeTargetProjection(nodeStates.index_select(0, targets)).view({-1, 3, d});
  torch::Tensor pick = flows.view({-1, 1, 1}).expand({-1, 1, d});
  torch::Tensor a = from.gather(1, pick).squeeze(1);
  torch::Tensor b = to.gather(1, pick).squeeze(1);
  // Scaled so that unit-variance projections give unit-variance scores at any width.
  return (a * b).sum(1) / std::sqrt(static_cast<double>(d));
}

torch::Tensor MirEncoderImpl::matchLogits(const torch::Tensor& tokenVectors, const torch::Tensor& graphVectors) {
  torch::Tensor features =
      torch::cat({tokenVectors, graphVectors, tokenVectors * graphVectors, (tokenVectors - graphVectors).abs()}, 1);
  return matchOutput(torch::gelu(matchHidden(features))).squeeze(1);
}

torch::Tensor MirEncoderImpl::propertyPredictions(const torch::Tensor& fused) {
  return propertyHead(fused);
}

torch::Tensor MirEncoderImpl::contrastiveProjections(const torch::Tensor& fused) {
  return torch::nn::functional::normalize(contrastiveProjection(torch::gelu(fused)),
                                          torch::nn::functional::NormalizeFuncOptions().dim(1));
}

namespace {
constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kWeightsFile = "weights.pt";
constexpr const char* kTokenizerFolder = "tokenizer";
}  // namespace

Status writeModelFolder(MirEncoder& model, const EncoderConfig& config, const InputLimits& limits,
                        const std::filesystem::path& tokenizerDirectory, const std::filesystem::path& out, const nlohmann::json& extra) {
  std::error_code ec;
  std::filesystem::create_directories(out / kTokenizerFolder, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot create: {}", out.string(), ec.message());
  for (const char* name : {"tokenizer.model", "manifest.json"}) {
    auto bytes = readFile(tokenizerDirectory / name);
    if (!bytes) return bytes.error();
    if (auto written = writeFileAtomically(out / kTokenizerFolder / name, *bytes); !written) return written;
  }
  auto tokenizer = Tokenizer::load(out / kTokenizerFolder);
  if (!tokenizer) return tokenizer.error();
  std::filesystem::path weights = out / kWeightsFile;
  std::filesystem::path temporary = out / ".weights.pt.tmp";
  try {
    torch::save(model, temporary.string());
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kIo, "{}: cannot save weights: {}", weights.string(), e.what());
  }
  std::filesystem::rename(temporary, weights, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: {}", weights.string(), ec.message());
  auto sha = sha256File(weights);
  if (!sha) return sha.error();
  std::size_t parameters = 0;
  for (const auto& parameter : model->parameters()) parameters += static_cast<std::size_t>(parameter.numel());
  nlohmann::json manifest = {
      {"kind", "mirtune MIREncoder"},
      {"name", out.filename().string()},
      {"format_version", kEncoderFormatVersion},
      {"normaliser_version", kNormaliserVersion},
      {"graph_schema_version", kGraphSchemaVersion},
      {"tokenizer_format_version", kTokenizerFormatVersion},
      {"tokenizer_id", tokenizer->id()},
      {"config", config.toJson()},
      {"limits", inputLimitsToJson(limits)},
      {"parameters", parameters},
      {"weights_sha256", *sha},
  };
  for (const auto& [key, value] : extra.items()) manifest[key] = value;
  return writeFileAtomically(out / kManifestFile, manifest.dump(2) + "\n");
}

}  // namespace mirtune
