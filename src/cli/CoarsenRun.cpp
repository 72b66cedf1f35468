// `mirtune coarsen FILE --run`, `coarsen collect` (here, or exported for another machine's runner and
// ingested) and `coarsen train --platform local`: coarsened kernels measured against their original on the
// OpenCL devices.
#include "cli/CoarsenOptions.h"
#include "cli/CoarsenPredictor.h"
#include "tasks/common/DatabaseCache.h"
#include "cli/DeviceRuns.h"
#include "cli/DevmapOptions.h"
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

// ---------------------------------------------------------------------------------------------------------
// Variants of one launch and their measurement.

/// One factor of one kernel launch: the coarsened kernel and its launch, or why there is none.
struct Variant {
  int factor = 1;
  std::string kernel;                  ///< the kernel that runs (the original's name at factor 1)
  std::optional<std::string> refusal;  ///< set: not measured, with the transform's or the NDRange's reason
  std::string refusalCode;             ///< a CoarsenRefusal name, "ndrange" or "error"
  bool overBudget = false;             ///< accepted but left out by --budget
  std::optional<runner::RunPlan> plan;
  std::string text;                      ///< the coarsened source (empty at factor 1)
  std::vector<DeviceRunResult> devices;  ///< lines up with the devices; empty when not measured
  std::vector<bool> measured;            ///< per device: false when factor 1 did not run ok there

  bool runnable() const { return plan && !refusal && !overBudget; }
};

/// The variant of `factor` for a launch of `original` (a plan of `kernel` in `source`): the transform and the
/// NDRange check; the plan points at `sourcePath`, where the caller writes `text`.
Variant makeVariant(const fs::path& source, const std::string& kernel, const runner::RunPlan& original,
                    int factor, unsigned dimension, CoarsenMode mode) {
  Variant variant;
  variant.factor = factor;
  if (factor == 1) {
    variant.kernel = kernel;
    variant.plan = original;
    return variant;
  }
  CoarsenOptions options;
  options.factor = static_cast<unsigned>(factor);
  options.dimension = dimension;
  options.mode = mode;
  options.buildOptions = original.buildOptions;
  auto coarsened = coarsenKernel(source, kernel, options);
  if (!coarsened) {
    variant.refusal = coarsened.error().message();
    variant.refusalCode = "error";
    return variant;
  }
  variant.kernel = coarsened->kernelName;
  if (coarsened->refused()) {
    variant.refusal = coarsened->refusalMessage;
    variant.refusalCode = std::string(coarsenRefusalName(*coarsened->refusal));
    return variant;
  }
  auto range = checkNdRange(original.globalSize, original.localSize, *coarsened);
  if (!range) {
    variant.refusal = range.error().message();
    variant.refusalCode = "ndrange";
    return variant;
  }
  runner::RunPlan plan = original;
  plan.kernel = coarsened->kernelName;
  plan.globalSize = range->global;
  plan.localSize = range->local;
  variant.plan = std::move(plan);
  variant.text = std::move(coarsened->text);
  return variant;
}

/// The factors to try after 1: `first` (the predicted ones, in order) and then the rest of kFactors.
std::vector<int> factorOrder(const std::vector<int>& first) {
  std::vector<int> order;
  for (int factor : first) {
    if (factor != 1 && std::find(order.begin(), order.end(), factor) == order.end()) order.push_back(factor);
  }
  for (int factor : kFactors) {
    if (factor != 1 && std::find(order.begin(), order.end(), factor) == order.end()) order.push_back(factor);
  }
  return order;
}

/// Factor 1 and every factor of `order` for one launch, coarsened sources written under `folder`; the first
/// `budget` accepted ones are to be measured.
Expected<std::vector<Variant>> makeVariants(const fs::path& source, const std::string& kernel,
                                            const runner::RunPlan& original, const std::vector<int>& order,
                                            unsigned dimension, CoarsenMode mode, int budget,
                                            const fs::path& folder) {
  std::vector<Variant> variants;
  variants.push_back(makeVariant(source, kernel, original, 1, dimension, mode));
  int accepted = 0;
  for (int factor : order) {
    Variant variant = makeVariant(source, kernel, original, factor, dimension, mode);
    if (variant.plan) {
      variant.overBudget = accepted >= budget;
      ++accepted;
      const fs::path path = folder / fmt::format("{}.cl", variant.kernel);
      if (auto written = writeFileAtomically(path, variant.text); !written) return written.error();
      variant.plan->source = path.string();
    }
    variants.push_back(std::move(variant));
  }
  return variants;
}

