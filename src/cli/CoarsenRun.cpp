// `mirtune coarsen FILE --run`, `coarsen collect` (here, or exported for another machine's runner and
// ingested) and `coarsen train --platform local`: coarsened kernels measured against their original on the
// OpenCL devices.
#include "cli/CoarsenOptions.h"
#include "tasks/coarsen/CoarsenCollect.h"
#include "tasks/coarsen/CoarsenRuns.h"
#include "tasks/common/DatabaseCache.h"
#include "cli/DeviceRuns.h"
#include "tasks/common/HeadCandidates.h"
#include "tuner/MeasureCommon.h"
#include "database/CanonicalJson.h"
#include "database/Database.h"
#include "frontend/Coarsening.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Progress.h"
#include "tasks/coarsen/CoarsenExport.h"
#include "tasks/coarsen/CoarsenModel.h"
#include "tasks/coarsen/LocalCoarsen.h"
#include "tuner/IngestChecks.h"
#include "tuner/KernelManifest.h"
#include "tuner/OpenClRun.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace mirtune::cli {

namespace {

namespace fs = std::filesystem;
using namespace mirtune::coarsen;

/// The per-device table of one launch.
std::string variantTable(const std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                         const std::vector<std::optional<int>>& predicted) {
  std::string text;
  for (std::size_t d = 0; d < devices.size(); ++d) {
    const OpenClDevice& device = devices[d];
    text += fmt::format("  device {}:{}  {:<4} {}\n", device.platformIndex, device.deviceIndex, device.type,
                        device.name);
    text += fmt::format("    {:>6}  {:<14}  {:>12}  {:>8}\n", "factor", "status", "kernel", "speedup");
    const std::map<int, double> speedup = speedups(variants, d);
    std::string lastReason;
    int lastRefused = 0;
    for (const Variant& variant : variants) {
      if (variant.refusal) {
        // The transform's reasons hold for every factor: said once, then referred to.
        const std::string reason =
            fmt::format("({}) {}", variant.refusalCode, variant.refusal->substr(0, 200));
        text += fmt::format("    {:>6}  {:<14}  {}\n", variant.factor, "refused",
                            reason == lastReason ? fmt::format("as factor {}", lastRefused) : reason);
        if (reason != lastReason) lastRefused = variant.factor;
        lastReason = reason;
        continue;
      }
      if (variant.overBudget) {
        text += fmt::format("    {:>6}  {:<14}  not measured (--budget)\n", variant.factor, "skipped");
        continue;
      }
      if (variant.devices.size() <= d) continue;
      const DeviceRunResult& result = variant.devices[d];
      if (!variant.measured[d]) {
        text += fmt::format("    {:>6}  {:<14}  {}\n", variant.factor, "skipped", result.message);
        continue;
      }
      auto found = speedup.find(variant.factor);
      text +=
          fmt::format("    {:>6}  {:<14}  {:>12}  {:>8}\n", variant.factor, measureStatusName(result.status),
                      result.status == MeasureStatus::kOk ? formatSeconds(result.medianKernelSeconds) : "-",
                      found != speedup.end() ? fmt::format("{:.2f}x", found->second) : "-");
      if (result.status != MeasureStatus::kOk && !result.message.empty()) {
        text += fmt::format("            {}\n", result.message.substr(0, 300));
      }
    }
    std::optional<int> best = bestFactor(speedup);
    if (!best) {
      text += "    best factor: none (factor 1 did not run ok)\n";
      continue;
    }
    text += fmt::format("    best factor {} ({:.2f}x)", *best, speedup.at(*best));
    if (d < predicted.size() && predicted[d]) {
      const int p = *predicted[d];
      auto found = speedup.find(p);
      if (p == *best) {
        text += fmt::format("; the predicted factor {} was the best", p);
      } else if (found != speedup.end()) {
        text += fmt::format("; the predicted factor {} was not the best ({:.2f}x)", p, found->second);
      } else {
        text += fmt::format("; the predicted factor {} has no ok measurement", p);
      }
    }
    text += "\n";
  }
  return text;
}

nlohmann::json variantsJson(const std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                            const std::vector<std::optional<int>>& predicted) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t d = 0; d < devices.size(); ++d) {
    const std::map<int, double> speedup = speedups(variants, d);
    nlohmann::json factors = nlohmann::json::array();
    for (const Variant& variant : variants) {
      nlohmann::json entry = {{"factor", variant.factor}, {"kernel", variant.kernel}};
      if (variant.refusal) {
        entry["status"] = "refused";
        entry["refusal"] = variant.refusalCode;
        entry["message"] = *variant.refusal;
      } else if (variant.overBudget) {
        entry["status"] = "skipped";
      } else if (variant.devices.size() > d && variant.measured[d]) {
        const DeviceRunResult& result = variant.devices[d];
        entry["status"] = measureStatusName(result.status);
        if (result.status == MeasureStatus::kOk) {
          entry["median_kernel_s"] = result.medianKernelSeconds;
          entry["iqr_kernel_s"] = result.iqrKernelSeconds;
          entry["repetitions"] = result.kernelSeconds.size();
        }
        if (!result.message.empty()) entry["message"] = result.message;
        if (auto found = speedup.find(variant.factor); found != speedup.end())
          entry["speedup"] = found->second;
        entry["global"] = variant.plan->globalSize;
        entry["local"] = variant.plan->localSize;
      } else {
        entry["status"] = "skipped";
      }
      factors.push_back(std::move(entry));
    }
    std::optional<int> best = bestFactor(speedup);
    nlohmann::json device = {
        {"device_index", fmt::format("{}:{}", devices[d].platformIndex, devices[d].deviceIndex)},
        {"name", devices[d].name},
        {"type", devices[d].type},
        {"factors", factors},
        {"best_factor", best ? nlohmann::json(*best) : nlohmann::json(nullptr)}};
    if (d < predicted.size() && predicted[d]) {
      device["predicted_factor"] = *predicted[d];
      device["predicted_best"] = best ? nlohmann::json(*best == *predicted[d]) : nlohmann::json(nullptr);
    }
    list.push_back(std::move(device));
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------
// coarsen FILE --run

}  // namespace

