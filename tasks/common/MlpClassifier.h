// Multi-layer perceptron head: standardised features, ReLU hidden layers, weighted cross-entropy. Its LibTorch
// network is in libmirtune_mlp.so (tasks/common/MlpTorch.cpp), loaded the first time an MLP is fitted or loaded.
#pragma once

#include "tasks/common/Head.h"

#include <memory>

namespace mirtune::heads {

/// MLP hyper-parameters; JSON keys are the snake_case field names.
struct MlpParams {
  std::vector<int> hidden = {64};  ///< widths of the hidden layers, input side first
  double dropout = 0.1;            ///< drop probability after each hidden ReLU, training only
  double learningRate = 1e-2;      ///< "learning_rate" of Adam
  double weightDecay = 1e-4;       ///< "weight_decay": Adam's L2 penalty on all parameters
  int epochs = 40;                 ///< passes over the training rows
  int batchSize = 0;               ///< "batch_size": rows per step; 0 = full batch (one step per epoch)
  unsigned seed = 0;               ///< initial weights, dropout masks and batch order

  /// Defaults overridden by json's keys; unknown keys and wrong types are kInvalidInput.
  static Expected<MlpParams> fromJson(const nlohmann::json& json);
  nlohmann::json toJson() const;
};

/// MLP classifier. It draws all randomness from its own generator seeded by params.seed (never torch's global
/// one), so fits are reproducible for a fixed torch thread count even with other torch users in the process.
class MlpClassifier final : public Classifier {
 public:
  explicit MlpClassifier(MlpParams params);
  ~MlpClassifier() override;
  MlpClassifier(const MlpClassifier&) = delete;
  MlpClassifier& operator=(const MlpClassifier&) = delete;

  std::string_view kind() const override { return "mlp"; }
  Status fit(const Dataset& data) override;
  Expected<std::vector<float>> predictProbabilities(const float* rows, std::size_t n,
                                                    std::size_t cols) const override;
  Status save(const std::filesystem::path& dir) const override;
  nlohmann::json describe() const override;
  std::size_t featureCount() const override;
  int classCount() const override;
  const MlpParams& params() const { return params_; }

  /// Rebuilds a trained classifier from head.json and the saved weight bytes (used by Classifier::load).
  static Expected<std::unique_ptr<Classifier>> fromSaved(const nlohmann::json& head,
                                                         const std::string& modelBytes,
                                                         const std::filesystem::path& modelFile);

 private:
  struct Impl;
  MlpParams params_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mirtune::heads
