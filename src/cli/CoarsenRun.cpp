// `mirtune coarsen FILE --run`, `coarsen collect` (here, or exported for another machine's runner and
// ingested) and `coarsen train --platform local`: coarsened kernels measured against their original on the
// OpenCL devices.
#include "cli/CoarsenOptions.h"
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

/// The (manifest, N) pairs --sizes selects.
Expected<std::vector<std::pair<const KernelManifest*, std::int64_t>>> collectWork(
    const std::vector<KernelManifest>& suite, const std::string& sizes) {
  auto indices = parseSizeIndices(sizes);
  if (!indices) return indices.error();
  std::vector<std::pair<const KernelManifest*, std::int64_t>> work;
  for (const KernelManifest& manifest : suite) {
    if (indices->empty()) {
      for (std::int64_t n : manifest.sizes) work.emplace_back(&manifest, n);
      continue;
    }
    for (std::size_t index : *indices) {
      if (index < manifest.sizes.size()) {
        work.emplace_back(&manifest, manifest.sizes[index]);
      } else {
        logWarn("{}: no size index {} (it has {} sizes); skipped", manifest.name, index,
                manifest.sizes.size());
      }
    }
  }
  return work;
}

nlohmann::json collectLaunch(const KernelManifest& manifest, std::int64_t n, const runner::RunPlan& plan) {
  return {{"kernel", manifest.kernel}, {"manifest", manifest.name}, {"n", n},
          {"global", plan.globalSize}, {"local", plan.localSize},   {"build_options", plan.buildOptions}};
}

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

