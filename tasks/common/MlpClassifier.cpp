// MLP head: LibTorch network, seeded private generator, Adam on sample-weighted cross-entropy.
#include "tasks/common/MlpClassifier.h"

#include "tasks/common/HeadFolder.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <sstream>

namespace mirtune::heads {

namespace {

constexpr const char* kModelFile = "weights.pt";
constexpr float kMinStd = 1e-6f;  // a constant feature is centred, not scaled
// Bounds of the sizes a head.json may give: far above any head mirtune trains.
constexpr std::size_t kMaxHiddenLayers = 16;
constexpr int kMaxHiddenWidth = 4096;
constexpr std::int64_t kMaxClasses = 1024;

// Layers are named hidden0.., output: TorchScript archives reject Python keywords as names.
struct MlpNetImpl : torch::nn::Module {
  MlpNetImpl(std::int64_t inputs, const std::vector<int>& hidden, std::int64_t classes) {
    std::int64_t width = inputs;
    for (std::size_t i = 0; i < hidden.size(); ++i) {
      layers.push_back(register_module("hidden" + std::to_string(i), torch::nn::Linear(width, hidden[i])));
      width = hidden[i];
    }
    output = register_module("output", torch::nn::Linear(width, classes));
  }

  /// Logits; dropout is applied only when a generator is given (training).
  torch::Tensor forward(torch::Tensor x, double dropout, at::Generator* generator) {
    for (auto& layer : layers) {
      x = torch::relu(layer->forward(x));
      if (generator != nullptr && dropout > 0.0) {
        torch::Tensor keep = torch::empty_like(x).bernoulli_(1.0 - dropout, *generator);
        x = x * keep / (1.0 - dropout);
      }
    }
    return output->forward(x);
  }

  std::vector<torch::nn::Linear> layers;
  torch::nn::Linear output{nullptr};
};
TORCH_MODULE(MlpNet);

// LibTorch's default Linear initialisation (uniform in +-1/sqrt(fan_in)), drawn from our own generator.
void initialise(MlpNet& net, at::Generator& generator) {
  torch::NoGradGuard noGrad;
  auto init = [&](torch::nn::Linear& layer) {
    double bound = 1.0 / std::sqrt(static_cast<double>(layer->weight.size(1)));
    layer->weight.uniform_(-bound, bound, generator);
    layer->bias.uniform_(-bound, bound, generator);
  };
  for (auto& layer : net->layers) init(layer);
  init(net->output);
}

std::string firstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::vector<float> toVector(const torch::Tensor& tensor) {
  torch::Tensor flat = tensor.contiguous().to(torch::kFloat32);
  return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

}  // namespace

struct MlpClassifier::Impl {
  MlpNet net{nullptr};
  torch::Tensor mean;   // [features]
  torch::Tensor scale;  // [features], standard deviation (1 for constant features)
  std::size_t features = 0;
  int classes = 0;
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
  try {
    auto n = static_cast<std::int64_t>(data.features.rows);
    auto cols = static_cast<std::int64_t>(data.features.cols);
    int classes = data.classCount();
    torch::Tensor x =
        torch::from_blob(const_cast<float*>(data.features.values.data()), {n, cols}, torch::kFloat32);
    torch::Tensor mean = x.mean(0);
    torch::Tensor scale = x.std(0, /*unbiased=*/false);
    scale = torch::where(scale < kMinStd, torch::ones_like(scale), scale);
    torch::Tensor inputs = (x - mean) / scale;
    std::vector<std::int64_t> labelValues(data.labels.begin(), data.labels.end());
    torch::Tensor labels = torch::from_blob(labelValues.data(), {n}, torch::kInt64).clone();
    torch::Tensor weights =
        data.weights.empty()
            ? torch::ones({n}, torch::kFloat32)
            : torch::from_blob(const_cast<float*>(data.weights.data()), {n}, torch::kFloat32).clone();

    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(params_.seed);
    MlpNet net(cols, params_.hidden, classes);
    initialise(net, generator);
    net->train();
    torch::optim::Adam optimizer(
        net->parameters(), torch::optim::AdamOptions(params_.learningRate).weight_decay(params_.weightDecay));
    std::int64_t batch = params_.batchSize <= 0 ? n : std::min<std::int64_t>(params_.batchSize, n);
    auto step = [&](const torch::Tensor& in, const torch::Tensor& y, const torch::Tensor& w) {
      torch::Tensor logProbabilities = torch::log_softmax(net->forward(in, params_.dropout, &generator), 1);
      torch::Tensor nll = -logProbabilities.gather(1, y.unsqueeze(1)).squeeze(1);
      torch::Tensor total = w.sum();
      if (total.item<float>() <= 0.0f) return;  // a mini-batch of zero-weight rows teaches nothing
      torch::Tensor loss = (nll * w).sum() / total;
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    };
    for (int epoch = 0; epoch < params_.epochs; ++epoch) {
      if (batch == n) {
        step(inputs, labels, weights);
        continue;
      }
      torch::Tensor order = torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kInt64));
      for (std::int64_t start = 0; start < n; start += batch) {
        torch::Tensor rows = order.slice(0, start, std::min(start + batch, n));
        step(inputs.index_select(0, rows), labels.index_select(0, rows), weights.index_select(0, rows));
      }
    }
    net->eval();
    impl_->net = net;
    impl_->mean = mean.clone();
    impl_->scale = scale.clone();
    impl_->features = data.features.cols;
    impl_->classes = classes;
  } catch (const std::exception& e) {
    impl_ = std::make_unique<Impl>();
    return makeError(ErrorCode::kInternal, "mlp fit: {}", firstLine(e.what()));
  }
  return success();
}

