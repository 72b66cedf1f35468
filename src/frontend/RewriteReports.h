// The reports of the source rewrites (`mirtune rewrite omp|loops|coarsen`): JSON and text, beside their results.
#pragma once

#include "frontend/Coarsening.h"
#include "frontend/LoopPragmas.h"
#include "frontend/OmpScheduleRewrite.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// The OpenMP schedule rewrite of `file`: every loop directive and what changed. `output` is where the rewritten
/// source was written ("" when it was not).
nlohmann::json toJson(const OmpRewriteResult& result, const std::string& file, const std::string& output);
/// One line per directive ("file:line:col: omp for: X -> schedule(runtime)" or "unchanged (why)") and a total.
std::string textReport(const OmpRewriteResult& result, const std::string& output);

/// The innermost loops of `file` and whether each can take a loop pragma.
nlohmann::json innermostLoopsJson(const std::vector<LoopSite>& loops, const std::string& file);
/// One line per loop (kind, function, depth, existing pragmas, why not insertable) and a total.
std::string innermostLoopsText(const std::vector<LoopSite>& loops);

/// What was asked of a thread coarsening: the kernel, factor, dimension and mode, and the original launch.
struct CoarsenRequest {
  std::string file;
  std::string kernel;
  unsigned factor = 2;
  unsigned dimension = 0;
  std::string mode = "consecutive";      ///< "consecutive" or "strided"
  std::vector<std::uint64_t> globalSize;  ///< the original launch (empty: none given)
  std::vector<std::uint64_t> localSize;   ///< empty: the driver's choice
  std::string output;                     ///< where the new source was written ("" when it was not)
};

/// {file, kernel, factor, dimension, mode} and then either {refused, message} for a refused kernel or
/// {new_kernel, scheme, launch, output} and, when a launch was checked, {global, local}.
nlohmann::json toJson(const CoarsenRequest& request, const CoarsenedKernel& result,
                      const std::optional<NdRange>& range);
/// "FILE: K -> K_cfF (factor, dimension, mode, scheme)", the launch, the NDRange when checked, and where the
/// source went. For a coarsened (not refused) kernel.
std::string textReport(const CoarsenRequest& request, const CoarsenedKernel& result,
                       const std::optional<NdRange>& range);

}  // namespace mirtune
