// Options of the `mirtune devmap` commands and helpers they share (src/cli only).
#pragma once

#include "cli/CompileFlags.h"
#include "cli/Commands.h"
#include "tasks/common/Head.h"

#include <string>
#include <vector>

namespace mirtune::cli {

struct DevmapEvalOptions {
  std::string platform = "all";
  std::string rows = "680";
  std::string features = "fused";
  std::string ir = "source";
  std::string heads = "auto";
  std::string data;
  std::string model;
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
  std::string heads = "auto";
  std::string data;
  std::string model;
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
  std::string model;
  std::string heads;
  bool json = false;
  bool noCache = false;
  int threads = 2;
  CompileFlags compile;
};

/// Candidates for --heads: auto (every kind), xgboost or mlp; XGBoost candidates get `threads` threads.
Expected<std::vector<heads::Candidate>> headCandidates(const std::string& name, int threads);
/// LibTorch (encoder, MLP heads) threads.
void configureThreads(int threads);

int runDevmapEval(const DevmapEvalOptions& options, const GlobalOptions& global);
int runDevmapTrain(const DevmapTrainOptions& options, const GlobalOptions& global);
int runDevmapPredict(const DevmapPredictOptions& options, const GlobalOptions& global);
int runDevmapBatchPredict(const DevmapPredictOptions& options, const GlobalOptions& global);

}  // namespace mirtune::cli
