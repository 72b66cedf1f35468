// Inference of the MIREncoder without LibTorch. Every step follows the LibTorch module of embeddings/Model.cpp
// operation for operation (same products, same accumulation order where LibTorch's is sequential), so the vectors
// agree with LibTorch's to float rounding; tests/embeddings checks that on real modules.
#include "embeddings/EncoderNetwork.h"

#include "ir/ProgramGraph.h"

#include <nlohmann/json.hpp>

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

// OpenBLAS's thread control; absent from other BLAS builds (the weak reference is then null).
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

namespace mirtune {

void useSingleThreadedBlas() {
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
}

namespace {

constexpr float kLayerNormEpsilon = 1e-5f;

struct Linear {
  const float* weight = nullptr;  ///< [out, in], row-major (torch's layout)
  const float* bias = nullptr;    ///< [out] or null
  int in = 0, out = 0;
};

struct LayerNorm {
  const float* weight = nullptr;
  const float* bias = nullptr;
  int size = 0;
};

struct TokenLayer {
  LayerNorm attentionNorm, feedForwardNorm;
  Linear inProjection, outProjection, expand, contract;
};

struct GraphLayer {
  Linear messages;             ///< D -> 6D, no bias
  const float* positions = nullptr;  ///< [6 * positionsPerRelation, D]
  Linear update;               ///< 2D -> D
  LayerNorm norm;
};

/// y[rows, out] = x[rows, in] · weightᵀ (+ bias): one BLAS product, then the bias row by row.
void applyLinear(const Linear& layer, const float* x, int rows, float* y) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, layer.out, layer.in, 1.0f, x, layer.in, layer.weight,
              layer.in, 0.0f, y, layer.out);
  if (layer.bias == nullptr) return;
  for (int r = 0; r < rows; ++r) {
    float* row = y + static_cast<std::size_t>(r) * static_cast<std::size_t>(layer.out);
    for (int c = 0; c < layer.out; ++c) row[c] += layer.bias[c];
  }
}

/// In place over `rows` rows of `norm.size`: (x·rstd − mean·rstd)·γ + β, the form LibTorch's kernel evaluates.
void applyLayerNorm(const LayerNorm& norm, float* x, int rows) {
  const int n = norm.size;
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<std::size_t>(r) * static_cast<std::size_t>(n);
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < n; ++i) sum += row[i];
    const double mean = sum / n;
    for (int i = 0; i < n; ++i) squares += (row[i] - mean) * (row[i] - mean);
    const float rstd = static_cast<float>(1.0 / std::sqrt(squares / n + static_cast<double>(kLayerNormEpsilon)));
    const float shift = -rstd * static_cast<float>(mean);
    for (int i = 0; i < n; ++i) row[i] = (row[i] * rstd + shift) * norm.weight[i] + norm.bias[i];
  }
}

/// e^x in float, branch-free so that loops over it vectorise: range reduction by ln 2, a degree-6 polynomial on
/// [-ln2/2, ln2/2] (the Cephes coefficients), then 2^n from the exponent bits; within 2 ulp over the range softmax
/// and GELU use (LibTorch's vectorised exp is SLEEF's, within 1 ulp).
inline float fastExp(float x) {
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
  x = x < -87.3365447505531f ? -87.3365447505531f : x;
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  return y * __builtin_bit_cast(float, bits);
}

/// GELU, 0.5·x·(1 + erf(x/√2)), with erf as LibTorch's vectorised kernel computes it (Abramowitz and Stegun
/// 7.1.26: |error| < 1.5e-7), so that this runtime and LibTorch round alike.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void applyGelu(float* x, std::size_t count) {
  constexpr float kInverseSqrt2 = 0.70710678118654752440f;
  constexpr float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f, a4 = -1.453152027f,
                  a5 = 1.061405429f;
