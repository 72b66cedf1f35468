// The process-plan measurement backend: each batch becomes one round of `mirtune-run process` (build the
// configurations' programs, run them, check their output against the default's), every result is stored in
// SQLite as it arrives, an interrupted session resumes from its work folder, and a batch can be exported to a
// folder for another machine and its results ingested back.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "tuner/Measurement.h"
#include "tuner/TuningSession.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Where a ProcessMeasurer measures and records.
struct ProcessTarget {
  Database* database = nullptr;    ///< null: only exportBatch works (it stores nothing)
  std::int64_t platformId = 0;     ///< the machine results are stored for (for ingest: the exporting one's)
  std::string platformFingerprint;  ///< this machine's, compared when resuming
  std::filesystem::path runner;     ///< the mirtune-run executable
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
  /// target.platformId, all or nothing. An empty batch takes the folder's own configurations (each checked
  /// against the request's space); otherwise they must be the batch's, in order. Configurations the runner
  /// left without a result are not in the answer (see missing()).
  Expected<std::vector<MeasureResult>> ingest(const std::vector<MeasureInput>& batch,
                                              const std::filesystem::path& folder) override;

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

 private:
  class Engine;
  std::unique_ptr<Engine> engine_;
};

}  // namespace mirtune
