// XGBoost head through the C API: training from a dense matrix, prediction, UBJSON model bytes.
#include "tasks/common/XgbClassifier.h"

#include "tasks/common/HeadFolder.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>

namespace mirtune::heads {

namespace {

constexpr const char* kModelFile = "model.ubj";

Error xgbError(std::string_view what) {
  return makeError(ErrorCode::kInternal, "xgboost: {}: {}", what, XGBGetLastError());
}

// XGBoost's logging goes through its own global configuration: silence it once for the process.
void silenceXgboost() {
  static std::once_flag once;
  std::call_once(once, [] { XGBSetGlobalConfig(R"({"verbosity": 0})"); });
}

// Owns a DMatrixHandle.
class DMatrix {
 public:
  DMatrix() = default;
  ~DMatrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

Status fromDense(const float* rows, std::size_t n, std::size_t cols, DMatrix& matrix) {
  if (XGDMatrixCreateFromMat(rows, static_cast<bst_ulong>(n), static_cast<bst_ulong>(cols),
                             std::numeric_limits<float>::quiet_NaN(), matrix.out()) != 0) {
    return xgbError("cannot build a DMatrix");
  }
  return success();
}

std::string xgboostVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return fmt::format("{}.{}.{}", major, minor, patch);
}

}  // namespace

Expected<XgbParams> XgbParams::fromJson(const nlohmann::json& json) {
  if (auto known = detail::rejectUnknownKeys(
          json,
          {"rounds", "max_depth", "eta", "subsample", "colsample_bytree", "min_child_weight", "lambda",
           "max_bin", "tree_method", "nthread", "seed"},
          "xgboost");
      !known) {
    return known.error();
  }
  XgbParams p;
  for (Status status :
       {detail::readOptional(json, "rounds", p.rounds), detail::readOptional(json, "max_depth", p.maxDepth),
        detail::readOptional(json, "eta", p.eta), detail::readOptional(json, "subsample", p.subsample),
        detail::readOptional(json, "colsample_bytree", p.colsampleBytree),
        detail::readOptional(json, "min_child_weight", p.minChildWeight),
        detail::readOptional(json, "lambda", p.lambda), detail::readOptional(json, "max_bin", p.maxBin),
        detail::readOptional(json, "tree_method", p.treeMethod),
        detail::readOptional(json, "nthread", p.nthread), detail::readOptional(json, "seed", p.seed)}) {
    if (!status) return status.error();
  }
  if (p.treeMethod != "hist" && p.treeMethod != "approx" && p.treeMethod != "exact") {
    return makeError(ErrorCode::kInvalidInput, "tree_method must be hist, approx or exact, got \"{}\"",
                     p.treeMethod);
  }
  if (p.rounds < 1 || p.maxDepth < 1 || p.maxBin < 2 || p.nthread < 1) {
    return makeError(ErrorCode::kInvalidInput,
                     "rounds, max_depth and nthread must be >= 1, max_bin >= 2 (got {})", p.toJson().dump());
  }
  if (!(p.eta > 0) || !(p.subsample > 0 && p.subsample <= 1) ||
      !(p.colsampleBytree > 0 && p.colsampleBytree <= 1) || !(p.minChildWeight >= 0) || !(p.lambda >= 0)) {
    return makeError(
        ErrorCode::kInvalidInput,
        "need eta > 0, subsample and colsample_bytree in (0, 1], min_child_weight and lambda >= 0 (got {})",
        p.toJson().dump());
  }
  return p;
}

nlohmann::json XgbParams::toJson() const {
  return {{"rounds", rounds},
          {"max_depth", maxDepth},
          {"eta", eta},
          {"subsample", subsample},
          {"colsample_bytree", colsampleBytree},
          {"min_child_weight", minChildWeight},
          {"lambda", lambda},
          {"max_bin", maxBin},
          {"tree_method", treeMethod},
          {"nthread", nthread},
          {"seed", seed}};
}

XgbClassifier::XgbClassifier(XgbParams params) : params_(params) {
  silenceXgboost();
}

XgbClassifier::~XgbClassifier() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

Status XgbClassifier::configureBooster() {
  auto set = [&](const char* name, const std::string& value) -> Status {
    if (XGBoosterSetParam(booster_, name, value.c_str()) != 0)
      return xgbError(fmt::format("parameter {}", name));
    return success();
  };
  auto number = [](double value) { return fmt::format("{:.17g}", value); };
  for (Status status :
       {set("verbosity", "0"), set("tree_method", params_.treeMethod),
        set("objective", classes_ == 2 ? "binary:logistic" : "multi:softprob"),
        set("num_class", classes_ == 2 ? "0" : std::to_string(classes_)),
        set("max_depth", std::to_string(params_.maxDepth)), set("eta", number(params_.eta)),
        set("subsample", number(params_.subsample)), set("colsample_bytree", number(params_.colsampleBytree)),
        set("min_child_weight", number(params_.minChildWeight)), set("lambda", number(params_.lambda)),
        set("max_bin", std::to_string(params_.maxBin)), set("nthread", std::to_string(params_.nthread)),
        set("seed", std::to_string(params_.seed))}) {
    if (!status) return status;
  }
  return success();
}

Status XgbClassifier::fit(const Dataset& data) {
  if (auto valid = data.validate(); !valid) return valid.error().withContext("xgboost fit");
  std::lock_guard<std::mutex> lock(mutex_);
  if (booster_ != nullptr) {
    XGBoosterFree(booster_);
    booster_ = nullptr;
  }
  features_ = 0;
  classes_ = 0;
  DMatrix train;
  if (auto built = fromDense(data.features.values.data(), data.features.rows, data.features.cols, train);
      !built) {
    return built;
  }
  std::vector<float> labels(data.labels.begin(), data.labels.end());
  if (XGDMatrixSetFloatInfo(train.get(), "label", labels.data(), static_cast<bst_ulong>(labels.size())) !=
      0) {
    return xgbError("labels");
  }
  if (!data.weights.empty() && XGDMatrixSetFloatInfo(train.get(), "weight", data.weights.data(),
                                                     static_cast<bst_ulong>(data.weights.size())) != 0) {
    return xgbError("sample weights");
  }
  DMatrixHandle matrices[] = {train.get()};
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(matrices, 1, &booster) != 0) return xgbError("cannot create a booster");
  booster_ = booster;
  classes_ = data.classCount();
  features_ = data.features.cols;
  auto fail = [&](Error error) -> Status {
    XGBoosterFree(booster_);
    booster_ = nullptr;
    features_ = 0;
    classes_ = 0;
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

Expected<std::vector<float>> XgbClassifier::predictProbabilities(const float* rows, std::size_t n,
                                                                 std::size_t cols) const {
  return predictProbabilitiesUpTo(rows, n, cols, 0);
}

Expected<std::vector<float>> XgbClassifier::predictProbabilitiesUpTo(const float* rows, std::size_t n,
                                                                     std::size_t cols, int rounds) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (booster_ == nullptr) return makeError(ErrorCode::kInternal, "xgboost head: predict before fit or load");
  if (cols != features_) {
    return makeError(ErrorCode::kInvalidInput,
                     "xgboost head: rows have {} features, the model was trained on {}", cols, features_);
  }
  std::size_t k = static_cast<std::size_t>(classes_);
  if (n == 0) return std::vector<float>();
  DMatrix matrix;
  if (auto built = fromDense(rows, n, cols, matrix); !built) return built.error();
  int end = rounds <= 0 || rounds >= params_.rounds ? 0 : rounds;  // 0: every round
  std::string config = fmt::format(
      R"({{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": {}, "strict_shape": false}})",
      end);
  const bst_ulong* shape = nullptr;
  bst_ulong dimensions = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDMatrix(booster_, matrix.get(), config.c_str(), &shape, &dimensions, &result) !=
      0) {
    return xgbError("predict");
  }
  bst_ulong length = 1;
  for (bst_ulong d = 0; d < dimensions; ++d) length *= shape[d];
  std::vector<float> probabilities(n * k);
  if (k == 2) {
    if (length != n)
      return makeError(ErrorCode::kInternal, "xgboost predicted {} values for {} rows", length, n);
    for (std::size_t r = 0; r < n; ++r) {
      probabilities[2 * r] = 1.0f - result[r];
      probabilities[2 * r + 1] = result[r];
    }
  } else {
    if (length != n * k) {
      return makeError(ErrorCode::kInternal, "xgboost predicted {} values for {} rows x {} classes", length,
                       n, k);
    }
    std::copy(result, result + n * k, probabilities.begin());
  }
  return probabilities;
}

