// XGBoost regression head through the C API: squared-error boosting from a dense matrix, UBJSON model bytes.
#include "tasks/common/XgbRegressor.h"

#include "support/Files.h"
#include "support/Sha256.h"
#include "tasks/common/HeadFolder.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>

namespace mirtune::heads {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModelFile = "model.ubj";
constexpr const char* kKind = "xgboost-regressor";

Error xgbError(std::string_view what) {
  return makeError(ErrorCode::kInternal, "xgboost: {}: {}", what, XGBGetLastError());
}

// Owns a DMatrixHandle.
class Matrix {
 public:
  Matrix() = default;
  ~Matrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

Status fromDense(const float* rows, std::size_t n, std::size_t cols, Matrix& matrix) {
  if (XGDMatrixCreateFromMat(rows, static_cast<bst_ulong>(n), static_cast<bst_ulong>(cols),
                             std::numeric_limits<float>::quiet_NaN(), matrix.out()) != 0) {
    return xgbError("cannot build a DMatrix");
  }
  return success();
}

}  // namespace

XgbRegressor::XgbRegressor(XgbParams params) : params_(params) {
  // XGBoost logs through its own global configuration: silence it once for the process.
  static std::once_flag once;
  std::call_once(once, [] { XGBSetGlobalConfig(R"({"verbosity": 0})"); });
}

XgbRegressor::~XgbRegressor() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

Status XgbRegressor::configureBooster() {
  auto set = [&](const char* name, const std::string& value) -> Status {
    if (XGBoosterSetParam(booster_, name, value.c_str()) != 0)
      return xgbError(fmt::format("parameter {}", name));
    return success();
  };
  auto number = [](double value) { return fmt::format("{:.17g}", value); };
  for (Status status :
       {set("verbosity", "0"), set("tree_method", params_.treeMethod), set("objective", "reg:squarederror"),
        set("max_depth", std::to_string(params_.maxDepth)), set("eta", number(params_.eta)),
        set("subsample", number(params_.subsample)), set("colsample_bytree", number(params_.colsampleBytree)),
        set("min_child_weight", number(params_.minChildWeight)), set("lambda", number(params_.lambda)),
        set("max_bin", std::to_string(params_.maxBin)), set("nthread", std::to_string(params_.nthread)),
        set("seed", std::to_string(params_.seed))}) {
    if (!status) return status;
  }
  return success();
}

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
  if (booster_ != nullptr) {
    XGBoosterFree(booster_);
    booster_ = nullptr;
  }
  features_ = 0;
  Matrix train;
  if (auto built = fromDense(features.values.data(), features.rows, features.cols, train); !built)
    return built;
  if (XGDMatrixSetFloatInfo(train.get(), "label", targets.data(), static_cast<bst_ulong>(targets.size())) !=
      0) {
    return xgbError("targets");
  }
  if (!weights.empty() && XGDMatrixSetFloatInfo(train.get(), "weight", weights.data(),
                                                static_cast<bst_ulong>(weights.size())) != 0) {
    return xgbError("sample weights");
  }
  DMatrixHandle matrices[] = {train.get()};
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(matrices, 1, &booster) != 0) return xgbError("cannot create a booster");
  booster_ = booster;
  features_ = features.cols;
  auto fail = [&](Error error) -> Status {
    XGBoosterFree(booster_);
    booster_ = nullptr;
    features_ = 0;
    return error;
  };
  if (auto configured = configureBooster(); !configured) return fail(configured.error());
  for (int round = 0; round < params_.rounds; ++round) {
    if (XGBoosterUpdateOneIter(booster_, round, train.get()) != 0) {
      return fail(xgbError(fmt::format("boosting round {}", round)));
    }
  }
  return success();
}

Expected<std::vector<float>> XgbRegressor::predict(const float* rows, std::size_t n, std::size_t cols) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (booster_ == nullptr)
    return makeError(ErrorCode::kInternal, "xgboost regression: predict before fit or load");
  if (cols != features_) {
    return makeError(ErrorCode::kInvalidInput,
                     "xgboost regression: rows have {} features, the model was trained on {}", cols,
                     features_);
  }
  if (n == 0) return std::vector<float>();
  Matrix matrix;
  if (auto built = fromDense(rows, n, cols, matrix); !built) return built.error();
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dimensions = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDMatrix(booster_, matrix.get(), config, &shape, &dimensions, &result) != 0) {
    return xgbError("predict");
  }
  bst_ulong length = 1;
  for (bst_ulong d = 0; d < dimensions; ++d) length *= shape[d];
  if (length != n)
    return makeError(ErrorCode::kInternal, "xgboost predicted {} values for {} rows", length, n);
  return std::vector<float>(result, result + n);
}

Status XgbRegressor::save(const fs::path& dir) const {
  std::string bytes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (booster_ == nullptr)
      return makeError(ErrorCode::kInternal, "xgboost regression: save before fit or load");
    bst_ulong length = 0;
    const char* data = nullptr;
    if (XGBoosterSaveModelToBuffer(booster_, R"({"format": "ubj"})", &length, &data) != 0) {
      return xgbError("save model");
    }
    bytes.assign(data, length);
  }
  return detail::writeHeadFolder(dir, describe(), kModelFile, bytes);
}

nlohmann::json XgbRegressor::describe() const {
  return {{"kind", kKind},
          {"params", params_.toJson()},
          {"features", features_},
          {"objective", "reg:squarederror"},
          {"trained", booster_ != nullptr}};
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
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) return xgbError("cannot create a booster");
  regressor->booster_ = booster;
  if (XGBoosterLoadModelFromBuffer(booster, bytes->data(), static_cast<bst_ulong>(bytes->size())) != 0) {
    return makeError(ErrorCode::kInvalidInput, "{}: not an XGBoost model: {}", modelPath.string(),
                     XGBGetLastError());
  }
  bst_ulong stored = 0;
  if (XGBoosterGetNumFeature(booster, &stored) != 0) return xgbError("feature count");
  if (stored != features) {
    return makeError(ErrorCode::kVersion, "{}: model has {} features, head.json says {}", modelPath.string(),
                     stored, features);
  }
  regressor->features_ = features;
  if (auto configured = regressor->configureBooster(); !configured) return configured.error();
  return regressor;
}

}  // namespace mirtune::heads
