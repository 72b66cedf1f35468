// Device predictions for user kernels: compile each distinct file once, embed each distinct kernel once,
// then ask the platform's head.
#pragma once

#include "embeddings/BatchEmbed.h"
#include "frontend/Frontend.h"
#include "tasks/common/KernelSources.h"
#include "tasks/devmap/DevmapModel.h"

#include <optional>
#include <string>
#include <vector>

namespace mirtune::devmap {

/// One question: a kernel of a file (empty = every kernel in it) launched with this transfer and work-group.
struct KernelQuery {
  std::string file;
  std::string kernel;
  double transferBytes = 0;
  double wgsize = 0;
};

struct KernelPrediction {
  std::size_t query = 0;  ///< index of the query it answers
  std::string file;
  std::string kernel;
  double transferBytes = 0;
  double wgsize = 0;
  std::string irSha256;
  Device device = Device::kCpu;
  double gpuProbability = 0;      ///< calibrated where the heads carry a calibration, else the head's own
  double rawGpuProbability = 0;   ///< the head's own
  bool calibrated = false;        ///< the heads decide safely: the fields below are set
  std::optional<double> novelty;  ///< percentile of the kernel among the training kernels
  std::optional<double> expectedSpeedup;  ///< of `device` over the platform's static device
  bool fallback = false;                  ///< novelty above the threshold: the code-free policy answered
  std::string policy = "head";            ///< who answered (policyName)
  std::optional<Error> error;  ///< compile error (file:line), unknown kernel, ...: the other queries go on
};

struct PredictOptions {
  std::string platform;  ///< a platform the model has a head for
  CompileOptions compile;
  EmbeddingCache* cache = nullptr;
  unsigned threads = 2;
  ProgressLine* progress = nullptr;  ///< advanced per distinct file
};

/// How a kernel of a compiled file is embedded (tasks/common/KernelSources.h).
using mirtune::kernelEmbedSource;

/// Answers every query; a query naming no kernel expands to one prediction per kernel of its file, in the
/// file's order. Fails only when the platform has no head or the encoder itself fails.
Expected<std::vector<KernelPrediction>> predictKernels(const Encoder& encoder, const DevmapModel& model,
                                                       const std::vector<KernelQuery>& queries,
                                                       const PredictOptions& options);

}  // namespace mirtune::devmap
