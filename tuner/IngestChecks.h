// Checks of what an exported folder brings back from another machine before anything of it is stored: paths
// confined to the folder, runner result lines held against the plan that produced them, and OpenCL result
// files held against their run plan. A folder that went elsewhere can come back damaged or edited; nothing in
// it is trusted.
#pragma once

#include "tuner/runner/ProcessPlan.h"
#include "tuner/runner/RunPlan.h"
#include "support/Error.h"
#include "tuner/OpenClRun.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace mirtune {

/// Longest repetition a result may report when its plan sets no timeout (OpenCL plans), seconds: longer is
/// not a measurement but a damaged number.
inline constexpr double kLongestRepetitionSeconds = 24 * 3600;

/// `name`, read from `field` of the file `namedIn`, as a path inside `folder`: relative, no ".." component,
/// and still inside `folder` once symbolic links are resolved. kInvalidInput naming `namedIn`, the field and
/// the value otherwise.
Expected<std::filesystem::path> pathInsideFolder(const std::filesystem::path& folder, const std::string& name,
                                                 const std::filesystem::path& namedIn,
                                                 std::string_view field);

/// Ok when `exported` (a plan-1.json that came back) runs the commands mirtune makes for the same work
/// (`expected`): the same run ids, each with the same argv, environment, unset variables, working folder and
/// build, and those builds with the same argv and environment. Timeouts and repetition limits may differ:
/// they are the settings of the export. kInvalidInput naming `planFile` and the first difference otherwise (a
/// run of another program size, say, under this item's name).
Status checkSameCommands(const runner::ProcessPlan& exported, const runner::ProcessPlan& expected,
                         const std::filesystem::path& planFile);

/// Ok when one run result line is what running `run` can produce: times finite, > 0 and no longer than the
/// run's timeout; as many times as repetitions, within the run's repetition limits (an ok run made at least
/// min_repetitions); median, IQR, minimum and maximum those of the times; warm-ups, wall time and timer
/// consistent. kInvalidInput with a message that names the field (the caller adds file and record).
Status checkRunResult(const runner::ProcessResult& result, const runner::ProcessRun& run);

/// The run lines of a results file by run id, each checked against its run in `plan` (the plan the runner
/// carried out): an id that is not in the plan, a repeated id, a line that does not parse, or a line that
/// fails checkRunResult rejects the whole file (kInvalidInput naming the file, the line and the run id). A
/// last line without its newline is what a runner killed mid-line leaves: ignored, its run has no result.
Expected<std::map<std::string, runner::ProcessResult>> readCheckedRunResults(
    const std::filesystem::path& resultsFile, const runner::ProcessPlan& plan);

/// The outcome `mirtune-run opencl` wrote to `resultFile` for `plan` on `device`, checked first: a known
/// status; kernel, global and local size equal to the plan's; times finite, > 0, at most
/// kLongestRepetitionSeconds, as many as the repetitions and within the plan's limits, with medians and IQRs
/// those of the times; one output per out/inout buffer of the plan with its element type and count, its file
/// inside the result's folder (returned resolved). A missing file is a run_failed result (the runner did not
/// finish); a damaged one is kInvalidInput naming the file and the field.
Expected<DeviceRunResult> readCheckedOpenClResult(const std::filesystem::path& resultFile,
                                                  const runner::RunPlan& plan, const OpenClDevice& device);

/// What an ingest of an exported folder (process or OpenCL plans) found, for its report.
struct IngestCounts {
  std::size_t stored = 0;         ///< measurements stored by this ingest
  std::size_t alreadyStored = 0;  ///< measurements an earlier ingest of the same folder stored
  std::size_t planFolders = 0;    ///< plan folders of the export
  std::size_t notYet = 0;         ///< plan folders without (all their) results yet
  std::size_t missingConfigurations = 0;  ///< configurations without a result in partly measured plan folders

  /// Whether every plan folder and configuration has its result.
  bool complete() const { return notYet == 0 && missingConfigurations == 0; }
};

/// The report line of such an ingest: "<folder>: 12 measurements stored, 4 already stored; 1 of 3 plan
/// folders has no results yet (ingest again when they do)", or "...; all 3 plan folders are in".
std::string ingestCountsText(const std::filesystem::path& folder, const IngestCounts& counts);

}  // namespace mirtune
