// The JSON forms and text tables of the unroll results (a file's predicted and measured factors, the
// cross-validation): exactly what `mirtune unroll` prints, for any front end.
#pragma once

#include "tasks/unroll/UnrollModel.h"
#include "tasks/unroll/UnrollWorkflow.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace mirtune::unroll {

/// `unroll FILE --json`: per loop its site, the head's pick (factors, pragma, score) and, with run, the session's
/// results and chosen configuration; "applied" names the rewritten source with apply.
nlohmann::json toJson(const UnrollFileReport& report, const UnrollFileOptions& options);

/// `unroll FILE`: one line per predicted loop, then per measured loop its configurations and the chosen one.
std::string textReport(const UnrollFileReport& report, const UnrollFileOptions& options);

/// False when a measured loop had no configuration that ran correctly.
bool everyMeasuredLoopChose(const UnrollFileReport& report);

/// `unroll eval`: the strategies' summary, the folds (grouped by family) and the per-loop table, as Markdown;
/// `topK` >= 1, `group` is program or family.
/// `unroll collect --export`: what was written and what to do next.
std::string textReport(const UnrollExportReport& report, const std::string& folder);

std::string textReport(const UnrollEvalResult& result, Knob knob, std::size_t topK, const std::string& group);

}  // namespace mirtune::unroll
