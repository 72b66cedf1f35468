// One XGBoost booster through the C API: boosting from dense rows, raw predictions, UBJSON model bytes.
#include "tasks/common/XgbBooster.h"

#include "tasks/common/XgbApi.h"

#include <fmt/format.h>

#include <limits>
#include <mutex>

namespace mirtune::heads::detail {

namespace {

// The loaded C API, with XGBoost's own logging silenced before its first use in the process.
Expected<const XgbApi*> quietApi() {
  auto api = xgbApi();
  if (!api) return api.error();
  static std::once_flag once;
  std::call_once(once, [&] { (*api)->setGlobalConfig(R"({"verbosity": 0})"); });
  return api;
}

Error xgbError(const XgbApi& api, std::string_view what) {
  return makeError(ErrorCode::kInternal, "xgboost: {}: {}", what, api.getLastError());
}

// Owns a DMatrixHandle.
class DMatrix {
 public:
  explicit DMatrix(const XgbApi& api) : api_(api) {}
  ~DMatrix() {
    if (handle_ != nullptr) api_.dmatrixFree(handle_);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  const XgbApi& api_;
  DMatrixHandle handle_ = nullptr;
};

Status fromDense(const XgbApi& api, const float* rows, std::size_t n, std::size_t cols, DMatrix& matrix) {
  if (api.dmatrixCreateFromMat(rows, static_cast<bst_ulong>(n), static_cast<bst_ulong>(cols),
                               std::numeric_limits<float>::quiet_NaN(), matrix.out()) != 0) {
    return xgbError(api, "cannot build a DMatrix");
  }
  return success();
}

}  // namespace

XgbBooster::XgbBooster() = default;

XgbBooster::~XgbBooster() {
  reset();
}

void XgbBooster::reset() {
  if (handle_ == nullptr) return;
  // A handle exists only once the library has loaded, so the API is there to free it.
  if (auto api = xgbApi(); api) (*api)->boosterFree(handle_);
  handle_ = nullptr;
}

Status XgbBooster::configure(const XgbParams& params, const XgbSettings& objective) {
  auto api = quietApi();
  if (!api) return api.error();
  const XgbApi& xgb = **api;
  auto set = [&](const std::string& name, const std::string& value) -> Status {
    if (xgb.boosterSetParam(handle_, name.c_str(), value.c_str()) != 0)
      return xgbError(xgb, fmt::format("parameter {}", name));
    return success();
  };
  auto number = [](double value) { return fmt::format("{:.17g}", value); };
  XgbSettings settings = {{"verbosity", "0"}, {"tree_method", params.treeMethod}};
  settings.insert(settings.end(), objective.begin(), objective.end());
  settings.insert(settings.end(), {{"max_depth", std::to_string(params.maxDepth)},
                                   {"eta", number(params.eta)},
                                   {"subsample", number(params.subsample)},
                                   {"colsample_bytree", number(params.colsampleBytree)},
                                   {"min_child_weight", number(params.minChildWeight)},
                                   {"lambda", number(params.lambda)},
                                   {"max_bin", std::to_string(params.maxBin)},
                                   {"nthread", std::to_string(params.nthread)},
                                   {"seed", std::to_string(params.seed)}});
  for (const auto& [name, value] : settings) {
    if (Status status = set(name, value); !status) return status;
  }
  return success();
}

Status XgbBooster::train(const float* rows, std::size_t n, std::size_t cols, const std::vector<float>& labels,
                         std::string_view labelName, const std::vector<float>& weights,
                         const XgbParams& params, const XgbSettings& objective) {
  reset();
  auto api = quietApi();
  if (!api) return api.error();
  const XgbApi& xgb = **api;
  DMatrix train(xgb);
  if (Status built = fromDense(xgb, rows, n, cols, train); !built) return built;
  if (xgb.dmatrixSetFloatInfo(train.get(), "label", labels.data(), static_cast<bst_ulong>(labels.size())) !=
      0) {
    return xgbError(xgb, labelName);
  }
  if (!weights.empty() && xgb.dmatrixSetFloatInfo(train.get(), "weight", weights.data(),
                                                  static_cast<bst_ulong>(weights.size())) != 0) {
    return xgbError(xgb, "sample weights");
  }
  DMatrixHandle matrices[] = {train.get()};
  BoosterHandle booster = nullptr;
  if (xgb.boosterCreate(matrices, 1, &booster) != 0) return xgbError(xgb, "cannot create a booster");
  handle_ = booster;
  auto fail = [&](Error error) -> Status {
    reset();
    return error;
  };
  if (Status configured = configure(params, objective); !configured) return fail(configured.error());
  for (int round = 0; round < params.rounds; ++round) {
    if (xgb.boosterUpdateOneIter(handle_, round, train.get()) != 0) {
      return fail(xgbError(xgb, fmt::format("boosting round {}", round)));
    }
  }
  return success();
}

Expected<std::vector<float>> XgbBooster::predict(const float* rows, std::size_t n, std::size_t cols,
                                                 int iterationEnd) const {
  auto api = quietApi();
  if (!api) return api.error();
  const XgbApi& xgb = **api;
  DMatrix matrix(xgb);
  if (Status built = fromDense(xgb, rows, n, cols, matrix); !built) return built.error();
  const std::string config = fmt::format(
      R"({{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": {}, "strict_shape": false}})",
      iterationEnd);
  const bst_ulong* shape = nullptr;
  bst_ulong dimensions = 0;
  const float* result = nullptr;
  if (xgb.boosterPredictFromDMatrix(handle_, matrix.get(), config.c_str(), &shape, &dimensions, &result) !=
      0) {
    return xgbError(xgb, "predict");
  }
  bst_ulong length = 1;
  for (bst_ulong d = 0; d < dimensions; ++d) length *= shape[d];
  return std::vector<float>(result, result + length);
}

