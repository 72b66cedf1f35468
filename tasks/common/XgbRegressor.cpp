// XGBoost regression head through the C API: squared-error boosting from a dense matrix, UBJSON model bytes.
#include "tasks/common/XgbRegressor.h"

#include "support/Files.h"
#include "support/Sha256.h"
#include "tasks/common/HeadFolder.h"
#include "tasks/common/XgbBooster.h"

#include <cmath>

namespace mirtune::heads {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModelFile = "model.ubj";
constexpr const char* kKind = "xgboost-regressor";

const detail::XgbSettings kObjective = {{"objective", "reg:squarederror"}};

}  // namespace

XgbRegressor::XgbRegressor(XgbParams params)
    : params_(params), booster_(std::make_unique<detail::XgbBooster>()) {}

XgbRegressor::~XgbRegressor() = default;

Status XgbRegressor::fit(const FeatureMatrix& features, const std::vector<float>& targets,
                         const std::vector<float>& weights) {
  if (features.values.size() != features.rows * features.cols || features.rows == 0 || features.cols == 0) {
    return makeError(ErrorCode::kInvalidInput, "xgboost regression: {} x {} features with {} values",
                     features.rows, features.cols, features.values.size());
  }
  if (targets.size() != features.rows || (!weights.empty() && weights.size() != features.rows)) {
    return makeError(ErrorCode::kInvalidInput, "xgboost regression: {} rows but {} targets and {} weights",
                     features.rows, targets.size(), weights.size());
  }
  for (std::size_t r = 0; r < features.rows; ++r) {
    if (!std::isfinite(targets[r])) {
      return makeError(ErrorCode::kInvalidInput, "xgboost regression: row {}: target {} is not finite", r,
                       targets[r]);
    }
    if (!weights.empty() && !(weights[r] >= 0 && std::isfinite(weights[r]))) {
      return makeError(ErrorCode::kInvalidInput, "xgboost regression: row {}: weight {} is not >= 0", r,
                       weights[r]);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  features_ = 0;
  if (Status trained = booster_->train(features.values.data(), features.rows, features.cols, targets,
                                       "targets", weights, params_, kObjective);
      !trained) {
    return trained;
  }
  features_ = features.cols;
  return success();
}

Expected<std::vector<float>> XgbRegressor::predict(const float* rows, std::size_t n, std::size_t cols) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!booster_->trained())
    return makeError(ErrorCode::kInternal, "xgboost regression: predict before fit or load");
  if (cols != features_) {
    return makeError(ErrorCode::kInvalidInput,
                     "xgboost regression: rows have {} features, the model was trained on {}", cols,
                     features_);
  }
  if (n == 0) return std::vector<float>();
  auto predicted = booster_->predict(rows, n, cols, 0);
  if (!predicted) return predicted.error();
  if (predicted->size() != n)
    return makeError(ErrorCode::kInternal, "xgboost predicted {} values for {} rows", predicted->size(), n);
  return predicted;
}

Status XgbRegressor::save(const fs::path& dir) const {
  std::string bytes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!booster_->trained())
      return makeError(ErrorCode::kInternal, "xgboost regression: save before fit or load");
    auto saved = booster_->modelBytes();
    if (!saved) return saved.error();
    bytes = std::move(*saved);
  }
  return detail::writeHeadFolder(dir, describe(), kModelFile, bytes);
}

nlohmann::json XgbRegressor::describe() const {
  return {{"kind", kKind},
          {"params", params_.toJson()},
          {"features", features_},
          {"objective", "reg:squarederror"},
          {"trained", booster_->trained()}};
}

Expected<std::unique_ptr<XgbRegressor>> XgbRegressor::load(const fs::path& dir) {
  fs::path headPath = dir / kHeadFile;
  auto head = readJsonObject(headPath);
  if (!head) return head.error();
  if (head->value("format_version", -1) != kHeadFormatVersion) {
    return makeError(ErrorCode::kVersion, "{}: format_version {} but this mirtune reads {}; retrain the head",
                     headPath.string(), head->value("format_version", -1), kHeadFormatVersion);
  }
  if (head->value("kind", "") != kKind) {
    return makeError(ErrorCode::kVersion, "{}: kind \"{}\", expected \"{}\"", headPath.string(),
                     head->value("kind", ""), kKind);
  }
  auto params = XgbParams::fromJson(head->value("params", nlohmann::json::object()));
  if (!params) return params.error().withContext(headPath.string());
  std::size_t features = head->value("features", std::size_t{0});
  std::string modelFile = head->value("model_file", "");
  if (features == 0 || modelFile.empty() || fs::path(modelFile).filename().string() != modelFile) {
    return makeError(ErrorCode::kInvalidInput, "{}: needs features >= 1 and a plain model_file name",
                     headPath.string());
  }
  fs::path modelPath = dir / modelFile;
  auto bytes = readFile(modelPath);
  if (!bytes) return bytes.error();
  if (sha256Hex(*bytes) != head->value("model_sha256", "")) {
    return makeError(ErrorCode::kVersion,
                     "{}: SHA-256 does not match {} (corrupted or replaced; retrain the head)",
                     modelPath.string(), headPath.string());
  }
  auto regressor = std::make_unique<XgbRegressor>(*params);
  if (Status loaded = regressor->booster_->load(*bytes, modelPath, features); !loaded) return loaded.error();
  regressor->features_ = features;
  if (Status configured = regressor->booster_->configure(*params, kObjective); !configured)
    return configured.error();
  return regressor;
}

}  // namespace mirtune::heads
