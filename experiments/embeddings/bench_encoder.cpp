// Encoder cost on this machine: per-module embedding latency (single thread, parse + tokens + graph + forward),
// batch throughput, and where a training step spends its time (token encoder, graph encoder, heads, backward).
#include "common/Statistics.h"
#include "embeddings/Encoder.h"
#include "embeddings/Model.h"
#include "frontend/Frontend.h"
#include "support/Files.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using mirtune::bench::percentile;

namespace {

double msSince(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }


}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MIREncoder cost benchmark"};
  std::string model, tokenizerDirectory, folder;
  int threads = 2, batchSize = 16, limit = 200;
  bool trainingStep = false, compareLibTorch = false;
  app.add_option("--model", model, "Model folder (default: the shipped one); without one, --tokenizer + random weights");
  app.add_option("--tokenizer", tokenizerDirectory, "Tokenizer for a randomly initialised model");
  app.add_option("--ir", folder, "Folder of .ll files (default: $MIRTUNE_DATA/devmap/kernels_ir)");
  app.add_option("--threads", threads, "Threads for the batch throughput and the training step");
  app.add_option("--batch-size", batchSize, "Batch size");
  app.add_option("--limit", limit, "Files at most");
  app.add_flag("--training-step", trainingStep, "Also time one training step's parts");
  app.add_flag("--compare-libtorch", compareLibTorch,
               "Also load the model's weights into the LibTorch network and print the largest relative difference "
               "between its vectors and mirtune's over every file and modality");
  CLI11_PARSE(app, argc, argv);
  if (folder.empty()) folder = (mirtune::dataDirectory() / "devmap" / "kernels_ir").string();

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  if (static_cast<int>(files.size()) > limit) files.resize(static_cast<std::size_t>(limit));

  mirtune::EncoderConfig config;
  mirtune::InputLimits limits;
  std::optional<mirtune::Encoder> encoder;
  std::optional<mirtune::Tokenizer> tokenizer;
  if (!tokenizerDirectory.empty()) {
    auto loaded = mirtune::Tokenizer::load(tokenizerDirectory);
    if (!loaded) {
      std::cerr << loaded.error().message() << "\n";
      return 1;
    }
    tokenizer.emplace(std::move(*loaded));
    config.vocabularySize = tokenizer->vocabularySize();
  } else {
    auto loaded = mirtune::Encoder::loadOrDefault(model);
    if (!loaded) {
      std::cerr << loaded.error().message() << "\n";
      return 1;
    }
    encoder.emplace(std::move(*loaded));
    config = encoder->config();
    limits = encoder->limits();
  }
  torch::set_num_threads(1);
  torch::manual_seed(1);
  mirtune::MirEncoder network(config);
  network->eval();
  mirtune::setEncoderThreads(1);

  // Single-thread latency per module: parse + normalise/tokens/graph + forward of a batch of one. With a model, the
  // forward pass is the one mirtune runs (Encoder::embed, no LibTorch); with --tokenizer only, the LibTorch network
  // with random weights (the training-time network).
  std::vector<double> prepare, forward, total;
  std::vector<mirtune::EncoderInput> inputs;
  for (const fs::path& file : files) {
    auto start = Clock::now();
    auto module = mirtune::compileFile(file);
    auto input = tokenizer ? mirtune::prepareEncoderInput(*module, *tokenizer, limits) : encoder->prepare(*module);
    prepare.push_back(msSince(start));
    auto middle = Clock::now();
    if (encoder) {
      auto vector = encoder->embed({*input}, mirtune::Modality::kFused);
      if (!vector) {
        std::cerr << file.string() << ": " << vector.error().message() << "\n";
        return 1;
      }
    } else {
      torch::NoGradGuard noGrad;
      mirtune::EncoderBatch batch = mirtune::makeBatch({&*input});
      network->forward(batch);
    }
    forward.push_back(msSince(middle));
    total.push_back(msSince(start));
    inputs.push_back(std::move(*input));
  }
  auto line = [](const char* what, const std::vector<double>& v) {
    std::cout << fmt::format("{:<34} p50 {:8.2f}  p95 {:8.2f} ms\n", what, percentile(v, 50), percentile(v, 95));
  };
  std::cout << fmt::format("{} files from {}; model dim {}, {} token layers, {} graph layers\n", files.size(), folder,
                           config.modelDim, config.tokenLayers, config.graphLayers);
  line("prepare (parse+normalise+tokens+graph)", prepare);
  line("forward, batch of one", forward);
  line("total per module, single thread", total);

  torch::set_num_threads(threads);
  mirtune::setEncoderThreads(threads);
  {
    torch::NoGradGuard noGrad;
    auto start = Clock::now();
    if (encoder) {
      auto vectors = encoder->embed(inputs, mirtune::Modality::kFused, static_cast<std::size_t>(batchSize));
      if (!vectors) {
        std::cerr << vectors.error().message() << "\n";
        return 1;
      }
    } else {
      for (std::size_t i = 0; i < inputs.size(); i += static_cast<std::size_t>(batchSize)) {
        std::vector<const mirtune::EncoderInput*> chunk;
        for (std::size_t j = i; j < std::min(inputs.size(), i + batchSize); ++j) chunk.push_back(&inputs[j]);
        network->forward(mirtune::makeBatch(chunk));
      }
    }
    double seconds = msSince(start) / 1000.0;
    std::cout << fmt::format("forward throughput, {} threads, batch {}: {:.1f} modules/s (prepare excluded)\n", threads,
                             batchSize, static_cast<double>(inputs.size()) / seconds);
  }

  if (compareLibTorch && encoder) {
    const fs::path directory = model.empty() ? mirtune::Encoder::defaultDirectory() : fs::path(model);
    mirtune::MirEncoder reference(config);
    torch::load(reference, (directory / "weights.pt").string());
    reference->eval();
    torch::NoGradGuard noGrad;
    for (mirtune::Modality modality : {mirtune::Modality::kFused, mirtune::Modality::kTokens, mirtune::Modality::kGraph}) {
      auto ours = encoder->embed(inputs, modality);
      if (!ours) {
        std::cerr << ours.error().message() << "\n";
        return 1;
      }
      double largest = 0.0, largestAbsolute = 0.0;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        mirtune::EncoderBatch batch = mirtune::makeBatch({&inputs[i]});
        torch::Tensor states;
        torch::Tensor result = modality == mirtune::Modality::kTokens  ? reference->encodeTokens(batch, states)
                               : modality == mirtune::Modality::kGraph ? reference->encodeGraph(batch, states)
                                                                      : reference->forward(batch).fused;
        result = result.contiguous();
        const float* theirs = result.data_ptr<float>();
        for (std::size_t k = 0; k < (*ours)[i].size(); ++k) {
          const double difference = std::abs(double((*ours)[i][k]) - theirs[k]);
          largestAbsolute = std::max(largestAbsolute, difference);
          largest = std::max(largest, difference / std::max(1.0, std::abs(double(theirs[k]))));
        }
      }
      std::cout << fmt::format("vs LibTorch, {} over {} modules: largest relative difference {:.3g} (absolute {:.3g})\n",
                               mirtune::modalityName(modality), inputs.size(), largest, largestAbsolute);
    }
  }

  if (trainingStep) {
    network->train();
    std::vector<const mirtune::EncoderInput*> chunk;
    for (int j = 0; j < batchSize && j < static_cast<int>(inputs.size()); ++j) chunk.push_back(&inputs[j]);
    mirtune::EncoderBatch batch = mirtune::makeBatch(chunk);
    for (int repeat = 0; repeat < 3; ++repeat) {
      auto start = Clock::now();
      torch::Tensor tokenStates, nodeStates;
      torch::Tensor t = network->encodeTokens(batch, tokenStates);
      double tokenMs = msSince(start);
      start = Clock::now();
      torch::Tensor g = network->encodeGraph(batch, nodeStates);
      double graphMs = msSince(start);
      start = Clock::now();
      torch::Tensor selected = batch.tokens.ge(5) & torch::rand(batch.tokens.sizes()).lt(0.15);
      torch::Tensor logits = network->maskedTokenLogits(tokenStates.index({selected}));
      torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.tokens.index({selected})) + g.sum() * 0 + t.sum() * 0;
      double headMs = msSince(start);
      start = Clock::now();
      loss.backward();
      double backwardMs = msSince(start);
      std::cout << fmt::format("training step, batch {} ({} tokens, {} nodes): tokens {:.0f} ms, graph {:.0f} ms, "
                               "mlm head {:.0f} ms, backward {:.0f} ms\n",
                               chunk.size(), batch.tokens.numel(), batch.nodeKinds.numel(), tokenMs, graphMs, headMs,
                               backwardMs);
    }
  }
  return 0;
}