Expected<std::string> XgbBooster::modelBytes() const {
  if (handle_ == nullptr) return makeError(ErrorCode::kInternal, "xgboost: no model to save");
  auto api = quietApi();
  if (!api) return api.error();
  const XgbApi& xgb = **api;
  bst_ulong length = 0;
  const char* data = nullptr;
  if (xgb.boosterSaveModelToBuffer(handle_, R"({"format": "ubj"})", &length, &data) != 0) {
    return xgbError(xgb, "save model");
  }
  return std::string(data, length);
}

Status XgbBooster::load(const std::string& bytes, const std::filesystem::path& modelFile,
                        std::size_t features) {
  reset();
  auto api = quietApi();
  if (!api) return api.error();
  const XgbApi& xgb = **api;
  BoosterHandle booster = nullptr;
  if (xgb.boosterCreate(nullptr, 0, &booster) != 0) return xgbError(xgb, "cannot create a booster");
  handle_ = booster;
  if (xgb.boosterLoadModelFromBuffer(booster, bytes.data(), static_cast<bst_ulong>(bytes.size())) != 0) {
    return makeError(ErrorCode::kInvalidInput, "{}: not an XGBoost model: {}", modelFile.string(),
                     xgb.getLastError());
  }
  bst_ulong stored = 0;
  if (xgb.boosterGetNumFeature(booster, &stored) != 0) return xgbError(xgb, "feature count");
  if (stored != features) {
    return makeError(ErrorCode::kVersion, "{}: model has {} features, head.json says {}", modelFile.string(),
                     stored, features);
  }
  return success();
}

Expected<nlohmann::json> XgbBooster::learnerConfig() const {
  auto api = quietApi();
  if (!api) return api.error();
  const XgbApi& xgb = **api;
  bst_ulong length = 0;
  const char* config = nullptr;
  if (xgb.boosterSaveJsonConfig(handle_, &length, &config) != 0) return xgbError(xgb, "read config");
  auto parsed = nlohmann::json::parse(std::string(config, length), nullptr, false);
  if (!parsed.is_object() || !parsed.contains("learner")) {
    return makeError(ErrorCode::kInternal, "xgboost: its configuration has no learner section");
  }
  return parsed["learner"];
}

Expected<std::string> xgboostVersion() {
  auto api = xgbApi();
  if (!api) return api.error();
  int major = 0, minor = 0, patch = 0;
  (*api)->version(&major, &minor, &patch);
  return fmt::format("{}.{}.{}", major, minor, patch);
}

}  // namespace mirtune::heads::detail
