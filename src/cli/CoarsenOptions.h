// Options of the `mirtune coarsen` commands (src/cli only).
#pragma once

#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "tasks/coarsen/Workflows.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::cli {

struct CoarsenEvalOptions {
  std::string platform = "all";
  std::string features = "fused";
  std::string ir2vecVocabulary;  ///< --ir2vec-vocabulary (with --features ir2vec)
  std::string form = "factor";
  std::string pooling = "pooled";
  std::string ir = "source";
  std::string headKind = "auto";  ///< --head-kind: auto, xgboost or mlp
  std::string candidates;  ///< JSON file of head candidates instead of --head-kind's grid
  std::string data;
  std::string encoder;  ///< --encoder DIR; empty: the shipped encoder
  std::string predictions;
  std::string output;
  bool json = false;
  bool noCache = false;
  int threads = 2;
  int innerFolds = 4;
  unsigned seed = 204;
  /// classifier: the heads of --form/--pooling/--head-kind; prior, knn, regression, factor-head or auto (every
  /// curve head, chosen by inner cross-validation): tasks/coarsen/CoarsenCurves.h. Empty:
  /// coarsen::kDefaultCoarsenMethod, or classifier when --candidates lists classifier heads (xgboost, mlp).
  std::string method;
  bool magni = false;  ///< append Magni et al.'s PCA1..PCA7 to the embedding (evaluation only)
};

/// `coarsen train` (the library's request; the database path is set from the global options).
using CoarsenTrainOptions = coarsen::TrainRequest;

struct CoarsenPredictOptions {
  std::vector<std::string> files;
  std::string kernel;
  std::string platform = "all";
  std::string encoder;  ///< --encoder DIR; empty: the shipped encoder
  std::string heads;  ///< --heads DIR; empty: the shipped heads (or the local ones for --platform local)
  std::string output;
  bool json = false;
  bool noCache = false;
  int threads = 2;
  CompileFlags compile;
  // --run: measure the original and the coarsened kernels on every OpenCL device.
  bool run = false;
  std::vector<std::uint64_t> globalSize;  ///< --global N[,N[,N]]
  std::vector<std::uint64_t> localSize;   ///< --local M[,M[,M]]
  std::vector<std::string> args;          ///< --arg NAME=VALUE
  int budget = 5;                         ///< coarsened variants measured at most (the predicted one first)
  unsigned dimension = 0;
  std::string mode = "consecutive";
  double timeout = 60;   ///< seconds per device and variant
  double minTime = 0.2;  ///< seconds of measured repetitions per device and variant
  // --run on CUDA programs (.cu): a tuning session of nvcc builds.
  std::string nvcc;          ///< default: nvcc on PATH, else /usr/local/cuda/bin/nvcc
  std::string cudaArch;      ///< nvcc -arch value, e.g. sm_90 (default: nvcc's own)
  std::string exportFolder;  ///< write the session for a GPU machine's runner instead of measuring here
  std::string ingestFolder;  ///< store what run-all.sh measured in an exported folder
  bool resume = false;       ///< continue an interrupted session
};

struct CoarsenCollectOptions {
  std::string kernels;        ///< folder of kernel manifests (default: the shipped kernels/opencl)
  std::string sizes = "all";  ///< "all" or a comma list of indices into each manifest's sizes
  unsigned dimension = 0;
  std::string mode = "consecutive";
  double timeout = 60;
  double minTime = 0.2;
  std::string exportFolder;  ///< write self-contained plans and run-all.sh instead of measuring here
  std::string ingestFolder;  ///< store the results of an exported folder run elsewhere
};

int runCoarsenEval(const CoarsenEvalOptions& options, const GlobalOptions& global);
/// `mirtune coarsen FILE --run ...` (CoarsenRun.cpp).
int runCoarsenRun(const CoarsenPredictOptions& options, const GlobalOptions& global);
/// `mirtune coarsen FILE.cu --run ...` (CoarsenCuda.cpp), here or with --export.
int runCoarsenCuda(const CoarsenPredictOptions& options, const GlobalOptions& global);
/// `mirtune coarsen --ingest DIR` (CoarsenCuda.cpp).
int runCoarsenCudaIngest(const CoarsenPredictOptions& options, const GlobalOptions& global);
/// `mirtune coarsen collect` (CoarsenRun.cpp), with --export and --ingest.
int runCoarsenCollect(const CoarsenCollectOptions& options, const GlobalOptions& global);

}  // namespace mirtune::cli