Expected<std::vector<float>> MlpClassifier::predictProbabilities(const float* rows, std::size_t n,
                                                                 std::size_t cols) const {
  if (impl_->net.is_empty()) return makeError(ErrorCode::kInternal, "mlp head: predict before fit or load");
  if (cols != impl_->features) {
    return makeError(ErrorCode::kInvalidInput, "mlp head: rows have {} features, the model was trained on {}",
                     cols, impl_->features);
  }
  if (n == 0) return std::vector<float>();
  try {
    torch::NoGradGuard noGrad;
    torch::Tensor x =
        torch::from_blob(const_cast<float*>(rows),
                         {static_cast<std::int64_t>(n), static_cast<std::int64_t>(cols)}, torch::kFloat32);
    torch::Tensor logits = impl_->net->forward((x - impl_->mean) / impl_->scale, 0.0, nullptr);
    return toVector(torch::softmax(logits, 1));
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInternal, "mlp predict: {}", firstLine(e.what()));
  }
}

Status MlpClassifier::save(const std::filesystem::path& dir) const {
  if (impl_->net.is_empty()) return makeError(ErrorCode::kInternal, "mlp head: save before fit or load");
  std::ostringstream bytes;
  try {
    torch::save(impl_->net, bytes);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kIo, "{}: cannot serialise weights: {}", (dir / kModelFile).string(),
                     firstLine(e.what()));
  }
  nlohmann::json head = describe();
  head["standardisation"] = {{"mean", toVector(impl_->mean)}, {"std", toVector(impl_->scale)}};
  return detail::writeHeadFolder(dir, head, kModelFile, bytes.str());
}

nlohmann::json MlpClassifier::describe() const {
  std::size_t parameters = 0;
  if (!impl_->net.is_empty()) {
    for (const auto& parameter : impl_->net->parameters())
      parameters += static_cast<std::size_t>(parameter.numel());
  }
  return {{"kind", "mlp"},
          {"params", params_.toJson()},
          {"features", impl_->features},
          {"classes", impl_->classes},
          {"parameters", parameters},
          {"torch_version", TORCH_VERSION},
          {"trained", !impl_->net.is_empty()}};
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
  int classes = 0;
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
  classes = static_cast<int>(classCount);
  try {
    MlpNet net(static_cast<std::int64_t>(features), params->hidden, classes);
    // torch::load replaces each tensor whatever its shape, so check the shapes head.json implies.
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (const auto& item : net->named_parameters()) expected[item.key()] = item.value().sizes().vec();
    std::istringstream stream(modelBytes);
    torch::load(net, stream);
    for (const auto& item : net->named_parameters()) {
      if (item.value().sizes().vec() != expected[item.key()]) {
        return makeError(
            ErrorCode::kVersion,
            "{}: weight {} has shape {}, but head.json describes {} features, hidden {}, {} classes "
            "(shape {})",
            modelFile.string(), item.key(), nlohmann::json(item.value().sizes().vec()).dump(), features,
            nlohmann::json(params->hidden).dump(), classes, nlohmann::json(expected[item.key()]).dump());
      }
    }
    net->eval();
    Impl& impl = *classifier->impl_;
    impl.net = net;
    impl.mean = torch::tensor(mean, torch::kFloat32);
    impl.scale = torch::tensor(scale, torch::kFloat32);
    impl.features = features;
    impl.classes = classes;
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: cannot load weights for {} features, hidden {}, {} classes: {}", modelFile.string(),
                     features, nlohmann::json(params->hidden).dump(), classes, firstLine(e.what()));
  }
  return std::unique_ptr<Classifier>(std::move(classifier));
}

void setTorchThreads(int threads) {
  at::set_num_threads(std::max(1, threads));
}

}  // namespace mirtune::heads
