// `devmap eval` as a library call: cross-validation over the data set under one or more splits (published
// folds, kernels held out, suites held out), per platform, with the encoder's embeddings, IR2Vec symbolic
// vectors or the auxiliary inputs alone as the head's features, beside code-free reference policies on the
// same folds.
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
  std::string features = "fused"; ///< fused, tokens, graph (encoder modalities), ir2vec or aux (none)
  std::string split = "published";  ///< published, kernel, suite, or a comma-separated list of them
  /// IR2Vec seed vocabulary: a file, or a folder holding seedEmbeddingVocab300D.txt; empty: the data set's.
  std::string ir2vecVocabulary;
  /// Also cross-validate heads on the auxiliary inputs alone on the same folds (skipped for --features aux).
  bool auxReference = true;
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
  Split split = Split::kPublished;
  std::string fold;  ///< the outer fold's name: its number, or the held-out suite
  Device oracle = Device::kCpu;
  Device predicted = Device::kCpu;
  float gpuProbability = 0;
  double speedup = 0;  ///< over the platform's static mapping
};

/// The cross-validation of one platform, and the code-free references scored on the same rows.
struct PlatformEvaluation {
  std::size_t platform = 0;  ///< index into kPlatforms
  EvalResult result;
  Score alwaysCpu;
  Score alwaysGpu;
  /// Heads on the auxiliary inputs alone (transfer, work-group size), same folds and protocol; absent for
  /// --features aux (then `result` is that) or when EvalRequest::auxReference is off.
  std::optional<EvalResult> aux;

  /// The better fixed device: the one with the higher mean speedup over these rows (the lower index on ties).
  Device bestFixedDevice() const;
  const Score& bestFixed() const { return bestFixedDevice() == Device::kCpu ? alwaysCpu : alwaysGpu; }
};

/// Every platform under one split.
struct SplitEvaluation {
  Split split = Split::kPublished;
  std::size_t folds = 0;                      ///< outer folds with held-out rows
  std::vector<PlatformEvaluation> platforms;  ///< amd before nvidia
};

struct EvalReport {
  EvalRequest request;
  std::string encoderId = "none";  ///< "none" for --features aux; "ir2vec-symbolic:<vocabulary file>" for ir2vec
  /// With an embedding: rows of the evaluated set that used the data set's .ll file, and the source texts Clang 14
  /// did not compile.
  std::optional<std::size_t> rowsUsingLlFile;
  std::size_t sourceTextsNotCompiled = 0;
  std::vector<SplitEvaluation> splits;         ///< in the order the request lists them
  std::vector<EvalRowPrediction> predictions;  ///< every evaluated row, split by split, platform by platform
};

/// Loads the data set, embeds its rows (logging how many compiled) and cross-validates each platform under
/// each split (a progress line per split and platform on stderr). Usage errors name the option.
Expected<EvalReport> evaluate(const EvalRequest& request);

}  // namespace mirtune::devmap
