// One measurement interface for every kind of plan mirtune runs: a batch of inputs in, results out, a failure
// being a result like any other. Two backends sit behind it: OpenClMeasurer (a kernel launch on each OpenCL
// device, tuner/OpenClMeasurer.h) and ProcessMeasurer (commands that build and run a program,
// tuner/ProcessMeasurer.h). A backend records each result in the database as it arrives, finds what a resumed
// session already measured instead of measuring it again, writes a batch to a folder for another machine, and
// stores that folder's results back once they pass every check.
#pragma once

#include "database/MeasureStatus.h"
#include "support/Error.h"
#include "tuner/OpenClRun.h"
#include "tuner/TuningSession.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mirtune {

/// What one measurement runs.
struct MeasureInput {
  /// What the database records as the measurement's configuration (an OpenCL backend adds the device).
  nlohmann::json configuration = nlohmann::json::object();
  /// The plan: an OpenCL launch (OpenClMeasurer) or the commands that build and run a program
  /// (ProcessMeasurer). A backend given the other kind answers kInvalidInput.
  std::variant<OpenClRunRequest, CandidateCommands> plan;
  /// The source file the measurement's workload row names; empty = the backend's own workload.
  std::filesystem::path workload;
};

/// One outcome. An OpenCL input gives one result per device, a process input one; `input` lines a result up
/// with its input in the batch.
struct MeasureResult {
  std::size_t input = 0;
  std::string device;  ///< "P:D TYPE name" for OpenCL, empty for process plans
  MeasureStatus status = MeasureStatus::kRunFailed;
  std::string message;          ///< why it failed; empty when ok
  std::vector<double> samples;  ///< measured repetitions, seconds (which time: the backend's documentation)
  std::optional<double> median;  ///< seconds, when ok
  std::optional<double> spread;  ///< interquartile range of samples, seconds, when ok
  bool reused = false;           ///< found already measured by a resumed session, not run now
  /// The backend's whole result, for callers that need more (output files, build log, speedup).
  std::variant<std::monostate, DeviceRunResult, TunedConfiguration> detail;
};

/// A measurement backend. Calls line up by index: measure(batch)[i].input names batch[...] it belongs to, and
/// results come in batch order.
class Measurer {
 public:
  virtual ~Measurer() = default;

  /// "opencl" or "process".
  virtual std::string_view kind() const = 0;

  /// Measures (or, resuming, finds) every input and records each result as it arrives. An error only when
  /// nothing can be measured at all (no runner, no device, the work folder refused, the database gone).
  virtual Expected<std::vector<MeasureResult>> measure(const std::vector<MeasureInput>& batch) = 0;

  /// Writes a self-contained folder that measures the batch on another machine (`mirtune-run` plans and a
  /// run-all.sh); nothing is measured or stored.
  virtual Status exportBatch(const std::vector<MeasureInput>& batch, const std::filesystem::path& folder) = 0;

  /// Checks an exported folder's results against the batch and stores them, all or nothing; kInvalidInput
  /// naming the file and record when any check fails.
  virtual Expected<std::vector<MeasureResult>> ingest(const std::vector<MeasureInput>& batch,
                                                      const std::filesystem::path& folder) = 0;
};

}  // namespace mirtune
