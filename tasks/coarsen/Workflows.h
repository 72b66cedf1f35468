// What a user does with thread coarsening, as library calls: predict the factor of kernels and record the
// predictions, and train heads (on the PACT'14 data set, curve or classifier heads, or on this machine's
// `coarsen collect` measurements).
#pragma once

#include "frontend/Frontend.h"
#include "support/Error.h"
#include "tasks/coarsen/CoarsenEvaluate.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune::coarsen {

/// The best method of experiments/coarsen/table.md under the leave-one-kernel-out protocol: the default of
/// `coarsen eval` and of `coarsen train` (so of the shipped heads).
inline constexpr const char* kDefaultCoarsenMethod = "prior";

/// `coarsen train`.
struct TrainRequest {
  std::string platform;     ///< empty: the PACT'14 data set; "local": this machine's `coarsen collect` data
  std::string fingerprint;  ///< local: measurements of this platform (default: this machine's)
  std::string form = "factor";
  std::string pooling = "pooled";
  std::string ir = "source";
  std::string headKind = "auto";  ///< classifier heads: auto, xgboost or mlp
  std::string data;               ///< tcoarsening folder; empty: defaultCoarsenDirectory()
  std::string encoder;            ///< empty: the shipped encoder
  /// Heads folder to write; empty: userModelDirectory("coarsen", kShippedCoarsenName), or for local
  /// defaultLocalCoarsenModelDirectory() (never the source tree).
  std::string out;
  std::string databasePath;  ///< the embedding cache; for local also the measurements
  bool noCache = false;
  int threads = 2;
  int innerFolds = 4;
  unsigned seed = 204;
  std::string command;  ///< the command line, recorded in the manifest
  /// classifier, prior, knn, regression, factor-head or auto (tasks/coarsen/CoarsenCurves.h); empty:
  /// kDefaultCoarsenMethod.
  std::string method;
};

/// Trains and saves the heads; returns the folder written.
Expected<std::filesystem::path> trainHeads(const TrainRequest& request);

/// `coarsen FILE...`: the factor per kernel and platform of the PACT'14 data set.
struct PredictRequest {
  std::vector<std::string> files;
  std::string kernel;              ///< empty: every kernel; the IR name or, for CUDA, the source name
  std::string platform = "all";    ///< cypress, tahiti, fermi, kepler or all
  std::string encoder;             ///< empty: the shipped encoder
  std::string heads;               ///< empty: defaultCoarsenModelDirectory()
  CompileOptions compile;
  std::string databasePath;        ///< the embedding cache and the prediction log
  bool noCache = false;            ///< neither read nor write the cache, nor log predictions
  int threads = 2;
};

/// One kernel's factor for one platform.
struct FactorAnswer {
  std::string file;
  std::string kernel;  ///< the source name
  std::string irSha256;
  std::string language;
  std::size_t platform = 0;  ///< index into kPlatforms
  FactorChoice choice;
};

struct PredictOutcome {
  std::vector<FactorAnswer> answers;  ///< per kernel, each asked platform in order
  std::vector<Error> failures;        ///< inputs that could not be answered (the others still are)
  std::vector<Error> databaseErrors;  ///< the embedding cache's, then the prediction log's
};

/// Compiles each file once, embeds each kernel, asks the heads and records a session with one prediction per
/// answer (and one per failed file or kernel, with its error and no score, when the file can be named by
/// content). Fails only when the encoder or heads cannot be loaded, the encoder itself fails or the platform
/// is not one the heads answer for.
Expected<PredictOutcome> predictAndRecord(const PredictRequest& request);

}  // namespace mirtune::coarsen
