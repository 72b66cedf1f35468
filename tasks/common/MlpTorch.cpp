// libmirtune_mlp.so: the MLP head's LibTorch network, seeded private generator, Adam on sample-weighted
// cross-entropy; the torch-free MlpClassifier (tasks/common/MlpClassifier.cpp) drives it through MlpPlugin.
#include "tasks/common/MlpPlugin.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <sstream>

namespace {

using mirtune::heads::MlpShape;

constexpr float kMinStd = 1e-6f;  // a constant feature is centred, not scaled

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

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::vector<float> toVector(const torch::Tensor& tensor) {
  torch::Tensor flat = tensor.contiguous().to(torch::kFloat32);
  return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

std::string shapeText(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string hiddenText(const std::vector<int>& hidden) {
  return shapeText(std::vector<std::int64_t>(hidden.begin(), hidden.end()));
}

void* fit(const mirtune::heads::MlpTrainingData& data, const MlpShape& shape, const mirtune::heads::MlpTraining& training,
          std::vector<float>& meanOut, std::vector<float>& scaleOut, std::string& error) {
  try {
    auto n = static_cast<std::int64_t>(data.rows);
    auto cols = static_cast<std::int64_t>(data.cols);
    torch::Tensor x = torch::from_blob(const_cast<float*>(data.features), {n, cols}, torch::kFloat32);
    torch::Tensor mean = x.mean(0);
    torch::Tensor scale = x.std(0, /*unbiased=*/false);
    scale = torch::where(scale < kMinStd, torch::ones_like(scale), scale);
    torch::Tensor inputs = (x - mean) / scale;
    std::vector<std::int64_t> labelValues(data.labels, data.labels + data.rows);
    torch::Tensor labels = torch::from_blob(labelValues.data(), {n}, torch::kInt64).clone();
    torch::Tensor weights = data.weights == nullptr
                                ? torch::ones({n}, torch::kFloat32)
                                : torch::from_blob(const_cast<float*>(data.weights), {n}, torch::kFloat32).clone();

    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(training.seed);
    auto net = std::make_unique<MlpNet>(cols, shape.hidden, shape.classes);
    initialise(*net, generator);
    (*net)->train();
    torch::optim::Adam optimizer((*net)->parameters(),
                                 torch::optim::AdamOptions(training.learningRate).weight_decay(training.weightDecay));
    std::int64_t batch = training.batchSize <= 0 ? n : std::min<std::int64_t>(training.batchSize, n);
    auto step = [&](const torch::Tensor& in, const torch::Tensor& y, const torch::Tensor& w) {
      torch::Tensor logProbabilities = torch::log_softmax((*net)->forward(in, training.dropout, &generator), 1);
      torch::Tensor nll = -logProbabilities.gather(1, y.unsqueeze(1)).squeeze(1);
      torch::Tensor total = w.sum();
      if (total.item<float>() <= 0.0f) return;  // a mini-batch of zero-weight rows teaches nothing
      torch::Tensor loss = (nll * w).sum() / total;
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    };
    for (int epoch = 0; epoch < training.epochs; ++epoch) {
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
    (*net)->eval();
    meanOut = toVector(mean);
    scaleOut = toVector(scale);
    return net.release();
  } catch (const std::exception& e) {
    error = firstLine(e.what());
    return nullptr;
  }
}

void* load(const std::string& bytes, const MlpShape& shape, std::string& error) {
  try {
    auto net = std::make_unique<MlpNet>(shape.features, shape.hidden, shape.classes);
    // torch::load replaces each tensor whatever its shape, so check the shapes the head describes.
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (const auto& item : (*net)->named_parameters()) expected[item.key()] = item.value().sizes().vec();
    std::istringstream stream(bytes);
    torch::load(*net, stream);
    for (const auto& item : (*net)->named_parameters()) {
      if (item.value().sizes().vec() != expected[item.key()]) {
        error = "weight " + item.key() + " has shape " + shapeText(item.value().sizes().vec()) +
                ", but head.json describes " + std::to_string(shape.features) + " features, hidden " +
                hiddenText(shape.hidden) + ", " + std::to_string(shape.classes) + " classes (shape " +
                shapeText(expected[item.key()]) + ")";
        return nullptr;
      }
    }
    (*net)->eval();
    return net.release();
  } catch (const std::exception& e) {
    error = "cannot load weights for " + std::to_string(shape.features) + " features, hidden " + hiddenText(shape.hidden) +
            ", " + std::to_string(shape.classes) + " classes: " + firstLine(e.what());
    return nullptr;
  }
}

bool predict(const void* network, const float* rows, std::size_t n, std::size_t cols, const std::vector<float>& mean,
             const std::vector<float>& scale, std::vector<float>& probabilities, std::string& error) {
  try {
    torch::NoGradGuard noGrad;
    auto& net = *static_cast<MlpNet*>(const_cast<void*>(network));
    torch::Tensor x = torch::from_blob(const_cast<float*>(rows),
                                       {static_cast<std::int64_t>(n), static_cast<std::int64_t>(cols)}, torch::kFloat32);
    torch::Tensor logits = net->forward((x - torch::tensor(mean, torch::kFloat32)) / torch::tensor(scale, torch::kFloat32),
                                        0.0, nullptr);
    probabilities = toVector(torch::softmax(logits, 1));
    return true;
  } catch (const std::exception& e) {
    error = firstLine(e.what());
    return false;
  }
}

bool save(const void* network, std::string& bytes, std::string& error) {
  try {
    std::ostringstream stream;
    torch::save(*static_cast<const MlpNet*>(network), stream);
    bytes = stream.str();
    return true;
  } catch (const std::exception& e) {
    error = firstLine(e.what());
    return false;
  }
}

std::size_t parameterCount(const void* network) {
  std::size_t count = 0;
  for (const auto& parameter : (*static_cast<const MlpNet*>(network))->parameters())
    count += static_cast<std::size_t>(parameter.numel());
  return count;
}

void release(void* network) { delete static_cast<MlpNet*>(network); }

void setThreads(int threads) { at::set_num_threads(std::max(1, threads)); }

}  // namespace

extern "C" __attribute__((visibility("default"))) const mirtune::heads::MlpPlugin* mirtuneMlpPlugin() {
  static const mirtune::heads::MlpPlugin plugin = [] {
    mirtune::heads::MlpPlugin table;
    table.torchVersion = TORCH_VERSION;
    table.fit = &fit;
    table.load = &load;
    table.predict = &predict;
    table.save = &save;
    table.parameterCount = &parameterCount;
    table.release = &release;
    table.setThreads = &setThreads;
    return table;
  }();
  return &plugin;
}