/// The out/inout buffers `device` left, read back for comparison; kIo naming the file otherwise.
Status loadOutputs(const runner::RunPlan& plan, const DeviceRunResult& device, const fs::path& base,
                   ReferenceArgs& args) {
  for (std::size_t i = 0; i < plan.args.size(); ++i) {
    const runner::ArgSpec& arg = plan.args[i];
    if (arg.kind != runner::ArgKind::kBuffer || arg.role == runner::ArgRole::kIn) continue;
    auto file = device.outputFiles.find(i);
    if (file == device.outputFiles.end())
      return makeError(ErrorCode::kIo, "no output file of argument {}", i);
    fs::path path = file->second.is_relative() ? base / file->second : file->second;
    std::string error;
    if (!runner::readNpy(path.string(), args.buffers[i], error))
      return makeError(ErrorCode::kIo, "{}: {}", path.string(), error);
  }
  return {};
}

/// Measures factor 1 on every device (outputs kept under work/f1), then each runnable variant on each device
/// where factor 1 ran ok, with that device's factor-1 outputs as the expected ones.
void measureVariants(std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                     const OpenClRunRequest& base, const fs::path& work, const fs::path& runner) {
  Variant& original = variants.front();
  OpenClRunRequest request = base;
  request.plan = *original.plan;
  request.devices = devices;
  request.workDirectory = work / "f1";
  if (auto result = runOnAllDevices(request, runner)) {
    original.devices = std::move(result->devices);
  } else {
    original.devices = failedOnEvery(devices, MeasureStatus::kRunFailed, result.error().message());
  }
  original.measured.assign(devices.size(), true);
  for (std::size_t v = 1; v < variants.size(); ++v) {
    Variant& variant = variants[v];
    if (!variant.runnable()) continue;
    for (std::size_t d = 0; d < devices.size(); ++d) {
      const DeviceRunResult& baseline = original.devices[d];
      if (baseline.status != MeasureStatus::kOk) {
        DeviceRunResult skipped = deviceRunResultFor(devices[d]);
        skipped.message = "not measured: the original kernel did not run ok on this device";
        variant.devices.push_back(std::move(skipped));
        variant.measured.push_back(false);
        continue;
      }
      OpenClRunRequest one = base;
      one.plan = *variant.plan;
      one.devices = {devices[d]};
      one.workDirectory = work / fmt::format("cf{}", variant.factor);
      const runner::RunPlan originalPlan = *original.plan;
      one.reference = [originalPlan, baseline](ReferenceArgs& args) {
        return loadOutputs(originalPlan, baseline, {}, args);
      };
      one.referenceName = fmt::format("{} at factor 1", original.kernel);
      auto result = runOnAllDevices(one, runner);
      if (result && result->devices.size() == 1) {
        variant.devices.push_back(std::move(result->devices.front()));
      } else {
        variant.devices.push_back(failedOnEvery({devices[d]}, MeasureStatus::kRunFailed,
                                                result ? "no result" : result.error().message())
                                      .front());
      }
      variant.measured.push_back(true);
    }
  }
}

/// Factor -> speedup of its median kernel time over factor 1 on device d, for the ok ones.
std::map<int, double> speedups(const std::vector<Variant>& variants, std::size_t d) {
  std::map<int, double> result;
  const Variant& original = variants.front();
  if (original.devices.size() <= d || original.devices[d].status != MeasureStatus::kOk) return result;
  const double base = original.devices[d].medianKernelSeconds;
  for (const Variant& variant : variants) {
    if (variant.devices.size() <= d || !variant.measured[d]) continue;
    const DeviceRunResult& device = variant.devices[d];
    if (device.status == MeasureStatus::kOk && device.medianKernelSeconds > 0) {
      result[variant.factor] = base / device.medianKernelSeconds;
    }
  }
  return result;
}

