// Coarsened kernels measured against their original on the OpenCL devices: variants, their measurement and
// record, the heads that pick the factor to try first, and `coarsen FILE --run`.
#include "tasks/coarsen/CoarsenRuns.h"

#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "tasks/coarsen/LocalCoarsen.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/common/KernelSources.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

namespace {

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

nlohmann::json variantConfiguration(const Variant& variant, unsigned dimension, CoarsenMode mode) {
  return {{"factor", variant.factor},
          {"dimension", dimension},
          {"mode", coarsenModeName(mode)},
          {"coarsened_kernel", variant.kernel}};
}

}  // namespace

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

/// Stores every measured (variant, device) of one launch.
void recordVariants(OpenClRecorder& recorder, std::int64_t workloadId, const std::string& task,
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

Expected<CoarsenMode> parseModeOption(const std::string& name) {
  auto mode = parseCoarsenMode(name);
  if (!mode) return makeError(ErrorCode::kUsage, "--mode '{}': expected consecutive or strided", name);
  return *mode;
}

ScratchFolder::ScratchFolder() {
  std::error_code error;
  std::string pattern = (fs::temp_directory_path(error) / "mirtune-coarsen-XXXXXX").string();
  if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ignored;
  if (!path.empty()) fs::remove_all(path, ignored);
}

Expected<std::unique_ptr<Predictor>> openPredictor(const std::string& platform, const std::string& encoderFolder,
                                                   const std::string& heads, int threads) {
  auto predictor = std::make_unique<Predictor>();
  predictor->local = platform == kLocalCoarsenPlatform;
  if (!predictor->local && platform != "all") {
    auto index = platformIndex(platform);
    if (!index) return index.error();
    predictor->platform = *index;
  }
  configureThreads(threads);
  auto encoder = Encoder::loadOrDefault(encoderFolder);
  if (!encoder) return encoder.error();
  predictor->encoder = std::make_unique<Encoder>(std::move(*encoder));
  fs::path directory = !heads.empty() ? fs::path(heads)
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

int RunReport::exitStatus() const {
  if (!failures.empty() || !recorded) return 1;
  bool anyOk = false;
  for (const KernelRun& run : runs) {
    if (run.error) return 1;
    for (const Variant& variant : run.variants) {
      for (const DeviceRunResult& device : variant.devices) anyOk = anyOk || device.status == MeasureStatus::kOk;
    }
  }
  return anyOk ? 0 : 1;
}

Expected<RunReport> runKernels(const RunRequest& options) {
  if (options.globalSize.empty()) {
    return Error(ErrorCode::kUsage,
                 "coarsen --run needs --global N[,N[,N]]: the work-items of the "
                 "original launch (e.g. --global 1048576); --local M sets the work-group");
  }
  if (Status geometry = checkLaunchGeometry(options.globalSize, options.localSize); !geometry) return geometry.error();
  if (options.dimension >= options.globalSize.size()) {
    return makeError(ErrorCode::kUsage, "--dim {} but --global has {} dimension(s)", options.dimension,
                     options.globalSize.size());
  }
  auto mode = parseModeOption(options.mode);
  if (!mode) return mode.error();
  auto scalars = parseScalarArguments(options.args);
  if (!scalars) return scalars.error();
  const fs::path runner = runnerExecutablePath();
  const std::string buildOptions = runnerBuildOptions(options.compile.defines, options.compile.includeDirectories);
  auto devices = localOpenClDevices(runner);
  if (!devices) return devices.error();
  RunReport report;
  report.devices = *devices;
  report.mode = *mode;
  report.dimension = options.dimension;
  std::vector<KernelRun>& runs = report.runs;

  // 1. The kernels of each file, as the OpenCL driver sees them, with a default plan each.
  for (const std::string& file : options.files) {
    auto listing = listKernelArgs(runner, file, buildOptions, options.timeout);
    if (!listing) {
      report.failures.push_back(Error(listing.error().code(), nameTheSource(listing.error().message(), file)));
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
      report.failures.push_back(names.empty()
                                    ? makeError(ErrorCode::kInvalidInput, "{}: no kernel in this file", file)
                                    : makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})",
                                                file, options.kernel, fmt::join(names, ", ")));
    }
  }
  if (runs.empty()) return report;  // nothing to run: the failures say why

  // 2. The predicted factor of each kernel (per device for local heads, whose inputs name the device).
  OpenClRecorder recorder;
  std::unique_ptr<Predictor> predictor;
  if (auto opened = openPredictor(options.platform, options.encoder, options.heads, options.threads)) {
    predictor = std::move(*opened);
    report.modelId = predictor->modelId;
  } else {
    logWarn("no prediction: {}", opened.error().message());
  }
  nlohmann::json recordedOptions = {{"files", options.files},       {"kernel", options.kernel},
                                    {"platform", options.platform}, {"global", options.globalSize},
                                    {"local", options.localSize},   {"args", *scalars},
                                    {"budget", options.budget},     {"dimension", options.dimension},
                                    {"mode", options.mode},         {"min_time", options.minTime}};
  if (Status opened = recorder.open(
          options.databasePath, "coarsen --run", recordedOptions,
          predictor ? std::vector<std::string>{predictor->modelId} : std::vector<std::string>{});
      !opened) {
    return opened.error();
  }
  if (predictor) {
    std::vector<LocalKernel> rows;
    std::vector<std::size_t> rowRun;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      if (!runs[r].plan) continue;
      LocalKernel row;
      row.source = runs[r].file;
      row.kernel = runs[r].kernel;
      rows.push_back(std::move(row));
      rowRun.push_back(r);
    }
    std::optional<DatabaseEmbeddingCache> cache;
    if (!options.noCache) cache.emplace(recorder.database());
    auto embeddings = embedLocalKernels(*predictor->encoder, rows, options.compile, cache ? &*cache : nullptr,
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
  ScratchFolder work;
  if (work.path.empty()) return Error(ErrorCode::kIo, "cannot make a scratch folder for the runs");
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
  for (std::size_t r = 0; r < runs.size(); ++r) {
    KernelRun& run = runs[r];
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
      recorder.prediction(std::move(record));
    }
  }
  report.recorded = recorder.end();
  return report;
}


}  // namespace mirtune::coarsen
