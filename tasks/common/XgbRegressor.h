// Gradient-boosted regression trees (XGBoost C API, reg:squarederror) for heads that predict a quantity, such
// as the log speedup of a configuration, rather than a class.
#pragma once

#include "support/Error.h"
#include "tasks/common/Dataset.h"
#include "tasks/common/XgbClassifier.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace mirtune::heads {

/// XGBoost regressor over dense float features (same XgbParams as the classifier). Predictions are serialised
/// by an internal mutex, so a const object may be shared.
class XgbRegressor {
 public:
  explicit XgbRegressor(XgbParams params);
  ~XgbRegressor();
  XgbRegressor(const XgbRegressor&) = delete;
  XgbRegressor& operator=(const XgbRegressor&) = delete;

  /// Trains on every row of `features` against `targets` (one finite value per row) with optional
  /// non-negative row weights (empty: all 1); replaces any previous model. kInvalidInput naming the row on
  /// bad input.
  Status fit(const FeatureMatrix& features, const std::vector<float>& targets,
             const std::vector<float>& weights = {});

  /// One predicted value per row of n x cols features (row-major). kInvalidInput when cols differs from the
  /// trained feature count, kInternal before fit/load.
  Expected<std::vector<float>> predict(const float* rows, std::size_t n, std::size_t cols) const;

  /// Writes model.ubj and head.json (kind "xgboost-regressor", params, feature count, SHA-256) into dir.
  Status save(const std::filesystem::path& dir) const;
  /// Reads a folder written by save(); errors name the file (kNotFound, kInvalidInput, kVersion as heads do).
  static Expected<std::unique_ptr<XgbRegressor>> load(const std::filesystem::path& dir);

  nlohmann::json describe() const;
  std::size_t featureCount() const { return features_; }
  const XgbParams& params() const { return params_; }

 private:
  XgbParams params_;
  std::unique_ptr<detail::XgbBooster> booster_;
  std::size_t features_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace mirtune::heads
