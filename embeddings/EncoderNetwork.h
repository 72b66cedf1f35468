// The MIREncoder's forward pass for inference, without LibTorch: the same network as embeddings/Model.h (pre-norm
// transformer over tokens, relational message passing over the graph, pooled and fused), computed one module at a
// time with BLAS matrix products, so that no padding is paid for and a process that embeds never loads LibTorch.
#pragma once

#include "embeddings/EncoderConfig.h"
#include "embeddings/EncoderInput.h"
#include "embeddings/WeightsArchive.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mirtune {

class EncoderNetwork {
 public:
  /// Keeps the parameters inference needs from `weights` (a whole model's, as readWeightsArchive gives them) and
  /// checks each one's shape against `config`; `source` names the weights in messages. The pretraining heads'
  /// parameters are dropped.
  static Expected<EncoderNetwork> create(std::map<std::string, WeightTensor> weights, const EncoderConfig& config,
                                         const std::string& source);

  EncoderNetwork(EncoderNetwork&&) noexcept;
  EncoderNetwork& operator=(EncoderNetwork&&) noexcept;
  ~EncoderNetwork();

  /// The vector of one module: the pooled token states (kTokens, modelDim), the pooled graph states (kGraph,
  /// modelDim) or both fused (kFused, embeddingDim). Safe to call from several threads at once. An input whose
  /// ids, kinds, edges or positions fall outside the model's tables is kInvalidInput (inputs may come from files).
  Expected<std::vector<float>> embed(const EncoderInput& input, Modality modality) const;

 private:
  struct Impl;
  explicit EncoderNetwork(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Makes BLAS run each matrix product on the calling thread (mirtune parallelises over modules instead).
void useSingleThreadedBlas();

}  // namespace mirtune
