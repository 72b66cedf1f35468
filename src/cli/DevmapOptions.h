// Options of the `mirtune devmap` commands and helpers they share (src/cli only).
#pragma once

#include "cli/CompileFlags.h"
#include "cli/Commands.h"
#include "tasks/devmap/EvalWorkflow.h"
#include "tasks/devmap/Workflows.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::cli {

/// `devmap eval`: the library's request, and where the command writes.
struct DevmapEvalOptions {
  devmap::EvalRequest request;  ///< the database path is set from the global options
  std::string predictions;      ///< --predictions CSV
  std::string output;
  bool json = false;
  bool noAuxReference = false;  ///< --no-aux-reference: request.auxReference off
};

/// `devmap train` (the library's request; the database path is set from the global options).
using DevmapTrainOptions = devmap::TrainRequest;

/// `mirtune devmap FILE...`, `devmap predict --input` and `devmap FILE --run`.
struct DevmapPredictOptions {
  /// The files, the kernel, the encoder, heads and platform, and the launch of --run.
  devmap::RunRequest request;
  std::string input;  ///< `devmap predict --input ROWS.csv`
  std::string output;
  bool json = false;
  bool run = false;
  CompileFlags compile;
};

/// `devmap collect`: the library's request, and whether to print JSON.
struct DevmapCollectOptions : devmap::CollectRequest {
  bool json = false;
};

int runDevmapEval(const DevmapEvalOptions& options, const GlobalOptions& global);
int runDevmapTrain(const DevmapTrainOptions& options, const GlobalOptions& global);
int runDevmapPredict(const DevmapPredictOptions& options, const GlobalOptions& global);
int runDevmapBatchPredict(const DevmapPredictOptions& options, const GlobalOptions& global);
/// `mirtune devmap FILE --run ...`: the report of devmap::runKernels (DevmapRun.cpp).
int runDevmapRun(const DevmapPredictOptions& options, const GlobalOptions& global);
/// `mirtune devmap collect`: the table of devmap::collect (DevmapRun.cpp).
int runDevmapCollect(const DevmapCollectOptions& options, const GlobalOptions& global);

}  // namespace mirtune::cli