std::optional<int> bestFactor(const std::map<int, double>& speedup) {
  if (speedup.empty()) return std::nullopt;
  return std::max_element(speedup.begin(), speedup.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

nlohmann::json variantConfiguration(const Variant& variant, unsigned dimension, CoarsenMode mode) {
  return {{"factor", variant.factor},
          {"dimension", dimension},
          {"mode", coarsenModeName(mode)},
          {"coarsened_kernel", variant.kernel}};
}

/// Stores every measured (variant, device) of one launch.
void recordVariants(Recorder& recorder, std::int64_t workloadId, const std::string& task,
                    const nlohmann::json& launch, const std::vector<Variant>& variants, unsigned dimension,
                    CoarsenMode mode) {
  for (const Variant& variant : variants) {
    for (std::size_t d = 0; d < variant.devices.size(); ++d) {
      if (!variant.measured[d]) continue;
      nlohmann::json configuration = launch;
      configuration.update(variantConfiguration(variant, dimension, mode));
      recorder.measurement(workloadId, task, std::move(configuration), variant.devices[d],
                           TimeBasis::kKernel);
    }
  }
}

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

Expected<CoarsenMode> modeOption(const std::string& name) {
  auto mode = parseCoarsenMode(name);
  if (!mode) return makeError(ErrorCode::kUsage, "--mode '{}': expected consecutive or strided", name);
  return *mode;
}

Expected<std::vector<OpenClDevice>> localDevices(const fs::path& runner) {
  auto devices = probeOpenClDevices(runner);
  if (!devices) return devices.error();
  if (devices->empty()) {
    return makeError(ErrorCode::kNotFound,
                     "no OpenCL device: the ICD loader lists no platform (install an ICD such "
                     "as pocl-opencl-icd or set OCL_ICD_VENDORS)");
  }
  return devices;
}

/// A folder removed when the command ends.
// A scratch folder made fresh by mkdtemp (so never one that already existed) and removed at scope exit.
struct WorkFolder {
  fs::path path;
  WorkFolder() {
    std::error_code error;
    std::string pattern = (fs::temp_directory_path(error) / "mirtune-coarsen-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
  }
  ~WorkFolder() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
};

// ---------------------------------------------------------------------------------------------------------
// coarsen FILE --run

}  // namespace

Expected<std::unique_ptr<Predictor>> openPredictor(const CoarsenPredictOptions& options,
                                                   const GlobalOptions& global) {
  auto predictor = std::make_unique<Predictor>();
  predictor->local = options.platform == kLocalCoarsenPlatform;
  if (!predictor->local && options.platform != "all") {
    auto index = platformIndex(options.platform);
    if (!index) return index.error();
    predictor->platform = *index;
  }
  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return encoder.error();
  predictor->encoder = std::make_unique<Encoder>(std::move(*encoder));
  fs::path directory = !options.heads.empty() ? fs::path(options.heads)
                       : predictor->local     ? defaultLocalCoarsenModelDirectory()
                                              : defaultCoarsenModelDirectory();
  auto model = loadCoarsenModel(directory, *predictor->encoder);
  if (!model) return model.error();
  predictor->model = std::move(*model);
  if (predictor->local) {
    predictor->headData = predictor->model.manifest["heads"]
                              .value(kPooledHead, nlohmann::json::object())
                              .value("data", nlohmann::json::object());
    if (!predictor->headData.contains("devices")) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: not local heads (no device slots; train them with `mirtune "
                       "coarsen train --platform local`)",
                       directory.string());
    }
  }
  predictor->modelId =
      fmt::format("{}/{}", directory.filename().string(),
                  predictor->local ? kLocalCoarsenPlatform : kPlatforms[predictor->platform].name);
  return predictor;
}

namespace {

/// One kernel of one file with its plan, variants and predictions.
struct KernelRun {
  std::string file;
  std::string kernel;
  std::optional<runner::RunPlan> plan;
  std::optional<Error> error;
  std::string irSha256;
  std::vector<std::optional<FactorChoice>> predicted;  ///< per device
  std::vector<Variant> variants;
};

}  // namespace