#pragma omp simd
  for (std::size_t i = 0; i < count; ++i) {
    const float v = x[i];
    const float u = v * kInverseSqrt2;
    const float magnitude = std::fabs(u);
    const float t = 1.0f / (1.0f + p * magnitude);
    const float polynomial = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t;
    const float erfMagnitude = 1.0f - polynomial * fastExp(-magnitude * magnitude);
    const float erf = u < 0.0f ? -erfMagnitude : erfMagnitude;
    x[i] = v * 0.5f * (1.0f + erf);
  }
}

/// Softmax of one row: exp(x − max), then times 1/sum.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void softmaxRow(float* row, int n) {
  float highest = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : highest)
  for (int i = 0; i < n; ++i) highest = row[i] > highest ? row[i] : highest;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) {
    row[i] = fastExp(row[i] - highest);
    sum += row[i];
  }
  const float inverse = 1.0f / sum;
#pragma omp simd
  for (int i = 0; i < n; ++i) row[i] *= inverse;
}

}  // namespace

struct EncoderNetwork::Impl {
  EncoderConfig config;
  std::map<std::string, WeightTensor> weights;  ///< owns every array below
  const float* tokenEmbedding = nullptr;        ///< [V, D]
  const float* tokenPositions = nullptr;        ///< [maxTokens, D]
  std::vector<TokenLayer> tokenLayers;
  LayerNorm tokenNorm;
  const float* nodeKindEmbedding = nullptr;  ///< [kinds, D]
  std::vector<GraphLayer> graphLayers;
  Linear graphPool, fuse;

  std::vector<float> encodeTokens(const EncoderInput& input) const;
  std::vector<float> encodeGraph(const EncoderInput& input) const;
  void attention(const TokenLayer& layer, const float* normed, int length, float* out) const;
};

