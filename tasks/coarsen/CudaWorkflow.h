// CUDA programs coarsened and measured per factor through a tuning session (nvcc builds one binary per factor),
// here, exported for a GPU machine that has only mirtune-run and nvcc, or ingested back from such a folder.
#pragma once

#include "database/Database.h"
#include "frontend/Frontend.h"
#include "support/Error.h"
#include "tasks/coarsen/CoarsenEvaluate.h"
#include "tuner/ProcessMeasurer.h"
#include "tuner/TuningSession.h"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::coarsen {

/// `coarsen FILE.cu --run`: the programs, the prediction and the measurement settings.
struct CudaRunRequest {
  std::vector<std::string> files;
  std::string kernel;            ///< source or IR name; empty: the file's only kernel
  std::string platform = "all";  ///< the PACT'14 GPU whose heads predict ("all": kepler), or local (none)
  std::string encoder;           ///< empty: the shipped encoder
  std::string heads;             ///< empty: the shipped heads
  CompileOptions compile;        ///< its defines and include folders also go to every nvcc build
  unsigned dimension = 0;
  std::string mode = "consecutive";
  int budget = 5;        ///< coarsened factors measured at most (the predicted one first)
  double timeout = 60;   ///< seconds per build and run
  double minTime = 0.2;  ///< seconds of measured repetitions per factor
  std::string nvcc;      ///< empty: nvcc on PATH, else /usr/local/cuda/bin/nvcc ("nvcc" for an export)
  std::string cudaArch;  ///< nvcc -arch value; empty: nvcc's own
  std::string exportFolder;  ///< exportCudaPrograms writes here
  bool resume = false;       ///< continue an interrupted session
  std::string databasePath;
  bool noCache = false;
  int threads = 2;
};

/// One factor of a program: the kernel that runs it, or why there is none.
struct CudaFactor {
  unsigned factor = 1;
  std::string kernel;  ///< the kernel MIRTUNE_KERNEL names
  bool split = false;  ///< split_work_group: the block shrinks instead of the grid
  std::string refusal;
  std::string refusalMessage;
};

/// One measured (or ingested) program: its factors, the prediction and the session's results.
struct CudaProgramRun {
  std::filesystem::path file;
  std::string kernel;               ///< source name
  std::vector<CudaFactor> factors;  ///< factor 1 first, then 2..32 (refused ones included)
  std::optional<FactorChoice> predicted;
  TuningResult result;
};

/// What runCudaPrograms measured. Failures are logged when they happen (in order with the sessions' own
/// lines) and kept here; the other programs are still measured.
struct CudaRunReport {
  std::vector<CudaProgramRun> programs;
  std::vector<Error> failures;
  /// 0 when every session ran and found a correct factor; 1 otherwise (2 when the last failure was kUsage).
  int exitStatus = 0;
};

/// Prepares every program (each accepted factor's kernel added to one source), predicts the factor to try
/// first, then measures factor 1 and the accepted factors in a session per program and records the
/// predictions. Errors: a program that cannot be prepared, no nvcc, the database or the machine probe.
Expected<CudaRunReport> runCudaPrograms(const CudaRunRequest& request);

struct CudaExportSummary {
  std::filesystem::path folder;
  std::size_t programs = 0;
  std::size_t measurements = 0;  ///< factors to measure, all programs together
};

/// As runCudaPrograms, but writes each session's plan, coarsen-cuda.json and run-all.sh to
/// request.exportFolder instead of measuring.
Expected<CudaExportSummary> exportCudaPrograms(const CudaRunRequest& request);

/// What ingestCudaPrograms stored.
struct CudaIngestReport {
  std::filesystem::path folder;  ///< the exported folder
  std::vector<CudaProgramRun> programs;
  std::vector<PlatformRecord> platforms;  ///< the machines that measured them, in order of first use
  IngestCounts counts;                    ///< measurements stored now and before, programs not measured yet
  /// As CudaRunReport::exitStatus, and 1 while results are missing (failures are logged).
  int exitStatus = 0;
};

/// Stores what run-all.sh (or a campaign) measured in a folder of exportCudaPrograms: every item is rebuilt
/// from the export's own options (only `base`'s language, -O and OpenCL options are used) and checked before
/// anything is stored; then each measurement is stored once (keyed by the folder's export-id, the item and
/// the factor) under the machine that measured its item (the item's own platform.json, else the folder's).
/// Items without results yet are counted and left for a later ingest. kInvalidInput when an item fails the
/// checks (nothing stored), kNotFound for another folder.
Expected<CudaIngestReport> ingestCudaPrograms(const std::filesystem::path& folder, const CudaRunRequest& base);

}  // namespace mirtune::coarsen
