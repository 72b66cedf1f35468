// The interface of libmirtune_mlp.so, the LibTorch half of the MLP head (tasks/common/MlpTorch.cpp): plain arrays
// and opaque networks in, so that it links LibTorch alone and a process loads LibTorch only when it fits or runs an
// MLP head. Exported as `mirtuneMlpPlugin`, a function returning a pointer to an MlpPlugin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::heads {

inline constexpr int kMlpPluginVersion = 1;

struct MlpTrainingData {
  const float* features = nullptr;  ///< rows x cols, row-major
  std::size_t rows = 0, cols = 0;
  const std::int32_t* labels = nullptr;  ///< rows, each in [0, classes)
  const float* weights = nullptr;        ///< rows, or null for all ones
  int classes = 0;
};

struct MlpShape {
  std::int64_t features = 0;
  std::vector<int> hidden;
  int classes = 0;
};

struct MlpTraining {
  double dropout = 0.1, learningRate = 1e-2, weightDecay = 1e-4;
  int epochs = 40, batchSize = 0;
  unsigned seed = 0;
};

/// Every function reports failure through `error` (a one-line message) and a null or false result.
struct MlpPlugin {
  int version = kMlpPluginVersion;
  const char* torchVersion = "";
  /// Fits a network of `shape` on the standardised features; fills the standardisation (mean and population
  /// standard deviation per feature, 1 where it is below 1e-6).
  void* (*fit)(const MlpTrainingData& data, const MlpShape& shape, const MlpTraining& training, std::vector<float>& mean,
               std::vector<float>& scale, std::string& error) = nullptr;
  /// Rebuilds a network of `shape` from saved bytes; a weight of another shape is an error naming it.
  void* (*load)(const std::string& bytes, const MlpShape& shape, std::string& error) = nullptr;
  /// Class probabilities (n x classes) of rows standardised with mean/scale.
  bool (*predict)(const void* network, const float* rows, std::size_t n, std::size_t cols, const std::vector<float>& mean,
                  const std::vector<float>& scale, std::vector<float>& probabilities, std::string& error) = nullptr;
  bool (*save)(const void* network, std::string& bytes, std::string& error) = nullptr;
  std::size_t (*parameterCount)(const void* network) = nullptr;
  void (*release)(void* network) = nullptr;
  /// LibTorch's intra-op threads (fits are reproducible for a fixed count).
  void (*setThreads)(int threads) = nullptr;
};

}  // namespace mirtune::heads
