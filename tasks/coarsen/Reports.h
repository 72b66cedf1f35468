// The JSON forms and text reports of coarsen's results, exactly as `mirtune coarsen` prints them, so that any
// front end prints the same bytes.
#pragma once

#include "tasks/coarsen/CoarsenCollect.h"
#include "tasks/coarsen/CoarsenRuns.h"
#include "tasks/coarsen/CudaWorkflow.h"
#include "tasks/coarsen/EvalWorkflow.h"
#include "tasks/coarsen/Workflows.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mirtune::coarsen {

// Prediction (`coarsen FILE`).

/// One line per answer: file, kernel, platform (hardware), factor and probability.
std::string textReport(const PredictOutcome& outcome);
/// A list of {file, kernel, platform, hardware, factor, probability}.
nlohmann::json toJson(const PredictOutcome& outcome);

// Measurement of OpenCL kernels (`coarsen FILE --run`).

/// The per-device table of one launch's variants, with whether the predicted factor (per device) was the best.
std::string variantTable(const std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                         const std::vector<std::optional<int>>& predicted);
/// The same per device: {device_index, name, type, factors, best_factor[, predicted_factor, predicted_best]}.
nlohmann::json variantsJson(const std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                            const std::vector<std::optional<int>>& predicted);
/// Every kernel run: its launch, prediction and table (or why it did not run).
std::string textReport(const RunReport& report);
/// A list of {file, kernel, dimension, mode[, global, local][, prediction], devices | error}.
nlohmann::json toJson(const RunReport& report);

// Collection (`coarsen collect`).

/// The best factor per launch and device, with a closing line naming the database and session (and, for an
/// ingested collection, each measuring platform with its session, and what the ingest stored new, found stored
/// already and found not measured yet).
std::string textReport(const CollectReport& report, bool ingested);
/// The line that tells where an exported collection went and how to run and ingest it.
std::string exportText(const std::filesystem::path& folder, const ExportSummary& summary);

// CUDA programs (`coarsen FILE.cu --run`, --export, --ingest).

/// One program: its session, each measured factor, the refused ones and the best.
std::string textReport(const CudaProgramRun& run);
/// {file, kernel, session, results, refused[, predicted][, best]}.
nlohmann::json toJson(const CudaProgramRun& run);
std::string textReport(const CudaRunReport& report);
nlohmann::json toJson(const CudaRunReport& report);
/// The programs' reports, then the platforms they were stored as (one line each) and the line that counts the
/// measurements stored now and before and the programs without results yet.
std::string textReport(const CudaIngestReport& report);
nlohmann::json toJson(const CudaIngestReport& report);
/// The line that tells where the export went and how to run and ingest it.
std::string exportText(const CudaExportSummary& summary);

// Evaluation (`coarsen eval`).

/// The published rows and mirtune's row as a Markdown table, with the per-platform scores.
std::string textReport(const EvaluationReport& report);
/// The result's JSON with the options and the data set's facts added.
nlohmann::json toJson(const EvaluationReport& report);
/// One CSV row per (platform, kernel): oracle, predicted and clipped factor, probability and speedups.
std::string predictionsCsv(const EvaluationReport& report);

}  // namespace mirtune::coarsen
