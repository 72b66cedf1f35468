// Options of the `mirtune coarsen` commands (src/cli only).
#pragma once

#include "cli/CompileFlags.h"
#include "cli/Commands.h"

#include <string>
#include <vector>

namespace mirtune::cli {

struct CoarsenEvalOptions {
  std::string platform = "all";
  std::string features = "fused";
  std::string form = "factor";
  std::string pooling = "pooled";
  std::string ir = "source";
  std::string heads = "auto";
  std::string candidates;  ///< JSON file of head candidates instead of --heads' grid
  std::string data;
  std::string model;
  std::string predictions;
  std::string output;
  bool json = false;
  bool noCache = false;
  int threads = 2;
  int innerFolds = 4;
  unsigned seed = 204;
};

struct CoarsenTrainOptions {
  std::string form = "factor";
  std::string pooling = "pooled";
  std::string ir = "source";
  std::string heads = "auto";
  std::string data;
  std::string model;
  std::string out;
  bool noCache = false;
  int threads = 2;
  int innerFolds = 4;
  unsigned seed = 204;
  std::string command;  ///< the command line, recorded in the manifest
};

struct CoarsenPredictOptions {
  std::vector<std::string> files;
  std::string kernel;
  std::string platform = "all";
  std::string model;
  std::string heads;
  std::string output;
  bool json = false;
  bool noCache = false;
  int threads = 2;
  CompileFlags compile;
};

int runCoarsenEval(const CoarsenEvalOptions& options, const GlobalOptions& global);

}  // namespace mirtune::cli
