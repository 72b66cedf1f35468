// The JSON forms and text reports of the device-mapping results (predictions, --run reports, collect tables,
// evaluation tables) and the batch CSV read by `devmap predict --input`: exactly what `mirtune devmap` prints, for any front end.
#pragma once

#include "tasks/devmap/EvalWorkflow.h"
#include "tasks/devmap/Predict.h"
#include "tasks/devmap/Workflows.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mirtune::devmap {

/// The answered predictions (failed ones left out) as a JSON list of {file, kernel, device, probability, platform,
/// transfer, wgsize}; `platform` is the --platform value.
nlohmann::json predictionsJson(const std::vector<KernelPrediction>& predictions, const std::string& platform);

/// One line "FILE  KERNEL  DEVICE  probability P" per answered prediction.
std::string predictionsText(const std::vector<KernelPrediction>& predictions);

/// The line naming what the answers assume: hardware of `platform`, transfer bytes and work-group size, each
/// marked when it is the default.
std::string predictionAssumptions(const std::string& platform, double transfer, bool defaultTransfer, double wgsize,
                                  bool defaultWgsize);

/// Reads the batch CSV: a file column, optional kernel (empty: every kernel), transfer and wgsize columns (empty:
/// the defaults); errors name the file and row.
Expected<std::vector<KernelQuery>> readKernelQueries(const std::string& path);

/// The batch CSV: file,kernel,transfer,wgsize,device,probability,error, one row per prediction (failed ones with
/// their error).
std::string predictionsCsv(const std::vector<KernelPrediction>& predictions);

/// `devmap FILE --run`: a JSON list with per kernel its launch, prediction, devices and verdict.
nlohmann::json toJson(const RunReport& report, const RunRequest& request);

/// `devmap FILE --run`: per kernel its launch, prediction, one line per device and the verdict.
std::string textReport(const RunReport& report, const RunRequest& request);

/// `devmap collect`: the devices, then per kernel and size the median time with transfers on each device.
std::string textReport(const CollectReport& report);
/// The same as JSON: {devices: [{device_index, type, name}], rows: [{kernel, n, devices: [each device's result as
/// `--run --json` gives it]}], ok, total, database, session}.
nlohmann::json toJson(const CollectReport& report);

/// `devmap eval --json`: the request's choices, the embedding's coverage, and per split name {outer_folds,
/// amd, nvidia, references: {always_cpu, always_gpu, best_fixed, aux}} (each reference keyed by platform).
nlohmann::json toJson(const EvalReport& report);

/// `devmap eval`: a header, then per platform one line per method (learned, aux only, fixed devices) with the
/// splits side by side.
std::string textReport(const EvalReport& report);

/// `devmap eval --predictions`: every evaluated row's prediction as CSV.
std::string predictionsCsv(const EvalReport& report);

}  // namespace mirtune::devmap
