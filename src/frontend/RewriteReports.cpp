// JSON and text reports of the OpenMP schedule rewrite, the innermost-loop listing and thread coarsening.
#include "frontend/RewriteReports.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune {

nlohmann::json toJson(const OmpRewriteResult& result, const std::string& file, const std::string& output) {
  nlohmann::json sites = nlohmann::json::array();
  for (const OmpLoopSite& site : result.sites) {
    sites.push_back({{"file", site.file},
                     {"line", site.line},
                     {"column", site.column},
                     {"loop_line", site.loopLine},
                     {"directive", site.directive},
                     {"original_schedule", site.originalSchedule},
                     {"rewritten", site.rewritten},
                     {"runtime_schedule", site.runtimeSchedule},
                     {"note", site.note}});
  }
  return {{"file", file}, {"output", output}, {"rewritten", result.rewrittenCount()}, {"sites", sites}};
}

std::string textReport(const OmpRewriteResult& result, const std::string& output) {
  std::string report;
  for (const OmpLoopSite& site : result.sites) {
    std::string before = site.originalSchedule.empty() ? "(no schedule)" : site.originalSchedule;
    if (site.rewritten) {
      report += fmt::format("{}:{}:{}: omp {}: {} -> {}\n", site.file, site.line, site.column, site.directive,
                            before, kRuntimeScheduleClause);
    } else {
      report += fmt::format("{}:{}:{}: omp {}: unchanged ({})\n", site.file, site.line, site.column,
                            site.directive, site.note);
    }
  }
  report += fmt::format("{} of {} OpenMP loop directive{} rewritten{}\n", result.rewrittenCount(),
                        result.sites.size(), result.sites.size() == 1 ? "" : "s",
                        output.empty() ? "; write the rewritten file with -o OUT" : " into " + output);
  return report;
}

nlohmann::json innermostLoopsJson(const std::vector<LoopSite>& loops, const std::string& file) {
  nlohmann::json sites = nlohmann::json::array();
  for (const LoopSite& loop : loops) {
    sites.push_back({{"file", loop.file},
                     {"function", loop.function},
                     {"line", loop.line},
                     {"column", loop.column},
                     {"kind", loopKindName(loop.kind)},
                     {"depth", loop.depth},
                     {"in_header", loop.inHeader},
                     {"from_macro", loop.fromMacro},
                     {"insertable", loop.insertable},
                     {"existing_pragmas", loop.existingPragmas},
                     {"note", loop.note}});
  }
  return {{"file", file}, {"loops", sites}};
}

std::string innermostLoopsText(const std::vector<LoopSite>& loops) {
  std::string report;
  int insertable = 0;
  for (const LoopSite& loop : loops) {
    insertable += loop.insertable ? 1 : 0;
    report += fmt::format("{}:{}:{}: {} loop in {} (depth {})", loop.file, loop.line, loop.column,
                          loopKindName(loop.kind), loop.function.empty() ? "?" : loop.function, loop.depth);
    for (const std::string& pragma : loop.existingPragmas) report += fmt::format(" [{}]", pragma);
    report += loop.insertable ? "\n" : fmt::format(": {}\n", loop.note);
  }
  report += fmt::format("{} innermost loop{}, {} can take a loop pragma\n", loops.size(),
                        loops.size() == 1 ? "" : "s", insertable);
  return report;
}

nlohmann::json toJson(const CoarsenRequest& request, const CoarsenedKernel& result,
                      const std::optional<NdRange>& range) {
  nlohmann::json summary = {{"file", request.file},
                            {"kernel", request.kernel},
                            {"factor", request.factor},
                            {"dimension", request.dimension},
                            {"mode", request.mode}};
  if (result.refused()) {
    summary["refused"] = coarsenRefusalName(*result.refusal);
    summary["message"] = result.refusalMessage;
    return summary;
  }
  summary["new_kernel"] = result.kernelName;
  summary["scheme"] = workGroupSchemeName(result.scheme);
  summary["launch"] = result.sizeTransform;
  summary["output"] = request.output;
  if (range) {
    summary["global"] = range->global;
    summary["local"] = range->local;
  }
  return summary;
}

std::string textReport(const CoarsenRequest& request, const CoarsenedKernel& result,
                       const std::optional<NdRange>& range) {
  std::string report = fmt::format("{}: {} -> {} (factor {}, dimension {}, {}, {})\nlaunch: {}\n", request.file,
                                   request.kernel, result.kernelName, request.factor, request.dimension,
                                   request.mode, workGroupSchemeName(result.scheme), result.sizeTransform);
  auto sizes = [](const std::vector<std::uint64_t>& size) {
    return size.empty() ? std::string("(driver)") : fmt::format("{}", fmt::join(size, ","));
  };
  if (range) {
    report += fmt::format("NDRange: global {} local {} -> global {} local {}\n",
                          fmt::join(request.globalSize, ","), sizes(request.localSize),
                          fmt::join(range->global, ","), sizes(range->local));
  }
  report += request.output.empty() ? "write the new source (the original kernel kept beside it) with -o OUT\n"
                                   : fmt::format("written to {}\n", request.output);
  return report;
}

}  // namespace mirtune