int runCoarsenRun(const CoarsenPredictOptions& options, const GlobalOptions& global) {
  if (options.globalSize.empty()) {
    return reportError(Error(ErrorCode::kUsage,
                             "coarsen --run needs --global N[,N[,N]]: the work-items of the "
                             "original launch (e.g. --global 1048576); --local M sets the work-group"));
  }
  if (!options.localSize.empty() && options.localSize.size() != options.globalSize.size()) {
    return reportError(makeError(ErrorCode::kUsage, "--local has {} dimensions but --global has {}",
                                 options.localSize.size(), options.globalSize.size()));
  }
  for (std::size_t d = 0; d < options.localSize.size(); ++d) {
    if (options.localSize[d] == 0 || options.globalSize[d] % options.localSize[d] != 0) {
      return reportError(makeError(ErrorCode::kUsage,
                                   "--global {} is not a multiple of --local {} in dimension {}",
                                   options.globalSize[d], options.localSize[d], d));
    }
  }
  if (options.dimension >= options.globalSize.size()) {
    return reportError(makeError(ErrorCode::kUsage, "--dim {} but --global has {} dimension(s)",
                                 options.dimension, options.globalSize.size()));
  }
  auto mode = modeOption(options.mode);
  if (!mode) return reportError(mode.error());
  auto scalars = parseScalarArguments(options.args);
  if (!scalars) return reportError(scalars.error());
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  const fs::path runner = runnerExecutablePath();
  const std::string buildOptions = runnerBuildOptions(*compile);
  auto devices = localDevices(runner);
  if (!devices) return reportError(devices.error());

  // 1. The kernels of each file, as the OpenCL driver sees them, with a default plan each.
  int status = 0;
  std::vector<KernelRun> runs;
  for (const std::string& file : options.files) {
    auto listing = listKernelArgs(runner, file, buildOptions, options.timeout);
    if (!listing) {
      status = reportError(Error(listing.error().code(), nameTheSource(listing.error().message(), file)));
      continue;
    }
    std::vector<std::string> names;
    std::size_t before = runs.size();
    for (const auto& kernel : (*listing)["kernels"]) {
      const std::string name = kernel.value("name", "");
      names.push_back(name);
      if (!options.kernel.empty() && name != options.kernel) continue;
      KernelRun run{file, name, {}, {}, {}, {}, {}};
      DefaultPlanOptions planOptions;
      planOptions.globalSize = options.globalSize;
      planOptions.localSize = options.localSize;
      planOptions.scalarValues = *scalars;
      planOptions.buildOptions = buildOptions;
      if (auto plan = buildDefaultPlan(kernel, file, planOptions)) {
        plan->minTimeSeconds = options.minTime;
        run.plan = std::move(*plan);
      } else {
        run.error = plan.error();
      }
      runs.push_back(std::move(run));
    }
    if (runs.size() == before) {
      status = reportError(names.empty()
                               ? makeError(ErrorCode::kInvalidInput, "{}: no kernel in this file", file)
                               : makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})",
                                           file, options.kernel, fmt::join(names, ", ")));
    }
  }
  if (runs.empty()) return status != 0 ? status : 1;

  // 2. The predicted factor of each kernel (per device for local heads, whose inputs name the device).
  Recorder recorder;
  std::unique_ptr<Predictor> predictor;
  if (auto opened = openPredictor(options, global)) {
    predictor = std::move(*opened);
  } else {
    logWarn("no prediction: {}", opened.error().message());
  }
  nlohmann::json recordedOptions = {{"files", options.files},       {"kernel", options.kernel},
                                    {"platform", options.platform}, {"global", options.globalSize},
                                    {"local", options.localSize},   {"args", *scalars},
                                    {"budget", options.budget},     {"dimension", options.dimension},
                                    {"mode", options.mode},         {"min_time", options.minTime}};
  if (Status opened = recorder.open(
          global, "coarsen --run", recordedOptions,
          predictor ? std::vector<std::string>{predictor->modelId} : std::vector<std::string>{});
      !opened) {
    return reportError(opened.error());
  }
  if (predictor) {
    std::vector<devmap::LocalRow> rows;
    std::vector<std::size_t> rowRun;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      if (!runs[r].plan) continue;
      devmap::LocalRow row;
      row.source = runs[r].file;
      row.kernel = runs[r].kernel;
      rows.push_back(std::move(row));
      rowRun.push_back(r);
    }
    std::optional<DatabaseEmbeddingCache> cache;
    if (!options.noCache) cache.emplace(*recorder.database);
    auto embeddings = devmap::embedLocalRows(*predictor->encoder, rows, *compile, cache ? &*cache : nullptr,
                                             static_cast<unsigned>(options.threads));
    if (!embeddings) {
      logWarn("no prediction: {}", embeddings.error().message());
    } else {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        KernelRun& run = runs[rowRun[i]];
        for (const OpenClDevice& device : *devices) {
          std::size_t platform = predictor->local
                                     ? localDeviceSlot(predictor->headData, device.name, device.type)
                                     : predictor->platform;
          auto choice = predictor->model.choose((*embeddings)[i], platform);
          if (!choice) {
            logWarn("no prediction for {}: {}", run.kernel, choice.error().message());
            run.predicted.emplace_back();
          } else {
            run.predicted.emplace_back(*choice);
          }
        }
      }
    }
  }

  // 3. Every accepted factor (the predicted ones first, as the budget allows) on every device.
  WorkFolder work;
  if (work.path.empty()) return reportError(Error(ErrorCode::kIo, "cannot make a scratch folder for the runs"));
  for (std::size_t r = 0; r < runs.size(); ++r) {
    KernelRun& run = runs[r];
    if (!run.plan) continue;
    std::vector<int> first;
    for (const auto& choice : run.predicted) {
      if (choice) first.push_back(choice->factor);
    }
    const fs::path folder = work.path / fmt::format("kernel-{}", r);
    fs::create_directories(folder);
    auto variants = makeVariants(run.file, run.kernel, *run.plan, factorOrder(first), options.dimension,
                                 *mode, std::max(0, options.budget), folder);
    if (!variants) {
      run.error = variants.error();
      continue;
    }
    run.variants = std::move(*variants);
    logInfo("running {} at {} factor(s) on {} OpenCL device(s)", run.kernel,
            std::count_if(run.variants.begin(), run.variants.end(),
                          [](const Variant& v) { return v.runnable(); }),
            devices->size());
    OpenClRunRequest base;
    base.timeoutSeconds = options.timeout;
    measureVariants(run.variants, *devices, base, folder, runner);
    for (Variant& variant : run.variants) {
      for (DeviceRunResult& device : variant.devices) {
        device.message = nameTheSource(device.message, run.file);
        device.buildLog = nameTheSource(device.buildLog, run.file);
      }
    }
  }

  // 4. The database: every measurement, and each prediction with whether it was the best.
  std::vector<std::vector<std::optional<int>>> predictedFactors(runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    KernelRun& run = runs[r];
    for (const auto& choice : run.predicted)
      predictedFactors[r].push_back(choice ? std::optional<int>(choice->factor) : std::nullopt);
    if (run.variants.empty()) continue;
    auto workload = recorder.workload(run.file);
    if (!workload) continue;
    nlohmann::json launch = {{"kernel", run.kernel},
                             {"global", run.plan->globalSize},
                             {"local", run.plan->localSize},
                             {"build_options", run.plan->buildOptions}};
    recordVariants(recorder, *workload, kCoarsenRunTask, launch, run.variants, options.dimension, *mode);
    for (std::size_t d = 0; d < run.predicted.size() && predictor; ++d) {
      if (!run.predicted[d] || (!predictor->local && d > 0)) continue;  // one prediction unless per device
      std::optional<int> best = bestFactor(speedups(run.variants, d));
      PredictionRecord record;
      record.sessionId = recorder.sessionId;
      record.workloadId = *workload;
      record.task = kCoarsenRunTask;
      record.modelId = predictor->modelId;
      record.configuration = {
          {"kernel", run.kernel},
          {"platform", predictor->local ? kLocalCoarsenPlatform : kPlatforms[predictor->platform].name},
          {"factor", run.predicted[d]->factor},
          {"dimension", options.dimension},
          {"mode", coarsenModeName(*mode)},
          {"device", (*devices)[d].name},
          {"measured_best", best ? nlohmann::json(*best) : nlohmann::json(nullptr)},
          {"correct", best ? nlohmann::json(*best == run.predicted[d]->factor) : nlohmann::json(nullptr)}};
      record.score = run.predicted[d]->probability;
      if (auto stored = recorder.database->insertPrediction(record); !stored) recorder.keep(stored.error());
    }
  }
  if (!recorder.end()) status = 1;

  // 5. The report.
  bool anyOk = false;
  for (const KernelRun& run : runs) {
    if (run.error) status = 1;
    for (const Variant& variant : run.variants) {
      for (const DeviceRunResult& device : variant.devices)
        anyOk = anyOk || device.status == MeasureStatus::kOk;
    }
  }
  if (!anyOk) status = 1;
  std::string text;
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const KernelRun& run = runs[r];
    nlohmann::json entry = {{"file", run.file},
                            {"kernel", run.kernel},
                            {"dimension", options.dimension},
                            {"mode", coarsenModeName(*mode)}};
    text += fmt::format("{}  {}\n", run.file, run.kernel);
    if (run.plan) {
      entry["global"] = run.plan->globalSize;
      entry["local"] = run.plan->localSize;
      text += fmt::format("  launch      global {}, local {}; dimension {}, {}\n",
                          formatSizes(run.plan->globalSize), formatSizes(run.plan->localSize),
                          options.dimension, coarsenModeName(*mode));
    }
    if (!run.predicted.empty() && predictor) {
      nlohmann::json predictions = nlohmann::json::array();
      std::set<std::string> lines;
      for (std::size_t d = 0; d < run.predicted.size(); ++d) {
        if (!run.predicted[d]) continue;
        predictions.push_back({{"device", (*devices)[d].name},
                               {"factor", run.predicted[d]->factor},
                               {"probability", run.predicted[d]->probability}});
        lines.insert(fmt::format("factor {}, probability {:.3f}", run.predicted[d]->factor,
                                 run.predicted[d]->probability));
      }
      entry["prediction"] = {{"model", predictor->modelId}, {"per_device", predictions}};
      text += fmt::format("  prediction  {} (heads {})\n", fmt::join(lines, "; "), predictor->modelId);
    }
    if (run.error) {
      entry["error"] = run.error->message();
      text += fmt::format("  not run: {}\n", run.error->message());
    } else {
      entry["devices"] = variantsJson(run.variants, *devices, predictedFactors[r]);
      text += variantTable(run.variants, *devices, predictedFactors[r]);
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

/// The devices an exported run measured: devices.txt ("P:D" per line), each one the runner's probe lists.
Expected<std::vector<OpenClDevice>> exportedDevices(const fs::path& folder, const nlohmann::json& probe) {
  const fs::path listFile = folder / "devices.txt";
  const fs::path probeFile = folder / "probe.json";
  auto listText = readFile(listFile);
  if (!listText)
    return listText.error().withContext("the export was not run to its end (run-all.sh writes it last)");
  const auto textOf = [](const nlohmann::json& object, const char* key) {
    return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : std::string();
  };
  std::vector<OpenClDevice> devices;
  std::istringstream words(*listText);
  std::string word;
  while (words >> word) {
    OpenClDevice device;
    char end = '\0';
    if (std::sscanf(word.c_str(), "%d:%d%c", &device.platformIndex, &device.deviceIndex, &end) != 2 ||
        device.platformIndex < 0 || device.deviceIndex < 0) {
      return makeError(ErrorCode::kInvalidInput, "{}: '{}' is not P:D", listFile.string(), word);
    }
    const auto platforms = probe.contains("platforms") ? probe["platforms"] : nlohmann::json::array();
    const auto index = [](int i) { return static_cast<std::size_t>(i); };
    if (!platforms.is_array() || index(device.platformIndex) >= platforms.size() ||
        !platforms[index(device.platformIndex)].is_object()) {
      return makeError(ErrorCode::kInvalidInput, "{}: device {} is not one of {}", listFile.string(), word,
                       probeFile.string());
    }
    const auto& platform = platforms[index(device.platformIndex)];
    const auto list = platform.contains("devices") ? platform["devices"] : nlohmann::json::array();
    if (!list.is_array() || index(device.deviceIndex) >= list.size() ||
        !list[index(device.deviceIndex)].is_object()) {
      return makeError(ErrorCode::kInvalidInput, "{}: device {} is not one of {}", listFile.string(), word,
                       probeFile.string());
    }
    device.platformName = textOf(platform, "name");
    device.name = textOf(list[index(device.deviceIndex)], "name");
    device.type = textOf(list[index(device.deviceIndex)], "type");
    devices.push_back(std::move(device));
  }
  return devices;
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
  auto devices = exportedDevices(folder, probe);
  if (!devices) return reportError(devices.error());
  // The suite folder names this machine's kernels (the export was made here), not a file of the export.
  auto directory = indexString(*index, "kernels", indexFile, "kernels");
  if (!directory) return reportError(directory.error());
  auto suite = loadKernelSuite(*directory);
  if (!suite) return reportError(suite.error());
  auto modeName = indexString(*index, "mode", indexFile, "mode", "consecutive");
  if (!modeName) return reportError(modeName.error());
  auto mode = modeOption(*modeName);
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

  Recorder recorder;
  auto opened = Database::open(resolveDatabasePath(global));
  if (!opened) return reportError(opened.error());
  recorder.database.emplace(std::move(*opened));
  PlatformRecord platform = *exported;
  platform.openclDevices = probe;
  platform.fingerprint = canonicalJsonSha256({{"machine", remote}, {"opencl", probe}});
  auto platformId = recorder.database->upsertPlatform(platform);
  if (!platformId) return reportError(platformId.error());
  recorder.platformId = *platformId;
  recorder.fingerprint = platform.fingerprint;
  SessionRecord session;
  session.toolVersion = toolVersion();
  session.gitCommit = gitCommit();
  session.command = "coarsen collect --ingest";
  session.options = {{"folder", fs::absolute(folder).string()}};
  session.platformId = *platformId;
  auto sessionId = recorder.database->beginSession(session);
  if (!sessionId) return reportError(sessionId.error());
  recorder.sessionId = *sessionId;

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
                      recorder.database->path().string(), recorder.sessionId, platform.fingerprint);
  fmt::print("{}", text);
  return ok > 0 && recorded ? 0 : 1;
}

}  // namespace

