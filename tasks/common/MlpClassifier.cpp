// MLP head: the torch-free half (hyper-parameters, head folders, checks); the network itself lives in
// libmirtune_mlp.so (tasks/common/MlpTorch.cpp), loaded the first time an MLP is fitted or loaded.
#include "tasks/common/MlpClassifier.h"

#include "support/Plugin.h"
#include "tasks/common/HeadFolder.h"
#include "tasks/common/MlpPlugin.h"

#include <dlfcn.h>

#include <atomic>

namespace mirtune::heads {

namespace {

constexpr const char* kModelFile = "weights.pt";
constexpr const char* kPluginName = "libmirtune_mlp.so";
// Bounds of the sizes a head.json may give: far above any head mirtune trains.
constexpr std::size_t kMaxHiddenLayers = 16;
constexpr int kMaxHiddenWidth = 4096;
constexpr std::int64_t kMaxClasses = 1024;

// setTorchThreads before the plugin is loaded is applied when it loads; -1: never set (LibTorch's default).
std::atomic<int> requestedThreads{-1};
std::atomic<const MlpPlugin*> loadedPlugin{nullptr};

Expected<const MlpPlugin*> mlpPlugin() {
  static const Expected<const MlpPlugin*> plugin = []() -> Expected<const MlpPlugin*> {
    auto handle = loadPlugin(kPluginName, MIRTUNE_MLP_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return handle.error().withContext("mlp head");
    auto entry = pluginSymbol(*handle, kPluginName, "mirtuneMlpPlugin");
    if (!entry) return entry.error();
    const MlpPlugin* table = reinterpret_cast<const MlpPlugin* (*)()>(*entry)();
    if (table == nullptr || table->version != kMlpPluginVersion)
      return makeError(ErrorCode::kVersion, "{} is from another mirtune version", kPluginName);
    if (int threads = requestedThreads.load(); threads > 0) table->setThreads(threads);
    loadedPlugin.store(table);
    return table;
  }();
  return plugin;
}

}  // namespace

struct MlpClassifier::Impl {
  const MlpPlugin* plugin = nullptr;
  void* net = nullptr;      // owned; released through the plugin
  std::vector<float> mean;   // [features]
  std::vector<float> scale;  // [features], standard deviation (1 for constant features)
  std::size_t features = 0;
  int classes = 0;
  ~Impl() {
    if (net != nullptr) plugin->release(net);
  }
};

Expected<MlpParams> MlpParams::fromJson(const nlohmann::json& json) {
  if (auto known = detail::rejectUnknownKeys(
          json, {"hidden", "dropout", "learning_rate", "weight_decay", "epochs", "batch_size", "seed"},
          "mlp");
      !known) {
    return known.error();
  }
  MlpParams p;
  for (Status status :
       {detail::readOptional(json, "hidden", p.hidden), detail::readOptional(json, "dropout", p.dropout),
        detail::readOptional(json, "learning_rate", p.learningRate),
        detail::readOptional(json, "weight_decay", p.weightDecay),
        detail::readOptional(json, "epochs", p.epochs), detail::readOptional(json, "batch_size", p.batchSize),
        detail::readOptional(json, "seed", p.seed)}) {
    if (!status) return status.error();
  }
  // head.json is not covered by the model's hash: its sizes are bounded before a layer is built from them.
  if (p.hidden.size() > kMaxHiddenLayers) {
    return makeError(ErrorCode::kInvalidInput, "at most {} hidden layers (got {})", kMaxHiddenLayers,
                     p.hidden.size());
  }
  for (int width : p.hidden) {
    if (width < 1 || width > kMaxHiddenWidth) {
      return makeError(ErrorCode::kInvalidInput, "hidden layer widths must be from 1 to {} (got {})",
                       kMaxHiddenWidth, width);
    }
  }
  if (!(p.dropout >= 0.0 && p.dropout < 1.0) || !(p.learningRate > 0.0) || !(p.weightDecay >= 0.0) ||
      p.epochs < 1 || p.batchSize < 0) {
    return makeError(
        ErrorCode::kInvalidInput,
        "need dropout in [0, 1), learning_rate > 0, weight_decay >= 0, epochs >= 1, batch_size >= 0 "
        "(got {})",
        p.toJson().dump());
  }
  return p;
}

nlohmann::json MlpParams::toJson() const {
  return {{"hidden", hidden},
          {"dropout", dropout},
          {"learning_rate", learningRate},
          {"weight_decay", weightDecay},
          {"epochs", epochs},
          {"batch_size", batchSize},
          {"seed", seed}};
}

MlpClassifier::MlpClassifier(MlpParams params)
    : params_(std::move(params)), impl_(std::make_unique<Impl>()) {}
MlpClassifier::~MlpClassifier() = default;

std::size_t MlpClassifier::featureCount() const {
  return impl_->features;
}
int MlpClassifier::classCount() const {
  return impl_->classes;
}

Status MlpClassifier::fit(const Dataset& data) {
  if (auto valid = data.validate(); !valid) return valid.error().withContext("mlp fit");
  impl_ = std::make_unique<Impl>();
  auto plugin = mlpPlugin();
  if (!plugin) return plugin.error();
  MlpTrainingData training;
  training.features = data.features.values.data();
  training.rows = data.features.rows;
  training.cols = data.features.cols;
  std::vector<std::int32_t> labels(data.labels.begin(), data.labels.end());
  training.labels = labels.data();
  training.weights = data.weights.empty() ? nullptr : data.weights.data();
  training.classes = data.classCount();
  MlpShape shape{static_cast<std::int64_t>(data.features.cols), params_.hidden, training.classes};
  MlpTraining options;
  options.dropout = params_.dropout;
  options.learningRate = params_.learningRate;
  options.weightDecay = params_.weightDecay;
  options.epochs = params_.epochs;
  options.batchSize = params_.batchSize;
  options.seed = params_.seed;
  std::string error;
  auto fitted = std::make_unique<Impl>();
  fitted->plugin = *plugin;
  fitted->net = (*plugin)->fit(training, shape, options, fitted->mean, fitted->scale, error);
  if (fitted->net == nullptr) return makeError(ErrorCode::kInternal, "mlp fit: {}", error);
  fitted->features = data.features.cols;
  fitted->classes = training.classes;
  impl_ = std::move(fitted);
  return success();
}

Expected<std::vector<float>> MlpClassifier::predictProbabilities(const float* rows, std::size_t n,
                                                                 std::size_t cols) const {
  if (impl_->net == nullptr) return makeError(ErrorCode::kInternal, "mlp head: predict before fit or load");
  if (cols != impl_->features) {
    return makeError(ErrorCode::kInvalidInput, "mlp head: rows have {} features, the model was trained on {}",
                     cols, impl_->features);
  }
  if (n == 0) return std::vector<float>();
  std::vector<float> probabilities;
  std::string error;
  if (!impl_->plugin->predict(impl_->net, rows, n, cols, impl_->mean, impl_->scale, probabilities, error))
    return makeError(ErrorCode::kInternal, "mlp predict: {}", error);
  return probabilities;
}

Status MlpClassifier::save(const std::filesystem::path& dir) const {
  if (impl_->net == nullptr) return makeError(ErrorCode::kInternal, "mlp head: save before fit or load");
  std::string bytes, error;
  if (!impl_->plugin->save(impl_->net, bytes, error)) {
    return makeError(ErrorCode::kIo, "{}: cannot serialise weights: {}", (dir / kModelFile).string(), error);
  }
  nlohmann::json head = describe();
  head["standardisation"] = {{"mean", impl_->mean}, {"std", impl_->scale}};
  return detail::writeHeadFolder(dir, head, kModelFile, bytes);
}

nlohmann::json MlpClassifier::describe() const {
  const bool trained = impl_->net != nullptr;
  return {{"kind", "mlp"},
          {"params", params_.toJson()},
          {"features", impl_->features},
          {"classes", impl_->classes},
          {"parameters", trained ? impl_->plugin->parameterCount(impl_->net) : 0},
          {"torch_version", MIRTUNE_TORCH_VERSION},
          {"trained", trained}};
}

Expected<std::unique_ptr<Classifier>> MlpClassifier::fromSaved(const nlohmann::json& head,
                                                               const std::string& modelBytes,
                                                               const std::filesystem::path& modelFile) {
  std::string headPath = (modelFile.parent_path() / kHeadFile).string();
  auto params = MlpParams::fromJson(head.value("params", nlohmann::json::object()));
  if (!params) return params.error().withContext(headPath);
  auto classifier = std::make_unique<MlpClassifier>(*params);
  std::vector<float> mean, scale;
  std::size_t features = 0;
  std::int64_t classCount = 0;  // read wide: a count beyond int must not wrap into a plausible one
  try {
    features = head.at("features").get<std::size_t>();
    classCount = head.at("classes").get<std::int64_t>();
    mean = head.at("standardisation").at("mean").get<std::vector<float>>();
    scale = head.at("standardisation").at("std").get<std::vector<float>>();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "{}: {}", headPath, e.what());
  }
  if (features == 0 || classCount < 2 || classCount > kMaxClasses || mean.size() != features ||
      scale.size() != features) {
    return makeError(ErrorCode::kVersion,
                     "{}: {} features, {} classes and standardisation for {}/{} features do not fit together",
                     headPath, features, classCount, mean.size(), scale.size());
  }
  auto plugin = mlpPlugin();
  if (!plugin) return plugin.error();
  MlpShape shape{static_cast<std::int64_t>(features), params->hidden, static_cast<int>(classCount)};
  std::string error;
  Impl& impl = *classifier->impl_;
  impl.plugin = *plugin;
  impl.net = (*plugin)->load(modelBytes, shape, error);
  if (impl.net == nullptr) {
    const bool shapeMismatch = error.rfind("weight ", 0) == 0;
    return makeError(shapeMismatch ? ErrorCode::kVersion : ErrorCode::kInvalidInput, "{}: {}", modelFile.string(), error);
  }
  impl.mean = std::move(mean);
  impl.scale = std::move(scale);
  impl.features = features;
  impl.classes = shape.classes;
  return std::unique_ptr<Classifier>(std::move(classifier));
}

void setTorchThreads(int threads) {
  requestedThreads.store(std::max(1, threads));
  // Applied now only where LibTorch is already loaded: a thread count is no reason to load it.
  if (const MlpPlugin* plugin = loadedPlugin.load()) plugin->setThreads(std::max(1, threads));
}

}  // namespace mirtune::heads