// The script that measures an exported collection on another machine with the runner alone.
constexpr const char* kRunAllScript = R"sh(#!/bin/sh
# Measures every exported coarsening plan with the runner alone, on every OpenCL device (or the P:D given):
#   sh run-all.sh [path/to/mirtune-run] [P:D ...]
# Then bring this folder back and store it: mirtune coarsen collect --ingest <this folder>
set -u
runner=${1:-mirtune-run}
[ $# -gt 0 ] && shift
case "$runner" in /*) ;; */*) runner="$(pwd)/$runner" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
"$runner" probe --json > "$here/probe.json" || { echo "run-all.sh: the runner cannot list the OpenCL devices" >&2; exit 1; }
if [ $# -gt 0 ]; then
  devices="$*"
else
  # probe --json is indented by 2: a platform object opens at 4 spaces, a device object at 8.
  devices=$(awk '/^    \{$/ { p++; d = -1 } /^        \{$/ { d++; printf "%d:%d\n", p - 1, d }' "$here/probe.json")
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/"/ /g')
# Bytes by shell arithmetic, which is 64-bit: awk's printf "%d" stops at 2^31 - 1 in mawk.
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
mem=$(( ${mem_kb:-0} * 1024 ))
os=$( (. /etc/os-release && echo "$PRETTY_NAME") | sed 's/"/ /g')
printf '{"cpu_model": "%s", "cores": %s, "memory_bytes": %s, "os": "%s; %s"}\n' "$cpu" "$(nproc)" "$mem" "$os" "$(uname -srm)" > "$here/platform.json"
for plan in "$here"/*/f*.plan.json; do
  dir=$(dirname "$plan")
  name=$(basename "$plan" .plan.json)
  for device in $devices; do
    out="$dir/$name.device-$(echo "$device" | tr ':' '-')"
    mkdir -p "$out/outputs"
    (cd "$out" && "$runner" opencl --plan "$plan" --device "$device" --out result.json > /dev/null) ||
      echo "run-all.sh: $plan on $device did not run ok (see $out/result.json)" >&2
  done
done
echo "$devices" > "$here/devices.txt"
)sh";

int exportCollect(const CoarsenCollectOptions& options, const fs::path& directory,
                  const std::vector<std::pair<const KernelManifest*, std::int64_t>>& work, CoarsenMode mode) {
  const fs::path folder = options.exportFolder;
  nlohmann::json index = {{"kernels", fs::absolute(directory).string()},
                          {"dimension", options.dimension},
                          {"mode", coarsenModeName(mode)},
                          {"items", nlohmann::json::array()}};
  std::size_t plans = 0;
  for (const auto& [manifest, n] : work) {
    auto plan = makeRunPlan(*manifest, n);
    if (!plan) return reportError(plan.error());
    plan->minTimeSeconds = options.minTime;
    const std::string name = fmt::format("{}-N{}", manifest->name, n);
    const fs::path itemFolder = folder / name;
    fs::create_directories(itemFolder);
    auto variants = makeVariants(manifest->source, manifest->kernel, *plan, factorOrder({}),
                                 options.dimension, mode, static_cast<int>(kFactors.size()), itemFolder);
    if (!variants) return reportError(variants.error());
    nlohmann::json factors = nlohmann::json::array();
    for (Variant& variant : *variants) {
      nlohmann::json entry = {{"factor", variant.factor}, {"kernel", variant.kernel}};
      if (variant.refusal) {
        entry["refusal"] = variant.refusalCode;
        entry["message"] = *variant.refusal;
        factors.push_back(std::move(entry));
        continue;
      }
      // Self-contained: the source beside the plan (relative), outputs into the current folder of the run.
      runner::RunPlan exported = *variant.plan;
      if (variant.factor == 1) {
        auto text = readFile(manifest->source);
        if (!text) return reportError(text.error());
        if (auto written = writeFileAtomically(itemFolder / "original.cl", *text); !written)
          return reportError(written.error());
        exported.source = "original.cl";
      } else {
        exported.source = fs::path(variant.plan->source).filename().string();
      }
      exported.outputDirectory = "outputs";
      const std::string planName = fmt::format("f{}.plan.json", variant.factor);
      if (auto written =
              writeFileAtomically(itemFolder / planName, runner::runPlanToJson(exported).dump(2) + "\n");
          !written) {
        return reportError(written.error());
      }
      entry["plan"] = planName;
      factors.push_back(std::move(entry));
      ++plans;
    }
    index["items"].push_back(
        {{"folder", name}, {"manifest", manifest->name}, {"n", n}, {"factors", factors}});
  }
  if (auto written = writeFileAtomically(folder / "collection.json", index.dump(2) + "\n"); !written) {
    return reportError(written.error());
  }
  if (auto written = writeFileAtomically(folder / "run-all.sh", kRunAllScript); !written)
    return reportError(written.error());
  fmt::print(
      "{}: {} plans for {} kernel launches; run `sh {}/run-all.sh path/to/mirtune-run` there, then `mirtune "
      "coarsen collect --ingest {}`\n",
      folder.string(), plans, work.size(), folder.string(), folder.string());
  return 0;
}

/// One device's result of an exported plan (checked against the plan), its outputs checked against
/// `expected` (when given). A damaged result is an error; a missing or failed run is a result.
Expected<DeviceRunResult> ingestResult(const fs::path& resultFile, const OpenClDevice& device,
                                       const runner::RunPlan& plan,
                                       const std::function<Status(ReferenceArgs&)>& expected,
                                       const std::string& expectedName, const Tolerance& tolerance) {
  auto checked = readCheckedOpenClResult(resultFile, plan, device);
  if (!checked) return checked.error();
  DeviceRunResult result = std::move(*checked);
  if (result.status != MeasureStatus::kOk || !expected) return result;
  ReferenceArgs want = makeReferenceArgs(plan);
  if (Status computed = expected(want); !computed) {
    result.status = MeasureStatus::kRunFailed;
    result.message = computed.error().message();
    return result;
  }
  ReferenceArgs got = makeReferenceArgs(plan);
  if (Status loaded = loadOutputs(plan, result, resultFile.parent_path(), got); !loaded) {
    result.status = MeasureStatus::kRunFailed;
    result.message = loaded.error().message();
    return result;
  }
  for (std::size_t i = 0; i < plan.args.size(); ++i) {
    const runner::ArgSpec& arg = plan.args[i];
    if (arg.kind != runner::ArgKind::kBuffer || arg.role == runner::ArgRole::kIn) continue;
    if (auto mismatch = compareBuffers(got.buffers[i], want.buffers[i], tolerance, arg.name)) {
      result.status = MeasureStatus::kWrongOutput;
      result.message = fmt::format("{} ({})", *mismatch, expectedName);
      break;
    }
  }
  return result;
}

/// One exported factor of an item: its entry in collection.json and, unless refused, its checked plan.
Expected<Variant> exportedVariant(const nlohmann::json& entry, const std::string& where,
                                  const fs::path& indexFile, const fs::path& itemFolder,
                                  const runner::RunPlan& original, unsigned dimension) {
  if (!entry.is_object())
    return makeError(ErrorCode::kInvalidInput, "{}: '{}' must be an object", indexFile.string(), where);
  Variant variant;
  auto factor = indexInteger(entry, "factor", indexFile, where + ".factor", 1, kFactors.back());
  if (!factor) return factor.error();
  variant.factor = static_cast<int>(*factor);
  auto kernel = indexString(entry, "kernel", indexFile, where + ".kernel");
  if (!kernel) return kernel.error();
  variant.kernel = *kernel;
  if (entry.contains("refusal")) {
    auto code = indexString(entry, "refusal", indexFile, where + ".refusal");
    if (!code) return code.error();
    auto message = indexString(entry, "message", indexFile, where + ".message", "");
    if (!message) return message.error();
    variant.refusalCode = *code;
    variant.refusal = *message;
    return variant;
  }
  auto planName = indexString(entry, "plan", indexFile, where + ".plan");
  if (!planName) return planName.error();
  auto planFile = pathInsideFolder(itemFolder, *planName, indexFile, where + ".plan");
  if (!planFile) return planFile.error();
  auto planText = readFile(*planFile);
  if (!planText) return planText.error();
  runner::RunPlan plan;
  std::string error;
  bool parsed = false;
  try {
    parsed = runner::parseRunPlan(nlohmann::json::parse(*planText, nullptr, false), plan, error);
  } catch (const nlohmann::json::exception& e) {
    error = e.what();
  }
  if (!parsed) return makeError(ErrorCode::kInvalidInput, "{}: {}", planFile->string(), error);
  if (Status same =
          checkExportedFactorPlan(plan, original, variant.factor, dimension, variant.kernel, *planFile);
      !same) {
    return same.error();
  }
  variant.plan = std::move(plan);
  return variant;
}

int ingestCollect(const CoarsenCollectOptions& options, const GlobalOptions& global) {
  const fs::path folder = options.ingestFolder;
  const fs::path indexFile = folder / "collection.json";
  auto index = readExportIndex(indexFile);
  if (!index) return reportError(index.error());
  nlohmann::json remote;
  auto exported = exportedPlatform(folder, &remote);
  if (!exported) return reportError(exported.error());
  auto probeText = readFile(folder / "probe.json");
  if (!probeText) return reportError(probeText.error());
  const auto probe = nlohmann::json::parse(*probeText, nullptr, false);
  if (!probe.is_object()) {
    return reportError(makeError(ErrorCode::kInvalidInput, "{}: not the runner's probe JSON",
                                 (folder / "probe.json").string()));
  }
  auto devices = exportedOpenClDevices(folder, probe);
  if (!devices) return reportError(devices.error());
  // The suite folder names this machine's kernels (the export was made here), not a file of the export.
  auto directory = indexString(*index, "kernels", indexFile, "kernels");
  if (!directory) return reportError(directory.error());
  auto suite = loadKernelSuite(*directory);
  if (!suite) return reportError(suite.error());
  auto modeName = indexString(*index, "mode", indexFile, "mode", "consecutive");
  if (!modeName) return reportError(modeName.error());
  auto mode = parseModeOption(*modeName);
  if (!mode) return reportError(mode.error().withContext(indexFile.string()));
  auto dimensionValue = indexInteger(*index, "dimension", indexFile, "dimension", 0, 2, 0);
  if (!dimensionValue) return reportError(dimensionValue.error());
  const auto dimension = static_cast<unsigned>(*dimensionValue);

  // Every result is read and checked before anything is stored: a damaged export leaves no half session.
  struct Launch {
    const KernelManifest* manifest;
    std::int64_t n;
    std::vector<Variant> variants;
  };
  std::vector<Launch> launches;
  const nlohmann::json& items = (*index)["items"];
  for (std::size_t i = 0; i < items.size(); ++i) {
    const nlohmann::json& item = items[i];
    const std::string where = fmt::format("items[{}]", i);
    auto name = indexString(item, "manifest", indexFile, where + ".manifest");
    if (!name) return reportError(name.error());
    auto n = indexInteger(item, "n", indexFile, where + ".n", 1, std::numeric_limits<std::int64_t>::max());
    if (!n) return reportError(n.error());
    auto manifest =
        std::find_if(suite->begin(), suite->end(), [&](const KernelManifest& m) { return m.name == *name; });
    if (manifest == suite->end()) {
      return reportError(makeError(ErrorCode::kNotFound, "{}: kernel '{}' is not in {}", indexFile.string(),
                                   *name, *directory));
    }
    if (std::find(manifest->sizes.begin(), manifest->sizes.end(), *n) == manifest->sizes.end()) {
      return reportError(makeError(ErrorCode::kInvalidInput, "{}: {}.n {} is not a size of kernel '{}' ({})",
                                   indexFile.string(), where, *n, *name, fmt::join(manifest->sizes, ", ")));
    }
    auto request = makeRunRequest(*manifest, *n);
    if (!request) return reportError(request.error());
    auto folderName = indexString(item, "folder", indexFile, where + ".folder");
    if (!folderName) return reportError(folderName.error());
    auto itemFolder = pathInsideFolder(folder, *folderName, indexFile, where + ".folder");
    if (!itemFolder) return reportError(itemFolder.error());
    if (item.contains("factors") && !item["factors"].is_array()) {
      return reportError(makeError(ErrorCode::kInvalidInput, "{}: '{}.factors' must be an array",
                                   indexFile.string(), where));
    }
    std::vector<Variant> variants;
    std::set<int> factors;
    const nlohmann::json entries = item.value("factors", nlohmann::json::array());
    for (std::size_t j = 0; j < entries.size(); ++j) {
      auto variant = exportedVariant(entries[j], fmt::format("{}.factors[{}]", where, j), indexFile,
                                     *itemFolder, request->plan, dimension);
      if (!variant) return reportError(variant.error());
      if (!factors.insert(variant->factor).second) {
        return reportError(makeError(ErrorCode::kInvalidInput, "{}: {} lists factor {} twice",
                                     indexFile.string(), where, variant->factor));
      }
      variants.push_back(std::move(*variant));
    }
    if (variants.empty() || variants.front().factor != 1 || !variants.front().plan) {
      return reportError(makeError(ErrorCode::kInvalidInput, "{}: {} has no factor-1 plan first",
                                   indexFile.string(), *name));
    }
    // Factor 1 against the manifest's CPU reference; every other factor against factor 1 on the same device.
    for (Variant& variant : variants) {
      if (!variant.plan) continue;
      for (const OpenClDevice& device : *devices) {
        const std::string run =
            fmt::format("f{}.device-{}-{}", variant.factor, device.platformIndex, device.deviceIndex);
        auto resultFile = pathInsideFolder(
            *itemFolder, run + "/result.json", indexFile,
            fmt::format("{} (its result on device {}:{})", where, device.platformIndex, device.deviceIndex));
        if (!resultFile) return reportError(resultFile.error());
        if (variant.factor == 1) {
          auto result = ingestResult(*resultFile, device, *variant.plan, request->reference,
                                     request->referenceName, request->tolerance);
          if (!result) return reportError(result.error());
          variant.devices.push_back(std::move(*result));
          variant.measured.push_back(true);
          continue;
        }
        const DeviceRunResult& baseline = variants.front().devices[variant.devices.size()];
        if (baseline.status != MeasureStatus::kOk) {
          DeviceRunResult skipped = deviceRunResultFor(device);
          skipped.message = "not measured: the original kernel did not run ok on this device";
          variant.devices.push_back(std::move(skipped));
          variant.measured.push_back(false);
          continue;
        }
        const runner::RunPlan originalPlan = *variants.front().plan;
        auto expected = [originalPlan, baseline](ReferenceArgs& args) {
          return loadOutputs(originalPlan, baseline, {}, args);
        };
        auto result = ingestResult(*resultFile, device, *variant.plan, expected,
                                   fmt::format("{} at factor 1", manifest->kernel), request->tolerance);
        if (!result) return reportError(result.error());
        variant.devices.push_back(std::move(*result));
        variant.measured.push_back(true);
      }
    }
    launches.push_back({&*manifest, *n, std::move(variants)});
  }

  OpenClRecorder recorder;
  PlatformRecord platform = *exported;
  platform.openclDevices = probe;
  platform.fingerprint = canonicalJsonSha256({{"machine", remote}, {"opencl", probe}});
  if (Status opened = recorder.openFor(platform, resolveDatabasePath(global), "coarsen collect --ingest",
                                       {{"folder", fs::absolute(folder).string()}}, {});
      !opened) {
    return reportError(opened.error());
  }

  std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>> rows;
  std::size_t ok = 0, total = 0;
  for (const Launch& launch : launches) {
    const std::vector<Variant>& variants = launch.variants;
    auto workload = recorder.workload(launch.manifest->source);
    if (workload) {
      recordVariants(recorder, *workload, kCoarsenCollectTask,
                     collectLaunch(*launch.manifest, launch.n, *variants.front().plan), variants, dimension,
                     *mode);
    }
    std::vector<std::string> cells;
    for (std::size_t d = 0; d < devices->size(); ++d) cells.push_back(collectCell(variants, d));
    for (const Variant& variant : variants) {
      for (std::size_t d = 0; d < variant.devices.size(); ++d) {
        if (!variant.measured[d]) continue;
        ++total;
        if (variant.devices[d].status == MeasureStatus::kOk) ++ok;
      }
    }
    rows.emplace_back(launch.manifest->name, launch.n, std::move(cells));
  }
  const bool recorded = recorder.end();
  std::string text = collectTable(*devices, rows);
  text += fmt::format("# {} of {} measurements ok, recorded in {} (session {}, platform {})\n", ok, total,
                      recorder.database().path().string(), recorder.sessionId(), platform.fingerprint);
  fmt::print("{}", text);
  return ok > 0 && recorded ? 0 : 1;
}

}  // namespace

int runCoarsenCollect(const CoarsenCollectOptions& options, const GlobalOptions& global) {
  if (!options.exportFolder.empty() && !options.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  if (!options.ingestFolder.empty()) return ingestCollect(options, global);
  auto mode = parseModeOption(options.mode);
  if (!mode) return reportError(mode.error());
  const fs::path directory = options.kernels.empty() ? kernelSuiteDirectory() : fs::path(options.kernels);
  auto suite = loadKernelSuite(directory);
  if (!suite) return reportError(suite.error());
  if (suite->empty()) {
    return reportError(
        makeError(ErrorCode::kNotFound, "{}: no kernel manifests (*.json)", directory.string()));
  }
  auto work = collectWork(*suite, options.sizes);
  if (!work) return reportError(work.error());
  if (!options.exportFolder.empty()) return exportCollect(options, directory, *work, *mode);

  const fs::path runner = runnerExecutablePath();
  auto devices = localOpenClDevices(runner);
  if (!devices) return reportError(devices.error());
  OpenClRecorder recorder;
  nlohmann::json recordedOptions = {{"kernels", fs::absolute(directory).string()},
                                    {"sizes", options.sizes},
                                    {"dimension", options.dimension},
                                    {"mode", options.mode},
                                    {"timeout", options.timeout},
                                    {"min_time", options.minTime}};
  if (Status opened = recorder.open(resolveDatabasePath(global), "coarsen collect", recordedOptions, {}); !opened) {
    return reportError(opened.error());
  }
  logInfo("coarsen collect: {} launches ({} kernels) x {} factors on {} device(s)", work->size(),
          suite->size(), kFactors.size(), devices->size());
  std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>> rows;
  std::size_t ok = 0, total = 0;
  ScratchFolder folder;
  if (folder.path.empty()) return reportError(Error(ErrorCode::kIo, "cannot make a scratch folder for the runs"));
  ProgressLine progress("coarsen collect", work->size());
  std::size_t item = 0;
  for (const auto& [manifest, n] : *work) {
    std::vector<std::string> cells;
    auto request = makeRunRequest(*manifest, n);
    const fs::path itemFolder = folder.path / fmt::format("item-{}", item++);
    fs::create_directories(itemFolder);
    Expected<std::vector<Variant>> variants =
        request ? makeVariants(manifest->source, manifest->kernel, request->plan, factorOrder({}),
                               options.dimension, *mode, static_cast<int>(kFactors.size()), itemFolder)
                : Expected<std::vector<Variant>>(request.error());
    if (!variants) {
      logWarn("{} N={}: {}", manifest->name, n, variants.error().message());
      rows.emplace_back(manifest->name, n, std::vector<std::string>(devices->size(), "error"));
      progress.advance(1, fmt::format("{} N={}", manifest->name, n));
      continue;
    }
    request->timeoutSeconds = options.timeout;
    for (Variant& variant : *variants) {
      if (variant.plan) variant.plan->minTimeSeconds = options.minTime;
    }
    request->plan.minTimeSeconds = options.minTime;
    measureVariants(*variants, *devices, *request, itemFolder, runner);
    if (auto workload = recorder.workload(manifest->source)) {
      recordVariants(recorder, *workload, kCoarsenCollectTask, collectLaunch(*manifest, n, request->plan),
                     *variants, options.dimension, *mode);
    }
    for (const Variant& variant : *variants) {
      for (std::size_t d = 0; d < variant.devices.size(); ++d) {
        if (!variant.measured[d]) continue;
        ++total;
        if (variant.devices[d].status == MeasureStatus::kOk)
          ++ok;
        else
          logWarn("{} N={} factor {} on {}: {}: {}", manifest->name, n, variant.factor,
                  deviceIndex(variant.devices[d]), measureStatusName(variant.devices[d].status),
                  variant.devices[d].message.substr(0, 300));
      }
    }
    for (std::size_t d = 0; d < devices->size(); ++d) cells.push_back(collectCell(*variants, d));
    rows.emplace_back(manifest->name, n, std::move(cells));
    progress.advance(1, fmt::format("{} N={}", manifest->name, n));
  }
  progress.finish();
  const bool recorded = recorder.end();
  std::string text = collectTable(*devices, rows);
  text += fmt::format("# {} of {} measurements ok, recorded in {} (session {})\n", ok, total,
                      recorder.database().path().string(), recorder.sessionId());
  fmt::print("{}", text);
  return ok > 0 && recorded ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------------
// coarsen train --platform local


}  // namespace mirtune::cli