EncoderNetwork::EncoderNetwork(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EncoderNetwork::EncoderNetwork(EncoderNetwork&&) noexcept = default;
EncoderNetwork& EncoderNetwork::operator=(EncoderNetwork&&) noexcept = default;
EncoderNetwork::~EncoderNetwork() = default;

Expected<EncoderNetwork> EncoderNetwork::create(std::map<std::string, WeightTensor> weights, const EncoderConfig& config,
                                                const std::string& source) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->weights = std::move(weights);
  const std::int64_t d = config.modelDim;
  // Every parameter the forward pass reads, with the shape the config implies.
  auto take = [&](const std::string& name, std::vector<std::int64_t> shape) -> Expected<const float*> {
    auto found = impl->weights.find(name);
    if (found == impl->weights.end())
      return makeError(ErrorCode::kVersion, "{}: no weight {} (not a MIREncoder of this version?)", source, name);
    if (found->second.shape != shape) {
      return makeError(ErrorCode::kVersion, "{}: weight {} has shape {}, but the manifest's config gives {}", source,
                       name, nlohmann::json(found->second.shape).dump(), nlohmann::json(shape).dump());
    }
    return found->second.values.data();
  };
  auto linear = [&](const std::string& name, std::int64_t in, std::int64_t out, bool bias) -> Expected<Linear> {
    Linear layer;
    layer.in = static_cast<int>(in);
    layer.out = static_cast<int>(out);
    auto weight = take(name + ".weight", {out, in});
    if (!weight) return weight.error();
    layer.weight = *weight;
    if (bias) {
      auto values = take(name + ".bias", {out});
      if (!values) return values.error();
      layer.bias = *values;
    }
    return layer;
  };
  auto layerNorm = [&](const std::string& name) -> Expected<LayerNorm> {
    LayerNorm norm;
    norm.size = static_cast<int>(d);
    auto weight = take(name + ".weight", {d});
    if (!weight) return weight.error();
    auto bias = take(name + ".bias", {d});
    if (!bias) return bias.error();
    norm.weight = *weight;
    norm.bias = *bias;
    return norm;
  };
#define MIRTUNE_TAKE(target, expression)      \
  do {                                        \
    auto taken = (expression);                \
    if (!taken) return taken.error();         \
    target = *taken;                          \
  } while (false)
  MIRTUNE_TAKE(impl->tokenEmbedding, take("token_embedding.weight", {config.vocabularySize, d}));
  MIRTUNE_TAKE(impl->tokenPositions, take("token_positions.weight", {config.maxTokens, d}));
  for (int i = 0; i < config.tokenLayers; ++i) {
    const std::string prefix = "token_layers." + std::to_string(i) + ".";
    TokenLayer layer;
    MIRTUNE_TAKE(layer.attentionNorm, layerNorm(prefix + "attention_norm"));
    MIRTUNE_TAKE(layer.feedForwardNorm, layerNorm(prefix + "feed_forward_norm"));
    MIRTUNE_TAKE(layer.inProjection.weight, take(prefix + "attention.in_proj_weight", {3 * d, d}));
    MIRTUNE_TAKE(layer.inProjection.bias, take(prefix + "attention.in_proj_bias", {3 * d}));
    layer.inProjection.in = static_cast<int>(d);
    layer.inProjection.out = static_cast<int>(3 * d);
    MIRTUNE_TAKE(layer.outProjection, linear(prefix + "attention.out_proj", d, d, true));
    MIRTUNE_TAKE(layer.expand, linear(prefix + "expand", d, config.feedForwardDim, true));
    MIRTUNE_TAKE(layer.contract, linear(prefix + "contract", config.feedForwardDim, d, true));
    impl->tokenLayers.push_back(layer);
  }
  MIRTUNE_TAKE(impl->tokenNorm, layerNorm("token_norm"));
  MIRTUNE_TAKE(impl->nodeKindEmbedding,
               take("node_kind_embedding.weight", {static_cast<std::int64_t>(kNodeKinds.size()), d}));
  const std::int64_t positionsPerRelation = config.maxEdgePosition + 1;
  for (int i = 0; i < config.graphLayers; ++i) {
    const std::string prefix = "graph_layers." + std::to_string(i) + ".";
    GraphLayer layer;
    MIRTUNE_TAKE(layer.messages, linear(prefix + "messages", d, kGraphRelations * d, false));
    MIRTUNE_TAKE(layer.positions, take(prefix + "positions.weight", {kGraphRelations * positionsPerRelation, d}));
    MIRTUNE_TAKE(layer.update, linear(prefix + "update", 2 * d, d, true));
    MIRTUNE_TAKE(layer.norm, layerNorm(prefix + "norm"));
    impl->graphLayers.push_back(layer);
  }
  MIRTUNE_TAKE(impl->graphPool, linear("graph_pool", 2 * d, d, true));
  MIRTUNE_TAKE(impl->fuse, linear("fuse", 2 * d, config.embeddingDim, true));
#undef MIRTUNE_TAKE
  if (config.attentionHeads < 1 || d % config.attentionHeads != 0) {
    return makeError(ErrorCode::kInvalidInput, "{}: model_dim {} is not a multiple of attention_heads {}", source, d,
                     config.attentionHeads);
  }
  // The pretraining heads are not needed for inference.
  for (auto it = impl->weights.begin(); it != impl->weights.end();) {
    const std::string& name = it->first;
    const bool pretrainingOnly = name.rfind("masked_token_", 0) == 0 || name.rfind("edge_", 0) == 0 ||
                                 name.rfind("match_", 0) == 0 || name.rfind("property_", 0) == 0 ||
                                 name.rfind("contrastive_", 0) == 0;
    it = pretrainingOnly ? impl->weights.erase(it) : std::next(it);
  }
  return EncoderNetwork(std::move(impl));
}

