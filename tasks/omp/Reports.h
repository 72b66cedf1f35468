// The JSON forms and text tables of the OpenMP results (an app's tuning session, the leave-one-app-out
// evaluation): exactly what `mirtune omp` prints, for any front end.
#pragma once

#include "tasks/omp/OmpModel.h"
#include "tasks/omp/OmpWorkflow.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace mirtune::omp {

/// `omp --app --json`: the app, its arguments, the session, every measured configuration (with its label), the
/// chosen one and the head's first pick.
nlohmann::json toJson(const OmpTuneReport& report, const OmpTuneOptions& options);

/// `omp --app`: one line per measured configuration, then the chosen one with its OMP_* settings (or why none).
std::string textReport(const OmpTuneReport& report, const OmpTuneOptions& options);

/// `omp collect --export FOLDER`: what was written and how to run and ingest it.
std::string textReport(const OmpExportReport& report, const std::string& folder);

/// `omp collect --ingest FOLDER`: the line that counts the measurements stored now and before and the items
/// without results yet (for stderr: stdout names the CSV).
std::string ingestText(const OmpCollectReport& report, const std::string& folder);

/// `omp eval`: the per app-size table and the summary of every strategy, as Markdown; `topK` >= 1.
std::string textReport(const OmpEvalResult& result, std::size_t topK);

}  // namespace mirtune::omp
