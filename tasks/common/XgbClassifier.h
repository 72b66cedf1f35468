// Gradient-boosted trees head (XGBoost C API): binary:logistic for 2 classes, multi:softprob for more.
#pragma once

#include "tasks/common/Head.h"

#include <memory>
#include <mutex>
#include <string>

namespace mirtune::heads {

namespace detail {
class XgbBooster;
}

/// XGBoost hyper-parameters; JSON keys are the field names.
struct XgbParams {
  int rounds = 100;                 ///< boosting rounds (trees per class)
  int maxDepth = 6;                 ///< "max_depth"
  double eta = 0.1;                 ///< learning rate
  double subsample = 1.0;           ///< row fraction per tree
  double colsampleBytree = 1.0;     ///< "colsample_bytree": feature fraction per tree
  double minChildWeight = 1.0;      ///< "min_child_weight": minimum hessian (weighted) in a leaf
  double lambda = 1.0;              ///< L2 on leaf weights
  int maxBin = 256;                 ///< "max_bin": histogram bins per feature (tree_method hist/approx)
  std::string treeMethod = "hist";  ///< "tree_method": hist, approx or exact
  int nthread = 1;  ///< OpenMP threads for training and prediction (results do not depend on it)
  unsigned seed = 0;

  /// Defaults overridden by json's keys; unknown keys and wrong types are kInvalidInput.
  static Expected<XgbParams> fromJson(const nlohmann::json& json);
  nlohmann::json toJson() const;
};

/// XGBoost classifier. Predictions are serialised by an internal mutex, so a const object may be shared.
class XgbClassifier final : public Classifier {
 public:
  explicit XgbClassifier(XgbParams params);
  ~XgbClassifier() override;
  XgbClassifier(const XgbClassifier&) = delete;
  XgbClassifier& operator=(const XgbClassifier&) = delete;

  std::string_view kind() const override { return "xgboost"; }
  Status fit(const Dataset& data) override;
  Expected<std::vector<float>> predictProbabilities(const float* rows, std::size_t n,
                                                    std::size_t cols) const override;
  /// Probabilities from the first `rounds` boosting rounds only (all of them when rounds <= 0 or more than
  /// trained). A model trained for R rounds limited to r < R predicts exactly like one trained for r rounds
  /// with the same params and seed, so one fit serves every "rounds" value of a grid.
  Expected<std::vector<float>> predictProbabilitiesUpTo(const float* rows, std::size_t n, std::size_t cols,
                                                        int rounds) const;
  Status save(const std::filesystem::path& dir) const override;
  nlohmann::json describe() const override;
  std::size_t featureCount() const override { return features_; }
  int classCount() const override { return classes_; }
  const XgbParams& params() const { return params_; }

  /// Rebuilds a trained classifier from head.json and the saved model bytes (used by Classifier::load).
  static Expected<std::unique_ptr<Classifier>> fromSaved(const nlohmann::json& head,
                                                         const std::string& modelBytes,
                                                         const std::filesystem::path& modelFile);

 private:
  XgbParams params_;
  std::unique_ptr<detail::XgbBooster> booster_;
  std::size_t features_ = 0;
  int classes_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace mirtune::heads