int runCoarsenRun(const CoarsenPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  RunRequest request;
  request.files = options.files;
  request.kernel = options.kernel;
  request.platform = options.platform;
  request.encoder = options.encoder;
  request.heads = options.heads;
  request.compile = *compile;
  request.globalSize = options.globalSize;
  request.localSize = options.localSize;
  request.args = options.args;
  request.budget = std::max(0, options.budget);
  request.dimension = options.dimension;
  request.mode = options.mode;
  request.timeout = options.timeout;
  request.minTime = options.minTime;
  request.databasePath = resolveDatabasePath(global);
  request.noCache = options.noCache;
  request.threads = options.threads;
  auto report = runKernels(request);
  if (!report) return reportError(report.error());
  int status = report->exitStatus();
  for (const Error& failure : report->failures) reportError(failure);
  if (report->runs.empty()) return 1;
  const std::vector<KernelRun>& runs = report->runs;
  const std::vector<OpenClDevice>& devices = report->devices;

  std::string text;
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const KernelRun& run = runs[r];
    std::vector<std::optional<int>> predictedFactors;
    for (const auto& choice : run.predicted)
      predictedFactors.push_back(choice ? std::optional<int>(choice->factor) : std::nullopt);
    nlohmann::json entry = {{"file", run.file},
                            {"kernel", run.kernel},
                            {"dimension", options.dimension},
                            {"mode", coarsenModeName(report->mode)}};
    text += fmt::format("{}  {}\n", run.file, run.kernel);
    if (run.plan) {
      entry["global"] = run.plan->globalSize;
      entry["local"] = run.plan->localSize;
      text += fmt::format("  launch      global {}, local {}; dimension {}, {}\n",
                          formatSizes(run.plan->globalSize), formatSizes(run.plan->localSize),
                          options.dimension, coarsenModeName(report->mode));
    }
    if (!run.predicted.empty() && !report->modelId.empty()) {
      nlohmann::json predictions = nlohmann::json::array();
      std::set<std::string> lines;
      for (std::size_t d = 0; d < run.predicted.size(); ++d) {
        if (!run.predicted[d]) continue;
        predictions.push_back({{"device", devices[d].name},
                               {"factor", run.predicted[d]->factor},
                               {"probability", run.predicted[d]->probability}});
        lines.insert(fmt::format("factor {}, probability {:.3f}", run.predicted[d]->factor,
                                 run.predicted[d]->probability));
      }
      entry["prediction"] = {{"model", report->modelId}, {"per_device", predictions}};
      text += fmt::format("  prediction  {} (heads {})\n", fmt::join(lines, "; "), report->modelId);
    }
    if (run.error) {
      entry["error"] = run.error->message();
      text += fmt::format("  not run: {}\n", run.error->message());
    } else {
      entry["devices"] = variantsJson(run.variants, devices, predictedFactors);
      text += variantTable(run.variants, devices, predictedFactors);
    }
    list.push_back(std::move(entry));
  }
  int written = writeOutput(options.output, options.json ? list.dump(2) + "\n" : text);
  return written != 0 ? written : status;
}