void EncoderNetwork::Impl::attention(const TokenLayer& layer, const float* normed, int length, float* out) const {
  const int d = config.modelDim;
  const int heads = config.attentionHeads;
  const int headDim = d / heads;
  const std::size_t rows = static_cast<std::size_t>(length);
  std::vector<float> qkv(rows * 3 * static_cast<std::size_t>(d));
  applyLinear(layer.inProjection, normed, length, qkv.data());
  // q scaled by headDim^-1/2 after its bias, as LibTorch's multi-head attention does.
  const float scaling = static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
  for (std::size_t r = 0; r < rows; ++r)
    for (int c = 0; c < d; ++c) qkv[r * 3 * static_cast<std::size_t>(d) + static_cast<std::size_t>(c)] *= scaling;
  std::vector<float> scores(rows * rows);
  std::vector<float> context(rows * static_cast<std::size_t>(d));
  const int stride = 3 * d;
  for (int h = 0; h < heads; ++h) {
    const float* q = qkv.data() + h * headDim;
    const float* k = qkv.data() + d + h * headDim;
    const float* v = qkv.data() + 2 * d + h * headDim;
    // scores = q · kᵀ  [L, L]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, length, length, headDim, 1.0f, q, stride, k, stride, 0.0f,
                scores.data(), length);
    for (int r = 0; r < length; ++r) softmaxRow(scores.data() + static_cast<std::size_t>(r) * rows, length);
    // context[:, head] = scores · v
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, length, headDim, length, 1.0f, scores.data(), length, v,
                stride, 0.0f, context.data() + h * headDim, d);
  }
  applyLinear(layer.outProjection, context.data(), length, out);
}

std::vector<float> EncoderNetwork::Impl::encodeTokens(const EncoderInput& input) const {
  const int d = config.modelDim;
  const int length = static_cast<int>(std::max<std::size_t>(1, input.tokens.size()));
  const std::size_t rows = static_cast<std::size_t>(length);
  const std::size_t width = static_cast<std::size_t>(d);
  std::vector<float> x(rows * width);
  for (std::size_t t = 0; t < rows; ++t) {
    const std::size_t token = t < input.tokens.size() ? static_cast<std::size_t>(input.tokens[t])
                                                      : static_cast<std::size_t>(kPadToken.id);
    const float* embedding = tokenEmbedding + token * width;
    const float* position = tokenPositions + t * width;
    for (std::size_t c = 0; c < width; ++c) x[t * width + c] = embedding[c] + position[c];
  }
  std::vector<float> normed(rows * width), attended(rows * width);
  std::vector<float> hidden(rows * static_cast<std::size_t>(config.feedForwardDim));
  for (const TokenLayer& layer : tokenLayers) {
    normed = x;
    applyLayerNorm(layer.attentionNorm, normed.data(), length);
    attention(layer, normed.data(), length, attended.data());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += attended[i];
    normed = x;
    applyLayerNorm(layer.feedForwardNorm, normed.data(), length);
    applyLinear(layer.expand, normed.data(), length, hidden.data());
    applyGelu(hidden.data(), hidden.size());
    applyLinear(layer.contract, hidden.data(), length, attended.data());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += attended[i];
  }
  applyLayerNorm(tokenNorm, x.data(), length);
  // Mean over the real tokens (a sequence never has padding here).
  // The sums in double: LibTorch's reduction is pairwise, so a plain float sum over 256 rows would drift from it.
  std::vector<double> sums(width, 0.0);
  for (std::size_t t = 0; t < rows; ++t)
    for (std::size_t c = 0; c < width; ++c) sums[c] += x[t * width + c];
  std::vector<float> pooled(width);
  for (std::size_t c = 0; c < width; ++c) pooled[c] = static_cast<float>(sums[c]) / static_cast<float>(length);
  return pooled;
}