int runCoarsenCollect(const CoarsenCollectOptions& options, const GlobalOptions& global) {
  if (!options.exportFolder.empty() && !options.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  if (!options.ingestFolder.empty()) return ingestCollect(options, global);
  auto mode = modeOption(options.mode);
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
  auto devices = localDevices(runner);
  if (!devices) return reportError(devices.error());
  Recorder recorder;
  nlohmann::json recordedOptions = {{"kernels", fs::absolute(directory).string()},
                                    {"sizes", options.sizes},
                                    {"dimension", options.dimension},
                                    {"mode", options.mode},
                                    {"timeout", options.timeout},
                                    {"min_time", options.minTime}};
  if (Status opened = recorder.open(global, "coarsen collect", recordedOptions, {}); !opened) {
    return reportError(opened.error());
  }
  logInfo("coarsen collect: {} launches ({} kernels) x {} factors on {} device(s)", work->size(),
          suite->size(), kFactors.size(), devices->size());
  std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>> rows;
  std::size_t ok = 0, total = 0;
  WorkFolder folder;
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
                      recorder.database->path().string(), recorder.sessionId);
  fmt::print("{}", text);
  return ok > 0 && recorded ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------------
// coarsen train --platform local

int runCoarsenTrainLocal(const CoarsenTrainOptions& options, const GlobalOptions& global) {
  auto candidates = headCandidates(options.headKind, options.threads);
  if (!candidates) return reportError(candidates.error());
  const fs::path databasePath = resolveDatabasePath(global);
  if (!fs::exists(databasePath)) {
    return reportError(makeError(ErrorCode::kNotFound,
                                 "no database at {}: run `mirtune coarsen collect` first",
                                 databasePath.string()));
  }
  auto database = Database::open(databasePath, Database::OpenMode::kExisting);
  if (!database) return reportError(database.error());
  std::string fingerprint = options.fingerprint;
  std::string cpuModel;
  if (fingerprint.empty()) {
    PlatformProbeOptions probe;
    probe.runnerPath = runnerExecutablePath();
    const PlatformInfo platform = probePlatform(probe);
    fingerprint = platform.fingerprint;
    cpuModel = platform.cpuModel;
  }
  auto data = loadLocalCoarsenData(*database, fingerprint);
  if (!data) return reportError(data.error());
  if (Status usable = checkLocalCoarsenData(*data); !usable) {
    return reportError(usable.error().withContext(databasePath.string()));
  }
  if (!data->ignoredDevices.empty()) {
    logWarn("only {} devices fit the head's inputs; not used: {}", kPlatforms.size(),
            fmt::join(data->ignoredDevices, ", "));
  }
  logInfo("{} launches of {} kernels on {} device(s) from {} measurements", data->data.kernels.size(),
          *std::max_element(data->program.begin(), data->program.end()) + 1, data->devices.size(),
          data->measurements);

  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  std::optional<DatabaseEmbeddingCache> cache;
  if (!options.noCache) cache.emplace(*database);
  auto embeddings = devmap::embedLocalRows(*encoder, data->rows, CompileOptions{}, cache ? &*cache : nullptr,
                                           static_cast<unsigned>(options.threads));
  if (!embeddings) return reportError(embeddings.error());

  // A few dozen rows: one thread per fit, as devmap's local heads do.
  heads::setTorchThreads(1);
  for (heads::Candidate& candidate : *candidates) {
    if (candidate.kind == "xgboost") candidate.params["nthread"] = 1;
  }
  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.form = HeadForm::kFactor;
  evalOptions.pooling = Pooling::kPooled;
  evalOptions.innerFolds = std::min(options.innerFolds, 3);
  evalOptions.seed = options.seed;
  std::vector<std::size_t> kernels, slots;
  for (std::size_t k = 0; k < data->data.kernels.size(); ++k) kernels.push_back(k);
  for (std::size_t s = 0; s < data->devices.size(); ++s) slots.push_back(s);
  auto head = trainHead(data->data, *embeddings, data->program, kernels, slots, evalOptions);
  if (!head) return reportError(head.error());
  logInfo("local: {} head over {} rows, inner cross-validation mean speedup {:.4f}", head->candidate.kind,
          head->rows, head->innerSpeedup);
  nlohmann::json deviceSlots = nlohmann::json::array();
  for (std::size_t s = 0; s < data->devices.size(); ++s)
    deviceSlots.push_back({{"slot", s}, {"name", data->devices[s]}, {"type", data->deviceTypes[s]}});
  std::set<std::string> names;
  for (const devmap::LocalRow& row : data->rows)
    names.insert(row.manifest.empty() ? row.kernel : row.manifest);
  nlohmann::json source = {{"data_set", "coarsen collect"},
                           {"database", fs::absolute(databasePath).string()},
                           {"platform_fingerprint", fingerprint},
                           {"cpu_model", cpuModel},
                           {"devices", deviceSlots},
                           {"launches", data->data.kernels.size()},
                           {"kernels", names}};
  std::vector<NamedHead> trained;
  trained.push_back({kPooledHead, std::move(*head), source});
  const fs::path out =
      options.out.empty() ? defaultLocalCoarsenModelDirectory() : fs::path(options.out);
  std::string command = options.command;
  if (command.empty())
    command = fmt::format("mirtune coarsen train --platform local --head-kind {}", options.headKind);
  if (Status saved = saveCoarsenModel(out, *encoder, devmap::IrSource::kSource, HeadForm::kFactor,
                                      Pooling::kPooled, trained, command);
      !saved) {
    return reportError(saved.error());
  }
  fmt::print("{}\n", out.string());
  return 0;
}

}  // namespace mirtune::cli
