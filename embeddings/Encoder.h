// The pretrained MIREncoder as a service: load a model folder (weights, tokenizer, manifest), prepare inputs,
// and embed batches of modules. Inference never loads LibTorch (embeddings/EncoderNetwork.h).
#pragma once

#include "embeddings/EncoderConfig.h"
#include "embeddings/EncoderInput.h"
#include "frontend/IrModule.h"
#include "ir/Tokenizer.h"
#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mirtune {

/// Major.minor of the shipped model; its folder is embeddings/models/mirencoder-<major>.<minor>.
inline constexpr const char* kShippedEncoderName = "mirencoder-1.0";

class Encoder {
 public:
  /// Loads `directory`: manifest.json (versions must match this build), weights.pt (SHA-256 must match the
  /// manifest) and tokenizer/ (the tokenizer the model was trained with).
  static Expected<Encoder> load(const std::filesystem::path& directory);
  /// $MIRTUNE_MODELS/<kShippedEncoderName>, else embeddings/models/<kShippedEncoderName> in the source tree.
  static std::filesystem::path defaultDirectory();
  static Expected<Encoder> loadOrDefault(const std::string& directory) {
    return load(directory.empty() ? defaultDirectory() : std::filesystem::path(directory));
  }

  Encoder(Encoder&&) noexcept;
  Encoder& operator=(Encoder&&) noexcept;
  ~Encoder();

  /// "<name>/<first 12 hex of the weights SHA-256>": the key of the embedding cache and what task heads record.
  const std::string& id() const;
  const Tokenizer& tokenizer() const;
  const EncoderConfig& config() const;
  const InputLimits& limits() const;
  const nlohmann::json& manifest() const;
  std::size_t dimension(Modality modality) const;

  Expected<EncoderInput> prepare(const IrModule& module) const;
  /// One vector per input, in order. Each module is computed on its own (no padding), on the threads
  /// setEncoderThreads gives, `batchSize` modules per parallel round; the result does not depend on either.
  Expected<std::vector<std::vector<float>>> embed(const std::vector<EncoderInput>& inputs, Modality modality,
                                                  std::size_t batchSize = 16) const;

 private:
  struct Impl;
  explicit Encoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class EncoderWriter;
};

/// Threads Encoder::embed computes modules on (default 1).
void setEncoderThreads(int threads);

}  // namespace mirtune
