// The process-plan measurement backend: each batch becomes one round of `mirtune-run process` (build the
// configurations' programs, run them, check their output against the default's), every result is stored in
// SQLite as it arrives, an interrupted session resumes from its work folder, and a batch can be exported to a
// folder for another machine and its results ingested back.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "tuner/IngestChecks.h"
#include "tuner/Measurement.h"
#include "tuner/TuningSession.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Which exported plan folder an ingest reads, so that each of its measurements is stored once however often
/// the folder is ingested (MeasurementRecord::ingestKey).
struct IngestIdentity {
  std::string exportId;    ///< the exported folder's identity (exportId in tuner/MeasureCommon.h)
  std::string planFolder;  ///< the plan folder's name inside the exported folder, as its index names it
};

/// The ingest key of one configuration measured in a process plan folder: the configuration's canonical
/// SHA-256 is the unit (ingestKey in tuner/MeasureCommon.h).
std::string processIngestKey(const IngestIdentity& identity, const Configuration& configuration);

/// Where a ProcessMeasurer measures and records.
struct ProcessTarget {
  Database* database = nullptr;    ///< null: only exportBatch works (it stores nothing)
  std::int64_t platformId = 0;     ///< the machine results are stored for (for ingest: the measuring one's)
  std::string platformFingerprint;  ///< this machine's, compared when resuming
  std::filesystem::path runner;     ///< the mirtune-run executable
};

/// The machines that measured the plan folders of an exported folder, each platform.json read once: a plan
/// folder's own (a campaign node wrote it) or else the exported folder's (run-all.sh wrote it), as
/// machineRecordFolder in tuner/MeasureCommon.h decides.
class ExportedMachines {
 public:
  explicit ExportedMachines(std::filesystem::path exported);

  /// The machine that measured plan folder `item`: exportedPlatform's error (naming the file, saying to run
  /// run-all.sh) when neither folder has a platform.json, or when it is damaged.
  Expected<const PlatformRecord*> platformFor(const std::filesystem::path& item);

  /// The exported folder's machine when it has a platform.json, else that of the first of `items` with one;
  /// exportedPlatform's error for the exported folder when none has (nothing was run yet).
  Expected<const PlatformRecord*> firstRecorded(const std::vector<std::filesystem::path>& items);

 private:
  Expected<const PlatformRecord*> read(const std::filesystem::path& recordFolder);

  std::filesystem::path exported_;
  std::map<std::filesystem::path, std::unique_ptr<PlatformRecord>> byFolder_;
};

/// The plan folders the items of an export index name (their "folder"), those inside `exported` (an item
/// naming another place is refused where the items are checked).
std::vector<std::filesystem::path> exportedPlanFolders(const std::filesystem::path& exported,
                                                       const nlohmann::json& items);

/// What ingestPlanFolder did with one plan folder of an exported folder.
struct PlanFolderIngest {
  /// Every result of the folder in plan order, scored, whether stored now or before. sessionId: the session
  /// this ingest stored them in; 0 when all of them were stored before.
  TuningResult tuning;
  std::size_t stored = 0;         ///< measurements stored now
  std::size_t alreadyStored = 0;  ///< measurements stored by an earlier ingest (same ingest key)
  std::size_t missing = 0;        ///< configurations without a result line
};

/// Checks an exported plan folder (checkTuningResults) and stores each of its results once under
/// `platformId`, keyed by `identity`: nothing is stored unless the whole folder passes, and a session is
/// begun only when something new is stored.
Expected<PlanFolderIngest> ingestPlanFolder(Database& database, std::int64_t platformId,
                                            const TuningRequest& request, const std::filesystem::path& folder,
                                            const IngestIdentity& identity);

/// An exported collection's plan folders (one tuning request each, as `omp collect` and `unroll collect` export
/// them), checked all before any is stored, then stored one by one, each under the machine that measured it.
class CollectionIngest {
 public:
  explicit CollectionIngest(IngestCounts& counts) : counts_(counts) {}

  /// Checks one plan folder (checkTuningResults): true when its results pass. A folder without results yet
  /// counts in notYet (a warning), one whose results fail counts as rejected (an error); both name `label`.
  bool check(const TuningRequest& request, const std::filesystem::path& folder, const std::string& label);
  /// A plan folder that could not be checked at all (its path is refused), logged with the reason.
  void reject(const Error& why);
  /// kInvalidInput naming `exported` when any of its `items` plan folders was rejected: nothing is stored then.
  Status refuseIfRejected(const std::filesystem::path& exported, std::size_t items) const;

