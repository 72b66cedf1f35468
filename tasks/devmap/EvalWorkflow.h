// `devmap eval` as a library call: the published 10-fold protocol over the data set, per platform, with the
// encoder's embeddings (or the auxiliary inputs alone) as the head's features.
#pragma once

#include "support/Error.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Evaluate.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::devmap {

/// What to evaluate; the strings take the command line's values.
struct EvalRequest {
  std::string platform = "all";   ///< amd, nvidia or all
  std::string rows = "680";       ///< 680 (all rows) or 669 (IR2Vec's rows)
  std::string features = "fused"; ///< fused, tokens, graph (an encoder modality) or aux (no embedding)
  std::string ir = "source";      ///< source or dataset (IrSource)
  std::string headKind = "auto";  ///< auto, xgboost or mlp
  std::string candidates;         ///< JSON file of head candidates instead of headKind's grid
  std::string data;               ///< devmap data folder; empty: defaultDevmapDirectory()
  std::string encoder;            ///< encoder folder; empty: the shipped encoder
  std::string databasePath;       ///< the embedding cache
  bool noCache = false;           ///< neither read nor write the embedding cache
  int threads = 2;
  unsigned seed = 204;
};

/// One evaluated row of one platform, as the predictions CSV lists it.
struct EvalRowPrediction {
  std::size_t platform = 0;  ///< index into kPlatforms
  std::size_t row = 0;       ///< the data set's row
  std::string benchmark;
  std::string dataset;
  int fold = 0;
  Device oracle = Device::kCpu;
  Device predicted = Device::kCpu;
  float gpuProbability = 0;
  double speedup = 0;  ///< over the platform's static mapping
};

/// The cross-validation of one platform.
struct PlatformEvaluation {
  std::size_t platform = 0;  ///< index into kPlatforms
  EvalResult result;
};

struct EvalReport {
  EvalRequest request;
  std::string encoderId = "none";  ///< "none" for --features aux
  /// With an embedding: rows of the evaluated set that used the data set's .ll file, and the source texts Clang 14
  /// did not compile.
  std::optional<std::size_t> rowsUsingLlFile;
  std::size_t sourceTextsNotCompiled = 0;
  std::vector<PlatformEvaluation> platforms;  ///< amd before nvidia
  std::vector<EvalRowPrediction> predictions; ///< every evaluated row, platform by platform
};

/// Loads the data set, embeds its rows (logging how many compiled) and cross-validates each platform (a progress
/// line per platform on stderr). Usage errors name the option.
Expected<EvalReport> evaluate(const EvalRequest& request);

}  // namespace mirtune::devmap
