// Options of the `mirtune devmap` commands and helpers they share (src/cli only).
#pragma once

#include "cli/CompileFlags.h"
#include "cli/Commands.h"
#include "tasks/common/Head.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::cli {

struct DevmapEvalOptions {
  std::string platform = "all";
  std::string rows = "680";
  std::string features = "fused";
  std::string ir = "source";
  std::string headKind = "auto";  ///< --head-kind: auto, xgboost or mlp
  std::string candidates;  ///< JSON file: [{"kind": ..., "params": {...}}, ...] instead of --head-kind's grid
  std::string data;
  std::string encoder;  ///< --encoder DIR; empty: the shipped encoder
  std::string predictions;
  std::string output;
  bool json = false;
  bool noCache = false;
  int threads = 2;
  unsigned seed = 204;
};

struct DevmapTrainOptions {
  std::string platform = "all";
  std::string ir = "source";
  std::string headKind = "auto";  ///< --head-kind: auto, xgboost or mlp
  std::string data;
  std::string encoder;  ///< --encoder DIR; empty: the shipped encoder
  std::string out;
  bool noCache = false;
  int threads = 2;
  unsigned seed = 204;
  std::string command;  ///< the command line, recorded in the manifest
};

struct DevmapPredictOptions {
  std::vector<std::string> files;  ///< `mirtune devmap FILE...`
  std::string input;               ///< `devmap predict --input ROWS.csv`
  std::string output;
  std::string kernel;
  double transfer = -1;  ///< < 0: the default
  double wgsize = -1;
  std::string platform = "amd";
  std::string encoder;  ///< --encoder DIR; empty: the shipped encoder
  std::string heads;  ///< --heads DIR; empty: the shipped heads (or the local ones for --platform local)
  bool json = false;
  bool noCache = false;
  int threads = 2;
  CompileFlags compile;
  // --run: execute the kernel(s) on every OpenCL device and record the outcome.
  bool run = false;
  std::vector<std::uint64_t> globalSize;  ///< --global N[,N[,N]]
  std::vector<std::uint64_t> localSize;   ///< --local M[,M[,M]]
  std::vector<std::string> args;          ///< --arg NAME=VALUE
  double timeout = 60;                    ///< seconds per device
  double minTime = 0.2;                   ///< seconds of measured repetitions per device
};

struct DevmapCollectOptions {
  std::string kernels;  ///< folder of kernel manifests (default: the shipped kernels/opencl)
  std::string sizes = "all";  ///< "all" or a comma list of indices into each manifest's sizes
  double timeout = 60;
  double minTime = 0.2;
};

/// Candidates for --heads: auto (every kind), xgboost or mlp, or those listed in the JSON file `candidatesFile`
/// when it is not empty; XGBoost candidates get `threads` threads.
Expected<std::vector<heads::Candidate>> headCandidates(const std::string& name, int threads,
                                                       const std::string& candidatesFile = {});
/// LibTorch (encoder, MLP heads) threads.
void configureThreads(int threads);

int runDevmapEval(const DevmapEvalOptions& options, const GlobalOptions& global);
int runDevmapTrain(const DevmapTrainOptions& options, const GlobalOptions& global);
int runDevmapPredict(const DevmapPredictOptions& options, const GlobalOptions& global);
int runDevmapBatchPredict(const DevmapPredictOptions& options, const GlobalOptions& global);
/// `mirtune devmap FILE --run ...` (DevmapRun.cpp).
int runDevmapRun(const DevmapPredictOptions& options, const GlobalOptions& global);
/// `mirtune devmap collect` (DevmapRun.cpp).
int runDevmapCollect(const DevmapCollectOptions& options, const GlobalOptions& global);
/// `mirtune devmap train --platform local` (DevmapRun.cpp).
int runDevmapTrainLocal(const DevmapTrainOptions& options, const GlobalOptions& global);

}  // namespace mirtune::cli
