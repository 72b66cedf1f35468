// One XGBoost booster through the C API, as the tree heads (XgbClassifier, XgbRegressor) use it: boosting
// from dense rows, raw predictions, UBJSON model bytes. Internal to mirtune_heads; XGBoost's headers stay in
// the .cpp.
#pragma once

#include "support/Error.h"
#include "tasks/common/XgbClassifier.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mirtune::heads::detail {

/// Booster parameters in the order they are set, e.g. {{"objective", "reg:squarederror"}}.
using XgbSettings = std::vector<std::pair<std::string, std::string>>;

class XgbBooster {
 public:
  /// Loads nothing: the XGBoost library is loaded (its own logging silenced) by the first call that needs it,
  /// and a library that cannot be loaded is that call's error (kNotFound).
  XgbBooster();
  ~XgbBooster();
  XgbBooster(const XgbBooster&) = delete;
  XgbBooster& operator=(const XgbBooster&) = delete;

  bool trained() const { return handle_ != nullptr; }
  /// Drops the model.
  void reset();

  /// Replaces any model with one boosted for params.rounds on n x cols row-major rows against `labels` (one
  /// per row; `labelName` names them in errors) with optional row weights (empty: all 1). `objective` is set
  /// after tree_method. On error no model is kept.
  Status train(const float* rows, std::size_t n, std::size_t cols, const std::vector<float>& labels,
               std::string_view labelName, const std::vector<float>& weights, const XgbParams& params,
               const XgbSettings& objective);

  /// Raw outputs (n values, or n x classes for multi:softprob) from boosting rounds [0, iterationEnd); 0
  /// means every round. Needs a model (trained()).
  Expected<std::vector<float>> predict(const float* rows, std::size_t n, std::size_t cols,
                                       int iterationEnd) const;

  /// The model as UBJSON bytes; kInternal without one.
  Expected<std::string> modelBytes() const;

  /// A model from saved bytes: kInvalidInput naming modelFile when they are not an XGBoost model, kVersion
  /// when its feature count is not `features`. Call configure() before predicting.
  Status load(const std::string& bytes, const std::filesystem::path& modelFile, std::size_t features);

  /// Sets the training parameters (and `objective` after tree_method) on the loaded or trained model.
  Status configure(const XgbParams& params, const XgbSettings& objective);

  /// The "learner" section of the booster's JSON configuration.
  Expected<nlohmann::json> learnerConfig() const;

 private:
  void* handle_ = nullptr;  // BoosterHandle
};

/// "major.minor.patch" of the XGBoost library the heads load (loading it if no head has yet).
Expected<std::string> xgboostVersion();

}  // namespace mirtune::heads::detail