std::vector<float> EncoderNetwork::Impl::encodeGraph(const EncoderInput& input) const {
  const std::size_t width = static_cast<std::size_t>(config.modelDim);
  const std::size_t nodes = input.nodeCount();
  const int n = static_cast<int>(nodes);
  std::vector<float> states(nodes * width, 0.0f);
  // Node input: the mean of its text's token embeddings plus its kind's embedding.
  for (std::size_t node = 0; node < nodes; ++node) {
    const std::size_t begin = static_cast<std::size_t>(input.nodeTokenOffsets[node]);
    const std::size_t end = node + 1 < nodes ? static_cast<std::size_t>(input.nodeTokenOffsets[node + 1])
                                             : input.nodeTokenIds.size();
    float* state = states.data() + node * width;
    for (std::size_t t = begin; t < end; ++t) {
      const float* embedding = tokenEmbedding + static_cast<std::size_t>(input.nodeTokenIds[t]) * width;
      for (std::size_t c = 0; c < width; ++c) state[c] += embedding[c];
    }
    if (end > begin)
      for (std::size_t c = 0; c < width; ++c) state[c] /= static_cast<float>(end - begin);
    const float* kind = nodeKindEmbedding + static_cast<std::size_t>(input.nodeKinds[node]) * width;
    for (std::size_t c = 0; c < width; ++c) state[c] += kind[c];
  }
  // 1 / (messages a node receives over all flows and directions), at least 1.
  std::vector<float> inverseDegree(nodes, 0.0f);
  for (std::size_t e = 0; e < input.edgeCount(); ++e) {
    inverseDegree[static_cast<std::size_t>(input.edgeSources[e])] += 1.0f;
    inverseDegree[static_cast<std::size_t>(input.edgeTargets[e])] += 1.0f;
  }
  for (float& value : inverseDegree) value = 1.0f / std::max(1.0f, value);
  // Edges per flow, in input order (the order LibTorch's index_add_ accumulates in).
  std::array<std::vector<std::size_t>, 3> edgesOfFlow;
  for (std::size_t e = 0; e < input.edgeCount(); ++e) edgesOfFlow[input.edgeFlows[e]].push_back(e);
  const std::size_t positionsPerRelation = static_cast<std::size_t>(config.maxEdgePosition) + 1;
  const std::size_t relations = static_cast<std::size_t>(kGraphRelations);
  std::vector<float> transformed(nodes * relations * width), aggregate(nodes * width);
  std::vector<float> joined(nodes * 2 * width), updated(nodes * width);
  for (const GraphLayer& layer : graphLayers) {
    if (n > 0) applyLinear(layer.messages, states.data(), n, transformed.data());
    std::fill(aggregate.begin(), aggregate.end(), 0.0f);
    for (std::size_t flow = 0; flow < 3; ++flow) {
      for (std::size_t direction = 0; direction < 2; ++direction) {
        const std::size_t relation = 2 * flow + direction;
        for (std::size_t e : edgesOfFlow[flow]) {
          const std::size_t source = static_cast<std::size_t>(input.edgeSources[e]);
          const std::size_t target = static_cast<std::size_t>(input.edgeTargets[e]);
          const std::size_t from = direction == 0 ? source : target;
          const std::size_t to = direction == 0 ? target : source;
          const float* message = transformed.data() + (from * relations + relation) * width;
          const float* position =
              layer.positions + (static_cast<std::size_t>(input.edgePositions[e]) + relation * positionsPerRelation) * width;
          float* sum = aggregate.data() + to * width;
          for (std::size_t c = 0; c < width; ++c) sum[c] += message[c] + position[c];
        }
      }
    }
    for (std::size_t node = 0; node < nodes; ++node) {
      for (std::size_t c = 0; c < width; ++c) {
        joined[node * 2 * width + c] = states[node * width + c];
        joined[node * 2 * width + width + c] = aggregate[node * width + c] * inverseDegree[node];
      }
    }
    if (n > 0) applyLinear(layer.update, joined.data(), n, updated.data());
    applyGelu(updated.data(), updated.size());
    for (std::size_t i = 0; i < states.size(); ++i) states[i] += updated[i];
    applyLayerNorm(layer.norm, states.data(), n);
  }
  // Mean and max over the nodes, then the pooling layer.
  std::vector<float> pooledInput(2 * width, 0.0f);
  if (nodes == 0) {
    std::vector<float> pooled(width);
    applyLinear(graphPool, pooledInput.data(), 1, pooled.data());
    return pooled;
  }
  for (std::size_t c = 0; c < width; ++c) pooledInput[width + c] = -std::numeric_limits<float>::infinity();
  std::vector<double> sums(width, 0.0);
  for (std::size_t node = 0; node < nodes; ++node) {
    for (std::size_t c = 0; c < width; ++c) {
      sums[c] += states[node * width + c];
      pooledInput[width + c] = std::max(pooledInput[width + c], states[node * width + c]);
    }
  }
  for (std::size_t c = 0; c < width; ++c) pooledInput[c] = static_cast<float>(sums[c]) / static_cast<float>(nodes);
  std::vector<float> pooled(width);
  applyLinear(graphPool, pooledInput.data(), 1, pooled.data());
  return pooled;
}

