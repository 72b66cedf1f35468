// `coarsen collect` as library calls: every factor of a kernel suite's launches measured against factor 1 on
// this machine's OpenCL devices and recorded (task kCoarsenCollectTask), or written to a folder that another
// machine's runner measures alone (run-all.sh) and ingested back once every result passes its checks.
#pragma once

#include "support/Error.h"
#include "tasks/coarsen/CoarsenRuns.h"
#include "tuner/IngestChecks.h"
#include "tuner/KernelManifest.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::coarsen {

struct CollectRequest {
  std::string kernels;        ///< folder of kernel manifests; empty: kernelSuiteDirectory()
  std::string sizes = "all";  ///< "all" or comma-separated indices into each manifest's sizes
  unsigned dimension = 0;
  std::string mode = "consecutive";
  double timeout = 60;
  double minTime = 0.2;
  std::string exportFolder;  ///< exportCollection: where the plans and run-all.sh go
  std::string ingestFolder;  ///< ingestCollection: the exported folder after run-all.sh ran in it
  std::string databasePath;
};

/// One (manifest, N): its variants with their per-device results; none when it could not be planned.
struct CollectedLaunch {
  std::string kernel;  ///< the manifest's name
  std::int64_t n = 0;
  std::vector<Variant> variants;
};

/// An ingested collection's measuring machine and the session its new measurements went to.
struct IngestedPlatform {
  std::string fingerprint;
  std::int64_t sessionId = 0;  ///< 0: nothing of it was stored new, so no session was begun
};

struct CollectReport {
  std::vector<OpenClDevice> devices;      ///< ingested: every device any plan folder was measured on
  std::vector<CollectedLaunch> launches;  ///< ingested: those measured (not those with no results yet)
  std::size_t ok = 0, total = 0;  ///< measured (variant, device) pairs
  std::string databasePath;
  std::int64_t sessionId = 0;
  std::string platformFingerprint;  ///< ingested: the measuring machine's (the first one's, when several)
  std::vector<IngestedPlatform> platforms;  ///< ingested: every measuring machine, in the folder's order
  std::optional<IngestCounts> ingest;  ///< ingested: stored new, already stored, not measured yet
  std::string ingestedFolder;                ///< ingested: the folder read
  bool recorded = true;
};

/// Measures here, every factor of every selected launch on every device.
Expected<CollectReport> collect(const CollectRequest& request);

struct ExportSummary {
  std::size_t plans = 0;
  std::size_t launches = 0;
};

/// Writes the coarsened sources, runner plans, collection.json, run-all.sh and a new export-id
/// (writeExportId) to request.exportFolder.
Expected<ExportSummary> exportCollection(const CollectRequest& request);

/// Stores what run-all.sh (or campaign tasks, plan folder by plan folder) measured in request.ingestFolder,
/// each plan folder under the platform of the machine that measured it (machineRecordFolder), each
/// measurement once (by its ingest key: an ingest again stores only what is new, and begins no session when
/// nothing is). Plan folders with no results yet are left for a later ingest (report.ingest counts them).
/// Nothing is stored when any file fails its checks (kInvalidInput naming the file and field).
Expected<CollectReport> ingestCollection(const CollectRequest& request);

}  // namespace mirtune::coarsen