Status XgbClassifier::save(const std::filesystem::path& dir) const {
  std::string bytes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (booster_ == nullptr) return makeError(ErrorCode::kInternal, "xgboost head: save before fit or load");
    bst_ulong length = 0;
    const char* data = nullptr;
    if (XGBoosterSaveModelToBuffer(booster_, R"({"format": "ubj"})", &length, &data) != 0) {
      return xgbError("save model");
    }
    bytes.assign(data, length);
  }
  nlohmann::json head = describe();
  head["standardisation"] = nullptr;  // trees split on raw feature values
  return detail::writeHeadFolder(dir, head, kModelFile, bytes);
}

nlohmann::json XgbClassifier::describe() const {
  return {{"kind", "xgboost"},
          {"params", params_.toJson()},
          {"features", features_},
          {"classes", classes_},
          {"objective", classes_ == 2 ? "binary:logistic" : "multi:softprob"},
          {"xgboost_version", xgboostVersion()},
          {"trained", booster_ != nullptr}};
}

Expected<std::unique_ptr<Classifier>> XgbClassifier::fromSaved(const nlohmann::json& head,
                                                               const std::string& modelBytes,
                                                               const std::filesystem::path& modelFile) {
  auto params = XgbParams::fromJson(head.value("params", nlohmann::json::object()));
  if (!params) return params.error().withContext(modelFile.parent_path().string() + "/head.json");
  auto classifier = std::make_unique<XgbClassifier>(*params);
  try {
    classifier->features_ = head.at("features").get<std::size_t>();
    classifier->classes_ = head.at("classes").get<int>();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "{}/head.json: {}", modelFile.parent_path().string(),
                     e.what());
  }
  if (classifier->classes_ < 2 || classifier->features_ == 0) {
    return makeError(ErrorCode::kInvalidInput, "{}/head.json: needs features >= 1 and classes >= 2",
                     modelFile.parent_path().string());
  }
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) return xgbError("cannot create a booster");
  classifier->booster_ = booster;
  if (XGBoosterLoadModelFromBuffer(booster, modelBytes.data(), static_cast<bst_ulong>(modelBytes.size())) !=
      0) {
    return makeError(ErrorCode::kInvalidInput, "{}: not an XGBoost model: {}", modelFile.string(),
                     XGBGetLastError());
  }
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster, &features) != 0) return xgbError("feature count");
  if (features != classifier->features_) {
    return makeError(ErrorCode::kVersion, "{}: model has {} features, head.json says {}", modelFile.string(),
                     features, classifier->features_);
  }
  bst_ulong configLength = 0;
  const char* config = nullptr;
  if (XGBoosterSaveJsonConfig(booster, &configLength, &config) != 0) return xgbError("read config");
  try {
    auto learner = nlohmann::json::parse(std::string(config, configLength)).at("learner");
    std::string objective = learner.at("objective").at("name").get<std::string>();
    int numClass = std::stoi(learner.at("learner_model_param").at("num_class").get<std::string>());
    int classes = objective == "binary:logistic" ? 2 : numClass;
    if (classes != classifier->classes_ ||
        (objective != "binary:logistic" && objective != "multi:softprob")) {
      return makeError(ErrorCode::kVersion, "{}: model is {} with {} classes, head.json says {} classes",
                       modelFile.string(), objective, classes, classifier->classes_);
    }
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "{}: unreadable model configuration: {}", modelFile.string(),
                     e.what());
  }
  if (auto configured = classifier->configureBooster(); !configured) return configured.error();
  return std::unique_ptr<Classifier>(std::move(classifier));
}

}  // namespace mirtune::heads