namespace {

Status checkInput(const EncoderInput& input, const EncoderConfig& config) {
  const auto vocabulary = static_cast<std::int64_t>(config.vocabularySize);
  auto badToken = [&](std::int32_t id) { return id < 0 || id >= vocabulary; };
  if (input.tokens.size() > static_cast<std::size_t>(config.maxTokens))
    return makeError(ErrorCode::kInvalidInput, "{} tokens; the model has {} positions", input.tokens.size(), config.maxTokens);
  if (std::any_of(input.tokens.begin(), input.tokens.end(), badToken) ||
      std::any_of(input.nodeTokenIds.begin(), input.nodeTokenIds.end(), badToken))
    return makeError(ErrorCode::kInvalidInput, "a token id outside the vocabulary of {}", vocabulary);
  const std::size_t nodes = input.nodeCount();
  if (input.nodeTokenOffsets.size() != nodes)
    return makeError(ErrorCode::kInvalidInput, "{} node token offsets for {} nodes", input.nodeTokenOffsets.size(), nodes);
  for (std::size_t i = 0; i < nodes; ++i) {
    const std::int32_t offset = input.nodeTokenOffsets[i];
    const std::int32_t next = i + 1 < nodes ? input.nodeTokenOffsets[i + 1] : static_cast<std::int32_t>(input.nodeTokenIds.size());
    if (offset < 0 || offset > next || static_cast<std::size_t>(next) > input.nodeTokenIds.size())
      return makeError(ErrorCode::kInvalidInput, "node {} has token offsets out of order", i);
    if (input.nodeKinds[i] >= kNodeKinds.size()) return makeError(ErrorCode::kInvalidInput, "node {} has an unknown kind", i);
  }
  const std::size_t edges = input.edgeCount();
  if (input.edgeTargets.size() != edges || input.edgeFlows.size() != edges || input.edgePositions.size() != edges)
    return makeError(ErrorCode::kInvalidInput, "edge arrays of different lengths");
  for (std::size_t e = 0; e < edges; ++e) {
    if (input.edgeSources[e] < 0 || input.edgeTargets[e] < 0 || static_cast<std::size_t>(input.edgeSources[e]) >= nodes ||
        static_cast<std::size_t>(input.edgeTargets[e]) >= nodes || input.edgeFlows[e] >= 3 ||
        input.edgePositions[e] > config.maxEdgePosition)
      return makeError(ErrorCode::kInvalidInput, "edge {} is outside the graph or the model's tables", e);
  }
  return success();
}

}  // namespace

Expected<std::vector<float>> EncoderNetwork::embed(const EncoderInput& input, Modality modality) const {
  if (Status valid = checkInput(input, impl_->config); !valid) return valid.error();
  if (modality == Modality::kTokens) return impl_->encodeTokens(input);
  if (modality == Modality::kGraph) return impl_->encodeGraph(input);
  std::vector<float> joined = impl_->encodeTokens(input);
  std::vector<float> graph = impl_->encodeGraph(input);
  joined.insert(joined.end(), graph.begin(), graph.end());
  std::vector<float> fused(static_cast<std::size_t>(impl_->config.embeddingDim));
  applyLinear(impl_->fuse, joined.data(), 1, fused.data());
  return fused;
}

}  // namespace mirtune
