// The OpenMP task's workflows: tune one app (predict with the head, measure through the process backend,
// record the predictions), collect the suite's whole space on this machine (or export it for another one and
// ingest its results), train the head and evaluate it leave-one-app-out.
#pragma once

#include "support/Error.h"
#include "tasks/omp/OmpModel.h"
#include "tasks/tune/TuneWorkflow.h"
#include "tuner/ProcessMeasurer.h"
#include "tuner/SearchSpace.h"
#include "tuner/Strategy.h"
#include "tuner/TuningSession.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mirtune::omp {

/// Configurations this many times slower than the default are stopped early (after at least 5 s).
inline constexpr double kRelativeTimeout = 20;

/// How every OpenMP measurement builds and repeats.
struct OmpMeasureOptions {
  std::string space = "full";  ///< full or small
  std::string compiler = "clang";
  std::vector<std::string> flags;  ///< extra compiler flags (-D..., -I..., -march=native)
  double buildTimeout = 300;       ///< seconds per build
  double runTimeout = 60;          ///< seconds per run
  double minTime = 0.5;            ///< repeat until the runs add up to this many seconds
  int minRepetitions = 3;
  int maxRepetitions = 30;
  bool resume = false;  ///< continue the interrupted session of the same options
  bool force = false;   ///< resume even on another platform
};

/// `omp --app`: one app's session.
struct OmpTuneOptions {
  std::filesystem::path app;  ///< C/C++ OpenMP source
  std::string args;           ///< its arguments, one string split at white space
  std::string strategy = "predict";
  int budget = 3;
  std::uint64_t seed = 1;
  std::filesystem::path heads;    ///< head folder; empty = the shipped one
  std::filesystem::path encoder;  ///< encoder folder; empty = the shipped one
  std::string check = "auto";     ///< auto, digest or none
  std::filesystem::path workDirectory;
  std::filesystem::path t4File;     ///< -o: the results in T4 format; empty = none
  std::filesystem::path cacheFile;  ///< --cache: a Kernel Tuner cache file; empty = none
  /// --write-spec: write the app's application spec (and its rewritten source beside it) here and measure
  /// nothing; empty = tune.
  std::filesystem::path writeSpec;
  OmpMeasureOptions measure;
};

/// What an app's session measured and predicted.
struct OmpTuneReport {
  std::vector<std::string> arguments;
  int cores = 0;
  SearchSpace space;
  TuningResult session;
  std::vector<RankedConfiguration> ranking;  ///< the head's order; empty without a head
  /// The generic tuner's result of the session (evaluations, the best against the default, stop reason).
  tune::TuneSessionResult generic;
  std::filesystem::path writtenSpec;  ///< --write-spec: the spec written (nothing was measured)
};

/// Builds the app's application spec (tasks/omp/OmpSpec.h) and runs it through the generic tuner's
/// application session (tune::runApplicationSession): the default first, then the strategy's picks, one at a
/// time: predict and topk in the order the head ranks the space (over the app's embedding and the default's
/// time; predict measures its first choice only), exhaustive, random and model as `mirtune tune` searches.
/// Every measurement is stored as it arrives (and written to the T4 and cache files when asked), the
/// predictions with them. With writeSpec, writes the spec and returns without measuring.
Expected<OmpTuneReport> tuneOmpApp(const OmpTuneOptions& options, const std::filesystem::path& databasePath);

/// `omp collect`: every configuration of the suite's apps at the named sizes.
struct OmpCollectOptions {
  std::filesystem::path apps;  ///< folder of app manifests; empty = kernels/openmp
  std::vector<std::string> sizes = {"small", "large"};
  std::vector<std::string> only;  ///< only these apps
  std::filesystem::path output;   ///< data CSV; empty = omp-<platform>.csv
  int cores = 0;                  ///< export: the target machine's logical cores (0 = this machine's)
  OmpMeasureOptions measure;
};

struct OmpCollectReport {
  std::filesystem::path output;  ///< the data CSV written
  std::size_t failed = 0;        ///< app-sizes that could not be measured (logged)
  std::size_t missing = 0;       ///< ingest: configurations or app-sizes without a result
  IngestCounts counts;           ///< ingest: what was stored now and before, what has no results yet
};

/// Measures on this machine, writing the CSV after every app-size; a finished app-size is read back
/// (with resume).
Expected<OmpCollectReport> collectOmp(const OmpCollectOptions& options, const std::filesystem::path& databasePath);

struct OmpExportReport {
  std::size_t plans = 0;
  std::size_t configurations = 0;  ///< per plan
  int cores = 0;
};

/// Writes a folder of self-contained plans (collection.json, one folder per app-size, run-all.sh) for
/// `mirtune-run` on another machine; nothing is measured.
Expected<OmpExportReport> exportOmpCollection(const OmpCollectOptions& options, const std::filesystem::path& folder);

/// Checks every item of an exported folder first, then stores each measurement once (keyed by the folder's
/// export-id, the item and the configuration) under the machine that measured its item (the item's own
/// platform.json, else the folder's) and writes the CSV of every item with results, whichever ingest stored
/// them. Items without results yet are counted (counts.notYet, missing) and left for a later ingest; nothing
/// is stored when any item fails its checks.
Expected<OmpCollectReport> ingestOmpCollection(const OmpCollectOptions& options, const std::filesystem::path& folder,
                                               const std::filesystem::path& databasePath);

/// `omp train` / `omp eval`: the data and the head.
struct OmpLearnOptions {
  std::vector<std::filesystem::path> data;  ///< CSVs; empty = tasks/omp/data/*.csv
  std::filesystem::path apps;               ///< empty = kernels/openmp
  std::filesystem::path encoder;            ///< empty = the shipped one
  bool noCache = false;                     ///< no embedding cache
  std::string form = "near-best";           ///< near-best or regression
  std::filesystem::path out;                ///< train: empty = userModelDirectory("omp", "omp-1.0")
  std::string command;                      ///< train: recorded in the manifest
  int topK = 3;                             ///< eval
  bool plainTopK = false;                   ///< eval
};

/// Trains the head and writes its folder; returns the folder.
Expected<std::filesystem::path> trainOmpHead(const OmpLearnOptions& options,
                                             const std::filesystem::path& databasePath);

/// Leave-one-app-out evaluation (OmpEvalResult::toJson for machine output).
Expected<OmpEvalResult> evaluateOmp(const OmpLearnOptions& options, const std::filesystem::path& databasePath);

/// The shipped head folder.
std::filesystem::path shippedOmpHeads();

}  // namespace mirtune::omp