  /// Stores a checked plan folder's results once (keyed by `identity`) under `platform` (stored once per
  /// fingerprint), adds what it stored to the counts, and returns all of its results, whichever ingest stored them.
  Expected<std::vector<MeasurementRecord>> store(Database& database, const PlatformRecord& platform,
                                                 const TuningRequest& request, const std::filesystem::path& folder,
                                                 const IngestIdentity& identity);

 private:
  IngestCounts& counts_;
  std::size_t rejected_ = 0;
  std::map<std::string, std::int64_t> platformIds_;  // fingerprint -> id
};

/// The commands of each configuration from a request's command factory, as a batch for a ProcessMeasurer.
Expected<std::vector<MeasureInput>> processInputs(const TuningRequest& request,
                                                  const std::vector<Configuration>& configurations);

/// Speedups over the first result (the baseline) and the fastest correct configuration.
void scoreTuningResult(TuningResult& result);

/// One tuning session's measurements through `mirtune-run process`. The request gives the task, the
/// session's identity (options and workload), the files written into the work folder, the settings, the
/// output check and resume/force; its planner is not used here (TuningSession's search loop calls it).
/// The first configuration this measurer ever measures is the session's baseline: later outputs are checked
/// against its output and, with settings.relativeTimeout, later runs are stopped relative to its time.
class ProcessMeasurer final : public Measurer {
 public:
  ProcessMeasurer(TuningRequest request, ProcessTarget target);
  ~ProcessMeasurer() override;
  ProcessMeasurer(const ProcessMeasurer&) = delete;
  ProcessMeasurer& operator=(const ProcessMeasurer&) = delete;

  std::string_view kind() const override { return "process"; }

  /// Claims and locks the work folder and begins the session, or (request.resume) continues the interrupted
  /// one: kNotFound when there is none, kInvalidInput when it finished or was measured on another platform
  /// (unless force). measure() opens the session itself when this was not called.
  Status open();

  /// Measures the batch as the session's next round (resumed: finds what an interrupted run of this round
  /// already measured). Results come in batch order, one per input; inputs must carry CandidateCommands and
  /// configurations of the request's space. An empty batch measures nothing and records that the search
  /// ended its planning there. The work folder's candidates-<round>.json records the batch before it runs.
  Expected<std::vector<MeasureResult>> measure(const std::vector<MeasureInput>& batch) override;

  /// Writes a self-contained folder (the request's files, candidates-1.json, plan-1.json, export.json) that
  /// measures the batch in one round on any machine; the batch's first configuration must be the default.
  Status exportBatch(const std::vector<MeasureInput>& batch, const std::filesystem::path& folder) override;

  /// Checks an exported folder (see checkTuningResults) and stores its results as a finished session of
  /// target.platformId, all or nothing (after keyIngestBy: those not stored before). An empty batch takes the
  /// folder's own configurations (each checked against the request's space); otherwise they must be the
  /// batch's, in order. Configurations the runner left without a result are not in the answer (see
  /// missing()).
  Expected<std::vector<MeasureResult>> ingest(const std::vector<MeasureInput>& batch,
                                              const std::filesystem::path& folder) override;

  /// Keys what ingest() stores: every measurement carries its ingest key and is stored once (one stored
  /// before is counted in alreadyStored()), and the session is begun only when something new is stored.
  /// Without it every ingest stores all results as a new session.
  void keyIngestBy(IngestIdentity identity);

  /// Checks an exported folder as ingest() does, storing nothing.
  Status checkExported(const std::filesystem::path& folder, const std::vector<MeasureInput>& batch = {}) const;

  /// The configurations an interrupted run of this session had planned for the next round (its saved
  /// candidates-<round>.json), when resuming and there is one.
  Expected<std::optional<std::vector<Configuration>>> savedBatch();

  /// True when the session measured (or found) this configuration already.
  bool hasMeasured(const Configuration& configuration) const;

  /// Everything measured so far, in measurement order (the baseline first).
  const std::vector<TunedConfiguration>& results() const;

  /// Ends the session (database and session.json) and scores the results: speedups over the baseline, the
  /// fastest correct configuration.
  Expected<TuningResult> finish();

  std::int64_t sessionId() const;
  bool resumed() const;
  const std::filesystem::path& workDirectory() const;
  /// Results of the last ingest() that had no result line.
  std::size_t missing() const;
  /// Results of the last ingest() that an earlier ingest had stored already (same ingest key).
  std::size_t alreadyStored() const;

 private:
  class Engine;
  std::unique_ptr<Engine> engine_;
};

}  // namespace mirtune
