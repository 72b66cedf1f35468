// Classifier interface for task heads, the head.json model folder format, and the factory by kind.
#pragma once

#include "support/Error.h"
#include "tasks/common/Dataset.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::heads {

/// Version of the head.json layout; a folder with another version is a kVersion error on load.
inline constexpr int kHeadFormatVersion = 1;
/// Name of the description file in a saved head folder.
inline constexpr const char* kHeadFile = "head.json";

/// A supervised k-class classifier over dense float features. fit() replaces any previous model.
/// Implementations are deterministic for fixed params (seed, thread count) and data.
class Classifier {
 public:
  virtual ~Classifier() = default;

  /// "xgboost" or "mlp": the kind written to head.json and accepted by makeClassifier.
  virtual std::string_view kind() const = 0;

  /// Trains on every row of data (validated first); previous state is discarded.
  virtual Status fit(const Dataset& data) = 0;

  /// Class probabilities of n rows of `cols` features (row-major): n x k values, row-major, each row sums
  /// to 1. kInvalidInput when cols differs from the trained feature count, kInternal before fit/load.
  virtual Expected<std::vector<float>> predictProbabilities(const float* rows, std::size_t n,
                                                            std::size_t cols) const = 0;

  /// Most probable class of each row (the lowest class index on ties).
  Expected<std::vector<int>> predictClasses(const float* rows, std::size_t n, std::size_t cols) const;

  /// Writes the model file and then head.json (kind, params, feature and class counts, standardisation, model
  /// file name and SHA-256) into dir, each atomically; creates dir.
  virtual Status save(const std::filesystem::path& dir) const = 0;

  /// Reads a folder written by save(). Errors name the file: missing head.json/model (kNotFound), corrupt
  /// JSON or model bytes (kInvalidInput), other format version, SHA-256 or shape mismatches (kVersion).
  static Expected<std::unique_ptr<Classifier>> load(const std::filesystem::path& dir);

  /// Kind, resolved params, feature/class counts and whether it is trained; what head.json records.
  virtual nlohmann::json describe() const = 0;

  /// Feature count of the trained model (0 before fit/load).
  virtual std::size_t featureCount() const = 0;
  /// Class count of the trained model (0 before fit/load).
  virtual int classCount() const = 0;
};

/// A model kind with its hyper-parameters (missing keys take the kind's defaults; unknown keys are an error).
struct Candidate {
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
};

/// An untrained classifier for a candidate; kUsage for an unknown kind, kInvalidInput for bad params.
Expected<std::unique_ptr<Classifier>> makeClassifier(const Candidate& candidate);

/// Sets LibTorch's intra-op thread count for MLP heads (process-wide; MLP results are reproducible for a fixed
/// count). Kept until libmirtune_mlp.so is loaded if it is not yet: a thread count is no reason to load LibTorch.
void setTorchThreads(int threads);

}  // namespace mirtune::heads