// ---------------------------------------------------------------------------------------------------------
// coarsen collect (here, --export, --ingest)

namespace {

std::string collectCell(const std::vector<Variant>& variants, std::size_t d) {
  const std::map<int, double> speedup = speedups(variants, d);
  std::optional<int> best = bestFactor(speedup);
  if (!best) {
    return variants.front().devices.size() > d
               ? std::string(measureStatusName(variants.front().devices[d].status))
               : "-";
  }
  return fmt::format("{} ({:.2f}x)", *best, speedup.at(*best));
}

std::string collectTable(
    const std::vector<OpenClDevice>& devices,
    const std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>>& rows) {
  std::size_t width = 6;
  for (const auto& row : rows) width = std::max(width, std::get<0>(row).size());
  std::string text;
  for (const OpenClDevice& device : devices)
    text += fmt::format("# device {}:{} {} {}\n", device.platformIndex, device.deviceIndex, device.type,
                        device.name);
  text += "# best factor (speedup of its median kernel time over factor 1) per device\n";
  text += fmt::format("{:<{}}  {:>10}", "kernel", width, "N");
  for (const OpenClDevice& device : devices)
    text += fmt::format("  {:>14}",
                        fmt::format("{}:{} {}", device.platformIndex, device.deviceIndex, device.type));
  text += "\n";
  for (const auto& [kernel, n, cells] : rows) {
    text += fmt::format("{:<{}}  {:>10}", kernel, width, n);
    for (const std::string& cell : cells) text += fmt::format("  {:>14}", cell);
    text += "\n";
  }
  return text;
}

// The measured table (or the ingested one): the best factor per launch and device.
int printCollection(const CollectReport& report, bool ingested) {
  std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>> rows;
  for (const CollectedLaunch& launch : report.launches) {
    std::vector<std::string> cells;
    for (std::size_t d = 0; d < report.devices.size(); ++d) {
      cells.push_back(launch.variants.empty() ? std::string("error") : collectCell(launch.variants, d));
    }
    rows.emplace_back(launch.kernel, launch.n, std::move(cells));
  }
  std::string text = collectTable(report.devices, rows);
  if (ingested) {
    text += fmt::format("# {} of {} measurements ok, recorded in {} (session {}, platform {})\n", report.ok,
                        report.total, report.databasePath, report.sessionId, report.platformFingerprint);
  } else {
    text += fmt::format("# {} of {} measurements ok, recorded in {} (session {})\n", report.ok, report.total,
                        report.databasePath, report.sessionId);
  }
  fmt::print("{}", text);
  return report.ok > 0 && report.recorded ? 0 : 1;
}

}  // namespace

int runCoarsenCollect(const CoarsenCollectOptions& options, const GlobalOptions& global) {
  if (!options.exportFolder.empty() && !options.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  CollectRequest request;
  request.kernels = options.kernels;
  request.sizes = options.sizes;
  request.dimension = options.dimension;
  request.mode = options.mode;
  request.timeout = options.timeout;
  request.minTime = options.minTime;
  request.exportFolder = options.exportFolder;
  request.ingestFolder = options.ingestFolder;
  request.databasePath = resolveDatabasePath(global);
  if (!options.ingestFolder.empty()) {
    auto report = ingestCollection(request);
    if (!report) return reportError(report.error());
    return printCollection(*report, true);
  }
  if (!options.exportFolder.empty()) {
    auto summary = exportCollection(request);
    if (!summary) return reportError(summary.error());
    const std::string folder = fs::path(options.exportFolder).string();
    fmt::print(
        "{}: {} plans for {} kernel launches; run `sh {}/run-all.sh path/to/mirtune-run` there, then `mirtune "
        "coarsen collect --ingest {}`\n",
        folder, summary->plans, summary->launches, folder, folder);
    return 0;
  }
  auto report = collect(request);
  if (!report) return reportError(report.error());
  return printCollection(*report, false);
}

// ---------------------------------------------------------------------------------------------------------
// coarsen train --platform local


}  // namespace mirtune::cli
