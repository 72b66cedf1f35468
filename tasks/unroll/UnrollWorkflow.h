// The unroll task's workflows: predict (and apply, or measure) factors for each innermost loop of a file,
// collect the corpus's and the OpenMP suite's loops on this machine, train a knob's head and cross-validate it.
#pragma once

#include "frontend/LoopPragmas.h"
#include "support/Error.h"
#include "tasks/unroll/UnrollModel.h"
#include "tasks/unroll/UnrollSpace.h"
#include "tuner/IngestChecks.h"
#include "tuner/Strategy.h"
#include "tuner/TuningSession.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::unroll {

/// How every unroll measurement builds and repeats.
struct UnrollMeasureOptions {
  double buildTimeout = 120;  ///< seconds per build
  double runTimeout = 30;     ///< seconds per run
  double minTime = 0.3;       ///< repeat until the runs add up to this many seconds
  int minRepetitions = 3;
  int maxRepetitions = 20;
  bool resume = false;  ///< continue interrupted sessions (collect: skip finished loops)
  bool force = false;   ///< resume even on another platform
};

/// `unroll FILE`: one file's loops.
struct UnrollFileOptions {
  std::filesystem::path file;
  int loop = 0;  ///< 0 = every loop
  std::string knob = "unroll";
  std::vector<std::string> flags;  ///< compiler flags for loop discovery, embedding and builds (-D, -I, ...)
  std::filesystem::path heads;     ///< head folder; empty = the shipped one
  std::filesystem::path encoder;   ///< empty = the shipped one
  bool apply = false;              ///< write the source with the predicted pragmas to `output`
  std::filesystem::path output;
  bool run = false;                ///< measure the default and the strategy's picks for each loop
  std::string args;                ///< with run: the program's arguments, split at white space
  std::string strategy = "predict";
  int budget = 1;
  std::uint64_t seed = 1;
  std::filesystem::path workDirectory;  ///< one sub-folder per loop
  bool noCache = false;
  UnrollMeasureOptions measure;
};

struct UnrollLoopReport {
  LoopSite site;
  std::vector<RankedConfiguration> ranking;  ///< the head's order; empty without a head
  std::optional<TuningResult> session;       ///< with run
};

struct UnrollFileReport {
  Knob knob = Knob::kUnroll;
  std::vector<UnrollLoopReport> loops;
};

/// Finds the tunable loops, ranks each one's factors with the head (unless only measuring with random or
/// exhaustive), applies the top ones, and with run measures each loop's session and records the predictions.
Expected<UnrollFileReport> tuneUnrollFile(const UnrollFileOptions& options,
                                          const std::filesystem::path& databasePath);

/// `unroll collect`: every configuration of sampled corpus programs' loops and the suite's.
struct UnrollCollectOptions {
  std::size_t programs = 40;
  std::uint64_t seed = 1;
  std::string knob = "unroll";
  std::vector<std::string> suites = {"neurovectorizer", "openmp"};
  std::size_t maxLoops = 4;       ///< per program
  bool calibrate = true;          ///< rescale corpus repetition counts to this machine (cached per platform)
  std::filesystem::path output;   ///< empty = unroll-<knob>-<platform>.csv
  std::filesystem::path cache;    ///< unpacked corpus; empty = unroll-cache beside the database
  UnrollMeasureOptions measure;
};

struct UnrollCollectReport {
  std::filesystem::path output;
  std::size_t loops = 0;
  std::size_t programs = 0;
  std::size_t skippedPrograms = 0;  ///< without a tunable loop (logged)
  std::size_t failed = 0;           ///< loops that could not be measured (logged); ingest: plan folders without results
  IngestCounts counts;              ///< ingest: what was stored now and before, what has no results yet
};

struct UnrollExportReport {
  std::size_t plans = 0;           ///< loops exported, one plan folder each
  std::size_t configurations = 0;  ///< per plan
  std::size_t skippedPrograms = 0;
};

/// Writes a folder of self-contained plans (collection.json, one folder per loop, run-all.sh) for `mirtune-run`
/// on another machine or a campaign; nothing is measured (corpus programs are calibrated here with calibrate).
Expected<UnrollExportReport> exportUnrollCollection(const UnrollCollectOptions& options,
                                                    const std::filesystem::path& folder,
                                                    const std::filesystem::path& databasePath);

/// Checks every item of an exported folder first, then stores each measurement once (keyed by the folder's
/// export-id, the plan folder and the configuration) under the machine that measured it, and writes the CSV of
/// every loop with results, whichever ingest stored them. Plan folders without results are counted and left
/// for a later ingest; nothing is stored when any item fails its checks.
Expected<UnrollCollectReport> ingestUnrollCollection(const UnrollCollectOptions& options,
                                                     const std::filesystem::path& folder,
                                                     const std::filesystem::path& databasePath);

/// Measures on this machine, writing the CSV after every loop.
Expected<UnrollCollectReport> collectUnroll(const UnrollCollectOptions& options,
                                            const std::filesystem::path& databasePath);

/// `unroll train` / `unroll eval`.
struct UnrollLearnOptions {
  std::vector<std::filesystem::path> data;  ///< empty = tasks/unroll/data/unroll-<knob>-*.csv
  std::string knob = "unroll";
  std::filesystem::path encoder;
  std::filesystem::path cache;
  bool noCache = false;
  double tolerance = kNearBestTolerance;
  std::filesystem::path out;  ///< train: empty = userModelDirectory("unroll", "unroll-1.0")
  std::string command;        ///< train: recorded in the manifest
  int folds = 5;              ///< eval
  int topK = 3;               ///< eval
  std::uint64_t seed = 1;     ///< eval
  std::string group = "program";  ///< eval folds: program or family
};

/// Trains the knob's head into its folder (the other knob's head there is kept); returns the folder.
Expected<std::filesystem::path> trainUnrollHead(const UnrollLearnOptions& options,
                                                const std::filesystem::path& databasePath);

/// Grouped cross-validation of the knob's head.
Expected<UnrollEvalResult> evaluateUnroll(const UnrollLearnOptions& options,
                                          const std::filesystem::path& databasePath);

/// The shipped head folder.
std::filesystem::path shippedUnrollHeads();

}  // namespace mirtune::unroll
