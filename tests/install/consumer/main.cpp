// Which device runs each kernel of an OpenCL file faster? Compiles the file, embeds it with the shipped
// encoder and asks the shipped device-mapping heads, through an installed mirtune.
#include "embeddings/Encoder.h"
#include "frontend/Frontend.h"
#include "tasks/devmap/DevmapModel.h"
#include "tasks/devmap/Features.h"
#include "tasks/devmap/Predict.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace {

int fail(const mirtune::Error& error) {
  std::fprintf(stderr, "predict_device: %s\n", error.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mirtune;
  if (argc != 2) {
    std::fprintf(stderr, "usage: predict_device FILE.cl\n");
    return 2;
  }
  // This program does not live in <prefix>/bin, so it names the installed folders; the environment still
  // wins.
  ::setenv("MIRTUNE_SHARE", MIRTUNE_INSTALLED_SHARE, /*overwrite=*/0);
  ::setenv("MIRTUNE_LIB_DIR", MIRTUNE_INSTALLED_LIB, /*overwrite=*/0);

  auto module = compileFile(argv[1]);
  if (!module) return fail(module.error());
  auto encoder = Encoder::load(Encoder::defaultDirectory());
  if (!encoder) return fail(encoder.error());
  auto input = encoder->prepare(*module);
  if (!input) return fail(input.error());
  std::vector<EncoderInput> inputs;
  inputs.push_back(std::move(*input));
  auto embedding = encoder->embed(inputs, Modality::kFused);
  if (!embedding) return fail(embedding.error());
  std::fprintf(stderr, "%s: %zu kernel(s), IR %s, fused embedding of %zu floats from %s\n", argv[1],
               module->kernelNames().size(), module->irSha256().c_str(), embedding->front().size(),
               encoder->id().c_str());

  auto model = devmap::loadDevmapModel(devmap::defaultDevmapModelDirectory(), *encoder);
  if (!model) return fail(model.error());
  devmap::PredictOptions options;
  options.platform = "amd";
  auto predictions = devmap::predictKernels(
      *encoder, *model, {{argv[1], "", devmap::kDefaultTransferBytes, devmap::kDefaultWgsize}}, options);
  if (!predictions) return fail(predictions.error());
  int status = 0;
  for (const devmap::KernelPrediction& prediction : *predictions) {
    if (prediction.error) {
      status = fail(*prediction.error);
      continue;
    }
    const double chosen =
        prediction.device == devmap::Device::kGpu ? prediction.gpuProbability : 1 - prediction.gpuProbability;
    std::printf("%s  %s  %s  probability %.3f", prediction.file.c_str(), prediction.kernel.c_str(),
                std::string(devmap::deviceName(prediction.device)).c_str(), chosen);
    // Heads with a novelty index also say how unlike the training kernels this one is, and what it gains.
    if (prediction.novelty && prediction.expectedSpeedup) {
      std::printf("  novelty %.2f  expected speedup %.2f", *prediction.novelty, *prediction.expectedSpeedup);
    }
    if (prediction.fallback) std::printf("  fallback: %s", prediction.policy.c_str());
    std::printf("\n");
  }
  return status;
}
