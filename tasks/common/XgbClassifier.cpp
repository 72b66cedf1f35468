// XGBoost head through the C API: training from a dense matrix, prediction, UBJSON model bytes.
#include "tasks/common/XgbClassifier.h"

#include "tasks/common/HeadFolder.h"
#include "tasks/common/XgbBooster.h"

#include <cmath>

namespace mirtune::heads {

namespace {

constexpr const char* kModelFile = "model.ubj";
constexpr int kMaxThreads = 1024;

std::string objectiveName(int classes) {
  return classes == 2 ? "binary:logistic" : "multi:softprob";
}

detail::XgbSettings objectiveOf(int classes) {
  return {{"objective", objectiveName(classes)}, {"num_class", classes == 2 ? "0" : std::to_string(classes)}};
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
  // A head.json's nthread starts that many threads on load: bounded like the other sizes.
  if (p.rounds < 1 || p.maxDepth < 1 || p.maxBin < 2 || p.nthread < 1 || p.nthread > kMaxThreads) {
    return makeError(ErrorCode::kInvalidInput,
                     "rounds, max_depth and nthread must be >= 1 (nthread at most {}), max_bin >= 2 (got {})",
                     kMaxThreads, p.toJson().dump());
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

XgbClassifier::XgbClassifier(XgbParams params)
    : params_(params), booster_(std::make_unique<detail::XgbBooster>()) {}

XgbClassifier::~XgbClassifier() = default;

Status XgbClassifier::fit(const Dataset& data) {
  if (auto valid = data.validate(); !valid) return valid.error().withContext("xgboost fit");
  std::lock_guard<std::mutex> lock(mutex_);
  features_ = 0;
  classes_ = 0;
  const int classes = data.classCount();
  std::vector<float> labels(data.labels.begin(), data.labels.end());
  if (Status trained = booster_->train(data.features.values.data(), data.features.rows, data.features.cols,
                                       labels, "labels", data.weights, params_, objectiveOf(classes));
      !trained) {
    return trained;
  }
  classes_ = classes;
  features_ = data.features.cols;
  return success();
}

Expected<std::vector<float>> XgbClassifier::predictProbabilities(const float* rows, std::size_t n,
                                                                 std::size_t cols) const {
  return predictProbabilitiesUpTo(rows, n, cols, 0);
}

Expected<std::vector<float>> XgbClassifier::predictProbabilitiesUpTo(const float* rows, std::size_t n,
                                                                     std::size_t cols, int rounds) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!booster_->trained())
    return makeError(ErrorCode::kInternal, "xgboost head: predict before fit or load");
  if (cols != features_) {
    return makeError(ErrorCode::kInvalidInput,
                     "xgboost head: rows have {} features, the model was trained on {}", cols, features_);
  }
  std::size_t k = static_cast<std::size_t>(classes_);
  if (n == 0) return std::vector<float>();
  int end = rounds <= 0 || rounds >= params_.rounds ? 0 : rounds;  // 0: every round
  auto predicted = booster_->predict(rows, n, cols, end);
  if (!predicted) return predicted.error();
  const float* result = predicted->data();
  const std::size_t length = predicted->size();
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
    if (!booster_->trained()) return makeError(ErrorCode::kInternal, "xgboost head: save before fit or load");
    auto saved = booster_->modelBytes();
    if (!saved) return saved.error();
    bytes = std::move(*saved);
  }
  nlohmann::json head = describe();
  head["standardisation"] = nullptr;  // trees split on raw feature values
  return detail::writeHeadFolder(dir, head, kModelFile, bytes);
}

nlohmann::json XgbClassifier::describe() const {
  // Null only where the library cannot be loaded, and then no model could have been trained or loaded either.
  auto version = detail::xgboostVersion();
  return {{"kind", "xgboost"},
          {"params", params_.toJson()},
          {"features", features_},
          {"classes", classes_},
          {"objective", objectiveName(classes_)},
          {"xgboost_version", version ? nlohmann::json(*version) : nlohmann::json(nullptr)},
          {"trained", booster_->trained()}};
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
  if (Status loaded = classifier->booster_->load(modelBytes, modelFile, classifier->features_); !loaded) {
    return loaded.error();
  }
  auto learner = classifier->booster_->learnerConfig();
  if (!learner) return learner.error();
  try {
    std::string objective = learner->at("objective").at("name").get<std::string>();
    int numClass = std::stoi(learner->at("learner_model_param").at("num_class").get<std::string>());
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
  if (Status configured = classifier->booster_->configure(*params, objectiveOf(classifier->classes_));
      !configured)
    return configured.error();
  return std::unique_ptr<Classifier>(std::move(classifier));
}

}  // namespace mirtune::heads
