// `mirtune devmap FILE --run`, `devmap collect` and `devmap train --platform local`: measuring kernels on the
// local OpenCL devices through mirtune-run and learning from those measurements.
#include "tasks/common/DatabaseCache.h"
#include "cli/DeviceRuns.h"
#include "cli/DevmapOptions.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Progress.h"
#include "tasks/devmap/DevmapModel.h"
#include "tasks/devmap/Features.h"
#include "tasks/devmap/LocalData.h"
#include "tasks/devmap/Predict.h"
#include "tuner/KernelManifest.h"
#include "tuner/OpenClRun.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace mirtune::cli {

namespace {

namespace fs = std::filesystem;
using namespace mirtune::devmap;

// ---------------------------------------------------------------------------------------------------------
// Shared helpers.

/// The fastest ok device of a type (by median time with transfers), or null.
const DeviceRunResult* fastest(const std::vector<DeviceRunResult>& devices, const std::string& type) {
  const DeviceRunResult* best = nullptr;
  for (const DeviceRunResult& device : devices) {
    if (device.status != MeasureStatus::kOk || device.type != type) continue;
    if (best == nullptr || device.medianTotalSeconds < best->medianTotalSeconds) best = &device;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------
// devmap FILE --run

/// One kernel of one file: its plan, prediction and per-device outcome.
struct KernelRun {
  std::string file;
  std::string kernel;
  std::optional<runner::RunPlan> plan;
  std::optional<Error> error;  ///< the file does not build, the plan cannot be made or run at all
  bool buildFailed = false;
  std::optional<KernelPrediction> prediction;
  double transferBytes = 0;  ///< moved per launch (in + out)
  double wgsize = 0;         ///< as given to the prediction
  std::vector<DeviceRunResult> devices;

  bool anyOk() const {
    return std::any_of(devices.begin(), devices.end(),
                       [](const DeviceRunResult& device) { return device.status == MeasureStatus::kOk; });
  }
};

/// What the measurements say about the prediction.
struct Verdict {
  std::optional<Device> measuredBest;
  std::optional<bool> correct;
  std::optional<bool> outputsAgree;  ///< null when fewer than two devices produced output
  std::string outputs;               ///< one line about the outputs
  std::string check;                 ///< one line about the prediction
};

Verdict judge(const KernelRun& run) {
  Verdict verdict;
  std::size_t finished = 0;
  std::vector<std::string> wrong;
  for (const DeviceRunResult& device : run.devices) {
    if (device.status == MeasureStatus::kOk) ++finished;
    if (device.status == MeasureStatus::kWrongOutput) {
      ++finished;
      wrong.push_back(fmt::format("{} ({}): {}", deviceIndex(device), device.name, device.message));
    }
  }
  if (!wrong.empty()) {
    verdict.outputsAgree = false;
    verdict.outputs = fmt::format("outputs differ (wrong_output): {}", fmt::join(wrong, "; "));
  } else if (finished >= 2) {
    verdict.outputsAgree = true;
    verdict.outputs = fmt::format("outputs agree across {} devices", finished);
  } else if (finished == 1) {
    verdict.outputs = "one device ran ok: no other device's outputs to compare with";
  } else {
    verdict.outputs = "no device ran ok";
  }

  const DeviceRunResult* cpu = fastest(run.devices, "CPU");
  const DeviceRunResult* gpu = fastest(run.devices, "GPU");
  if (cpu != nullptr && gpu != nullptr) {
    verdict.measuredBest = gpu->medianTotalSeconds < cpu->medianTotalSeconds ? Device::kGpu : Device::kCpu;
    std::string measured =
        fmt::format("{} faster: GPU {} vs CPU {} with transfers", deviceName(*verdict.measuredBest),
                    formatSeconds(gpu->medianTotalSeconds), formatSeconds(cpu->medianTotalSeconds));
    if (run.prediction && !run.prediction->error) {
      verdict.correct = run.prediction->device == *verdict.measuredBest;
      verdict.check = fmt::format("{}: the prediction ({}) was {}", measured,
                                  deviceName(run.prediction->device), *verdict.correct ? "right" : "wrong");
    } else {
      verdict.check = measured + "; no prediction to check";
    }
    return verdict;
  }
  std::set<std::string> types;
  for (const DeviceRunResult& device : run.devices)
    types.insert(device.type.empty() ? "unknown" : device.type);
  bool bothPresent = types.count("CPU") != 0 && types.count("GPU") != 0;
  if (bothPresent) {
    verdict.check = "the prediction cannot be checked: the CPU or the GPU device did not run ok";
  } else {
    verdict.check =
        fmt::format("the prediction cannot be checked here: this machine has only {} OpenCL devices",
                    fmt::join(types, " and "));
  }
  return verdict;
}

nlohmann::json deviceJson(const DeviceRunResult& device) {
  nlohmann::json json = {{"device_index", deviceIndex(device)},
                         {"platform", device.platformName},
                         {"name", device.name},
                         {"type", device.type},
                         {"status", measureStatusName(device.status)},
                         {"repetitions", device.totalSeconds.size()}};
  if (!device.totalSeconds.empty()) {
    json["median_kernel_s"] = device.medianKernelSeconds;
    json["iqr_kernel_s"] = device.iqrKernelSeconds;
    json["median_total_s"] = device.medianTotalSeconds;
    json["iqr_total_s"] = device.iqrTotalSeconds;
  }
  if (!device.message.empty()) json["message"] = device.message;
  if (!device.buildLog.empty()) json["build_log"] = device.buildLog;
  return json;
}

/// Each line of a message, indented under its kernel.
std::string indent(const std::string& message) {
  std::string out;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    if (end > start) out += "      " + message.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string deviceLine(const DeviceRunResult& device) {
  std::string line = fmt::format("  device {}  {:<4} {}  {}", deviceIndex(device), device.type, device.name,
                                 measureStatusName(device.status));
  if (!device.totalSeconds.empty()) {
    line += fmt::format("  kernel {}  with transfers {}  IQR {}  {} repetitions",
                        formatSeconds(device.medianKernelSeconds), formatSeconds(device.medianTotalSeconds),
                        formatSeconds(device.iqrTotalSeconds), device.totalSeconds.size());
  }
  line += "\n";
  if (device.status != MeasureStatus::kOk && !device.message.empty()) line += indent(device.message);
  if (!device.buildLog.empty() && device.message.find(device.buildLog) == std::string::npos) {
    line += indent(device.buildLog);
  }
  return line;
}

/// The plan's scalar arguments by name, as they were passed (given or defaulted).
nlohmann::json scalarValues(const runner::RunPlan& plan) {
  nlohmann::json values = nlohmann::json::object();
  for (const runner::ArgSpec& arg : plan.args) {
    if (arg.kind != runner::ArgKind::kScalar) continue;
    if (runner::elementTypeInfo(arg.type).isFloat) {
      values[arg.name] = arg.scalarValue;
    } else {
      values[arg.name] = arg.scalarInt;
    }
  }
  return values;
}

/// The plan's scalar arguments as NAME=VALUE.
std::vector<std::string> scalarArguments(const runner::RunPlan& plan) {
  std::vector<std::string> scalars;
  for (const runner::ArgSpec& arg : plan.args) {
    if (arg.kind != runner::ArgKind::kScalar) continue;
    scalars.push_back(runner::elementTypeInfo(arg.type).isFloat
                          ? fmt::format("{}={:g}", arg.name, arg.scalarValue)
                          : fmt::format("{}={}", arg.name, arg.scalarInt));
  }
  return scalars;
}

struct ModelContext {
  Encoder encoder;
  DevmapModel model;
  std::string modelId;
};

fs::path headsDirectory(const DevmapPredictOptions& options, const GlobalOptions& global) {
  if (!options.heads.empty()) return options.heads;
  if (options.platform == kLocalPlatform) return defaultLocalModelDirectory();
  return defaultDevmapModelDirectory();
}

Expected<std::unique_ptr<ModelContext>> openModel(const DevmapPredictOptions& options,
                                                  const GlobalOptions& global) {
  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return encoder.error();
  fs::path directory = headsDirectory(options, global);
  auto model = loadDevmapModel(directory, *encoder);
  if (!model) return model.error();
  if (model->heads.count(options.platform) == 0) {
    return makeError(ErrorCode::kUsage, "no device-mapping head for platform '{}' in {} (has: {})",
                     options.platform, directory.string(), fmt::join(model->platforms(), ", "));
  }
  std::string id = fmt::format("{}/{}", directory.filename().string(), options.platform);
  return std::unique_ptr<ModelContext>(new ModelContext{std::move(*encoder), std::move(*model), id});
}

}  // namespace

int runDevmapRun(const DevmapPredictOptions& options, const GlobalOptions& global) {
  if (options.globalSize.empty()) {
    return reportError(Error(ErrorCode::kUsage,
                             "devmap --run needs --global N[,N[,N]]: the work-items to launch "
                             "(e.g. --global 1048576); --local M sets the work-group"));
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
  auto scalars = parseScalarArguments(options.args);
  if (!scalars) return reportError(scalars.error());
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  const fs::path runner = runnerExecutablePath();
  const std::string buildOptions = runnerBuildOptions(*compile);

  // 1. The kernels of each file (as the OpenCL driver sees them) and a default plan for each.
  std::vector<KernelRun> runs;
  for (const std::string& file : options.files) {
    auto listing = listKernelArgs(runner, file, buildOptions, options.timeout);
    if (!listing) {
      KernelRun run;
      run.file = file;
      run.kernel = options.kernel;
      run.buildFailed = listing.error().code() == ErrorCode::kCompileError;
      run.error = run.buildFailed
                      ? Error(listing.error().code(), nameTheSource(listing.error().message(), file))
                      : listing.error();
      runs.push_back(std::move(run));
      continue;
    }
    std::vector<std::string> names;
    std::size_t before = runs.size();
    for (const auto& kernel : (*listing)["kernels"]) {
      const std::string name = kernel.value("name", "");
      names.push_back(name);
      if (!options.kernel.empty() && name != options.kernel) continue;
      KernelRun run;
      run.file = file;
      run.kernel = name;
      DefaultPlanOptions planOptions;
      planOptions.globalSize = options.globalSize;
      planOptions.localSize = options.localSize;
      planOptions.transferBytes = options.transfer > 0 ? static_cast<std::uint64_t>(options.transfer) : 0;
      planOptions.scalarValues = *scalars;
      planOptions.buildOptions = buildOptions;
      auto plan = buildDefaultPlan(kernel, file, planOptions);
      if (plan) {
        plan->minTimeSeconds = options.minTime;
        run.transferBytes = static_cast<double>(planTransferBytes(*plan));
        run.plan = std::move(*plan);
      } else {
        run.error = plan.error();
      }
      runs.push_back(std::move(run));
    }
    if (runs.size() == before) {
      KernelRun run;
      run.file = file;
      run.kernel = options.kernel;
      run.error = names.empty() ? makeError(ErrorCode::kInvalidInput, "{}: no kernel in this file", file)
                                : makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})",
                                            file, options.kernel, fmt::join(names, ", "));
      runs.push_back(std::move(run));
    }
  }

  // 2. The prediction for each kernel at the launch it is run with.
  std::unique_ptr<ModelContext> model;
  std::string modelError;
  if (auto opened = openModel(options, global)) {
    model = std::move(*opened);
  } else {
    modelError = opened.error().message();
    logWarn("no prediction: {}", modelError);
  }
  Recorder recorder;
  nlohmann::json recordedOptions = {
      {"files", options.files},       {"kernel", options.kernel},   {"platform", options.platform},
      {"global", options.globalSize}, {"local", options.localSize}, {"args", *scalars},
      {"transfer", options.transfer}, {"timeout", options.timeout}, {"min_time", options.minTime}};
  if (Status opened =
          recorder.open(global, "devmap --run", recordedOptions,
                        model ? std::vector<std::string>{model->modelId} : std::vector<std::string>{});
      !opened) {
    return reportError(opened.error());
  }
  std::optional<DatabaseEmbeddingCache> cache;
  if (!options.noCache) cache.emplace(*recorder.database);
  if (model) {
    std::vector<KernelQuery> queries;
    std::vector<std::size_t> queryRun;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      KernelRun& run = runs[r];
      if (run.buildFailed || run.kernel.empty()) continue;
      const bool ownWgsize = options.wgsize >= 0;
      if (ownWgsize) {
        run.wgsize = options.wgsize;
      } else if (!options.localSize.empty()) {
        run.wgsize = run.plan ? static_cast<double>(planWorkGroupSize(*run.plan)) : 0;
      } else {
        run.wgsize = options.platform == kLocalPlatform ? 0 : kDefaultWgsize;
      }
      if (!run.plan) run.transferBytes = options.transfer >= 0 ? options.transfer : kDefaultTransferBytes;
      queries.push_back({run.file, run.kernel, run.transferBytes, run.wgsize});
      queryRun.push_back(r);
    }
    PredictOptions predict;
    predict.platform = options.platform;
    predict.compile = *compile;
    predict.cache = cache ? &*cache : nullptr;
    predict.threads = static_cast<unsigned>(options.threads);
    auto predictions = predictKernels(model->encoder, model->model, queries, predict);
    if (!predictions) {
      modelError = predictions.error().message();
      logWarn("no prediction: {}", modelError);
    } else {
      for (KernelPrediction& prediction : *predictions) {
        if (prediction.error)
          logWarn("no prediction for {}: {}", prediction.kernel, prediction.error->message());
        runs[queryRun[prediction.query]].prediction = std::move(prediction);
      }
    }
  }

  // 3. Every kernel on every device, one runner process per device.
  auto devices = probeOpenClDevices(runner);
  std::optional<Error> deviceError;
  if (!devices) {
    deviceError = devices.error();
  } else if (devices->empty()) {
    deviceError = makeError(ErrorCode::kNotFound,
                            "no OpenCL device: the ICD loader lists no platform (install an "
                            "ICD such as pocl-opencl-icd or set OCL_ICD_VENDORS)");
  }
  for (KernelRun& run : runs) {
    if (run.buildFailed && devices) {
      run.devices = failedOnEvery(*devices, MeasureStatus::kBuildFailed, run.error->message());
      continue;
    }
    if (!run.plan) continue;
    if (deviceError) {
      run.error = deviceError;
      continue;
    }
    logInfo("running {} on {} OpenCL device(s)", run.kernel, devices->size());
    OpenClRunRequest request;
    request.plan = *run.plan;
    request.timeoutSeconds = options.timeout;
    request.devices = *devices;
    auto result = runOnAllDevices(request, runner);
    if (!result) {
      run.error = result.error();
      continue;
    }
    run.devices = std::move(result->devices);
    for (DeviceRunResult& device : run.devices) {
      device.message = nameTheSource(device.message, run.file);
      device.buildLog = nameTheSource(device.buildLog, run.file);
    }
  }

  // 4. The database: the workload, one measurement per device, the prediction with whether it was right.
  std::vector<Verdict> verdicts;
  for (const KernelRun& run : runs) verdicts.push_back(judge(run));
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const KernelRun& run = runs[r];
    std::string irSha = run.prediction && !run.prediction->error ? run.prediction->irSha256 : "";
    auto workload = recorder.workload(run.file, irSha);
    if (!workload) continue;
    nlohmann::json configuration = {{"kernel", run.kernel},
                                    {"global", run.plan ? run.plan->globalSize : options.globalSize},
                                    {"local", run.plan ? run.plan->localSize : options.localSize},
                                    {"transfer", run.transferBytes},
                                    {"args", run.plan ? scalarValues(*run.plan) : nlohmann::json(*scalars)}};
    for (const DeviceRunResult& device : run.devices)
      recorder.measurement(*workload, "devmap", configuration, device);
    if (run.prediction && !run.prediction->error && model) {
      const KernelPrediction& prediction = *run.prediction;
      PredictionRecord record;
      record.sessionId = recorder.sessionId;
      record.workloadId = *workload;
      record.task = "devmap";
      record.modelId = model->modelId;
      const Verdict& verdict = verdicts[r];
      record.configuration = {
          {"kernel", prediction.kernel},
          {"platform", options.platform},
          {"transfer", prediction.transferBytes},
          {"wgsize", prediction.wgsize},
          {"device", deviceName(prediction.device)},
          {"measured_best", verdict.measuredBest ? nlohmann::json(deviceName(*verdict.measuredBest))
                                                 : nlohmann::json(nullptr)},
          {"correct", verdict.correct ? nlohmann::json(*verdict.correct) : nlohmann::json(nullptr)}};
      record.score =
          prediction.device == Device::kGpu ? prediction.gpuProbability : 1 - prediction.gpuProbability;
      if (auto stored = recorder.database->insertPrediction(record); !stored) recorder.keep(stored.error());
    }
  }
  const bool recorded = recorder.end();

  // 5. The report.
  bool anyOk = false, failed = !recorded;
  for (const KernelRun& run : runs) {
    anyOk = anyOk || run.anyOk();
    if (run.error || run.buildFailed) failed = true;
  }
  const int status = (!anyOk || failed) ? 1 : 0;
  if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const KernelRun& run = runs[r];
      const Verdict& verdict = verdicts[r];
      nlohmann::json prediction = nullptr;
      if (run.prediction && !run.prediction->error) {
        const KernelPrediction& p = *run.prediction;
        prediction = {{"device", deviceName(p.device)},
                      {"probability", p.device == Device::kGpu ? p.gpuProbability : 1 - p.gpuProbability},
                      {"gpu_probability", p.gpuProbability},
                      {"platform", options.platform},
                      {"model", model ? model->modelId : ""},
                      {"transfer", p.transferBytes},
                      {"wgsize", p.wgsize}};
      }
      nlohmann::json devicesJson = nlohmann::json::array();
      for (const DeviceRunResult& device : run.devices) devicesJson.push_back(deviceJson(device));
      nlohmann::json entry = {
          {"file", run.file},
          {"kernel", run.kernel},
          {"launch",
           {{"global", run.plan ? run.plan->globalSize : options.globalSize},
            {"local", run.plan ? run.plan->localSize : options.localSize},
            {"transfer", run.transferBytes},
            {"args", run.plan ? nlohmann::json(scalarArguments(*run.plan)) : nlohmann::json::array()}}},
          {"prediction", prediction},
          {"devices", devicesJson},
          {"outputs_agree",
           verdict.outputsAgree ? nlohmann::json(*verdict.outputsAgree) : nlohmann::json(nullptr)},
          {"measured_best", verdict.measuredBest ? nlohmann::json(deviceName(*verdict.measuredBest))
                                                 : nlohmann::json(nullptr)},
          {"prediction_correct",
           verdict.correct ? nlohmann::json(*verdict.correct) : nlohmann::json(nullptr)},
          {"check", verdict.check}};
      if (run.prediction && run.prediction->error) {
        entry["prediction_error"] = run.prediction->error->message();
      } else if (!run.prediction && !modelError.empty()) {
        entry["prediction_error"] = modelError;
      }
      if (run.error) entry["error"] = run.error->message();
      list.push_back(std::move(entry));
    }
    int written = writeOutput(options.output, list.dump(2) + "\n");
    return written != 0 ? written : status;
  }
  std::string text;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const KernelRun& run = runs[r];
    const Verdict& verdict = verdicts[r];
    text += fmt::format("{}  {}\n", run.file, run.kernel.empty() ? "(every kernel)" : run.kernel);
    if (run.plan) {
      std::vector<std::string> args = scalarArguments(*run.plan);
      text += fmt::format("  launch      global {}, local {}; {:.0f} bytes moved per launch (in + out){}\n",
                          formatSizes(run.plan->globalSize), formatSizes(run.plan->localSize),
                          run.transferBytes, args.empty() ? "" : fmt::format("; {}", fmt::join(args, " ")));
    }
    if (run.prediction && !run.prediction->error) {
      const KernelPrediction& p = *run.prediction;
      text += fmt::format(
          "  prediction  {}, probability {:.3f} (platform {}; transfer {:.0f} bytes, work-group {:.0f})\n",
          deviceName(p.device), p.device == Device::kGpu ? p.gpuProbability : 1 - p.gpuProbability,
          options.platform, p.transferBytes, p.wgsize);
    } else if (run.prediction && run.prediction->error) {
      text += fmt::format("  prediction  none: {}\n", run.prediction->error->message());
    } else if (!run.buildFailed && !modelError.empty()) {
      text += fmt::format("  prediction  none: {}\n", modelError);
    }
    if (run.buildFailed) {
      text += fmt::format("  build_failed on every device:\n");
      for (const DeviceRunResult& device : run.devices) {
        text += fmt::format("  device {}  {:<4} {}  build_failed\n", deviceIndex(device), device.type,
                            device.name);
      }
      text += indent(run.error->message());
      continue;
    }
    if (run.error) {
      text += "  not run:\n" + indent(run.error->message());
      continue;
    }
    for (const DeviceRunResult& device : run.devices) text += deviceLine(device);
    text += fmt::format("  outputs     {}\n", verdict.outputs);
    text += fmt::format("  measured    {}\n", verdict.check);
  }
  int written = writeOutput(options.output, text);
  return written != 0 ? written : status;
}

// ---------------------------------------------------------------------------------------------------------
// devmap collect

int runDevmapCollect(const DevmapCollectOptions& options, const GlobalOptions& global) {
  auto indices = parseSizeIndices(options.sizes);
  if (!indices) return reportError(indices.error());
  const fs::path directory = options.kernels.empty() ? kernelSuiteDirectory() : fs::path(options.kernels);
  auto suite = loadKernelSuite(directory);
  if (!suite) return reportError(suite.error());
  if (suite->empty()) {
    return reportError(
        makeError(ErrorCode::kNotFound, "{}: no kernel manifests (*.json)", directory.string()));
  }
  const fs::path runner = runnerExecutablePath();
  auto devices = probeOpenClDevices(runner);
  if (!devices) return reportError(devices.error());
  if (devices->empty()) {
    return reportError(Error(ErrorCode::kNotFound,
                             "no OpenCL device: the ICD loader lists no platform (install an "
                             "ICD such as pocl-opencl-icd or set OCL_ICD_VENDORS)"));
  }

  // Which (manifest, N) to measure.
  std::vector<std::pair<const KernelManifest*, std::int64_t>> work;
  for (const KernelManifest& manifest : *suite) {
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

  Recorder recorder;
  nlohmann::json recordedOptions = {{"kernels", fs::absolute(directory).string()},
                                    {"sizes", options.sizes},
                                    {"timeout", options.timeout},
                                    {"min_time", options.minTime}};
  if (Status opened = recorder.open(global, "devmap collect", recordedOptions, {}); !opened) {
    return reportError(opened.error());
  }
  std::vector<std::string> devicesText;
  for (const OpenClDevice& device : *devices) {
    devicesText.push_back(
        fmt::format("{}:{} {} {}", device.platformIndex, device.deviceIndex, device.type, device.name));
  }
  logInfo("devmap collect: {} runs ({} kernels) on {} device(s): {}", work.size(), suite->size(),
          devices->size(), fmt::join(devicesText, "; "));

  struct Row {
    std::string kernel;
    std::int64_t n = 0;
    std::vector<std::string> cells;
  };
  std::vector<Row> table;
  std::size_t ok = 0, total = 0;
  ProgressLine progress("devmap collect", work.size());
  for (const auto& [manifest, n] : work) {
    Row row{manifest->name, n, {}};
    std::vector<DeviceRunResult> results;
    nlohmann::json configuration = {{"kernel", manifest->kernel}, {"manifest", manifest->name}, {"n", n}};
    auto request = makeRunRequest(*manifest, n);
    if (request) {
      request->plan.minTimeSeconds = options.minTime;
      request->timeoutSeconds = options.timeout;
      request->devices = *devices;
      configuration["global"] = request->plan.globalSize;
      configuration["local"] = request->plan.localSize;
      configuration["transfer"] = planTransferBytes(request->plan);
      configuration["build_options"] = request->plan.buildOptions;
      auto result = runOnAllDevices(*request, runner);
      if (result) {
        results = std::move(result->devices);
      } else {
        results = failedOnEvery(*devices, MeasureStatus::kRunFailed, result.error().message());
      }
    } else {
      results = failedOnEvery(*devices, MeasureStatus::kRunFailed, request.error().message());
    }
    auto workload = recorder.workload(manifest->source);
    for (const DeviceRunResult& device : results) {
      ++total;
      if (device.status == MeasureStatus::kOk) ++ok;
      if (workload) recorder.measurement(*workload, kCollectTask, configuration, device);
      row.cells.push_back(device.status == MeasureStatus::kOk
                              ? formatSeconds(device.medianTotalSeconds)
                              : std::string(measureStatusName(device.status)));
      if (device.status != MeasureStatus::kOk) {
        logWarn("{} N={} on {} ({}): {}: {}", manifest->name, n, deviceIndex(device), device.name,
                measureStatusName(device.status), device.message);
      }
    }
    table.push_back(std::move(row));
    progress.advance(1, fmt::format("{} N={}", manifest->name, n));
  }
  progress.finish();
  const bool recorded = recorder.end();

  // The table: kernel, N, then per device its median time with transfers (or the failure).
  std::size_t kernelWidth = 6;
  for (const Row& row : table) kernelWidth = std::max(kernelWidth, row.kernel.size());
  std::string text;
  for (const std::string& device : devicesText) text += fmt::format("# device {}\n", device);
  text += fmt::format("# median time with transfers (writes + kernel + reads) per device\n");
  text += fmt::format("{:<{}}  {:>10}", "kernel", kernelWidth, "N");
  for (const OpenClDevice& device : *devices) {
    text += fmt::format("  {:>14}",
                        fmt::format("{}:{} {}", device.platformIndex, device.deviceIndex, device.type));
  }
  text += "\n";
  for (const Row& row : table) {
    text += fmt::format("{:<{}}  {:>10}", row.kernel, kernelWidth, row.n);
    for (const std::string& cell : row.cells) text += fmt::format("  {:>14}", cell);
    text += "\n";
  }
  text += fmt::format("# {} of {} measurements ok, recorded in {} (session {})\n", ok, total,
                      recorder.database->path().string(), recorder.sessionId);
  fmt::print("{}", text);
  return ok > 0 && recorded ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------------
// devmap train --platform local

int runDevmapTrainLocal(const DevmapTrainOptions& options, const GlobalOptions& global) {
  auto candidates = headCandidates(options.headKind, options.threads);
  if (!candidates) return reportError(candidates.error());
  const fs::path databasePath = resolveDatabasePath(global);
  if (!fs::exists(databasePath)) {
    return reportError(makeError(ErrorCode::kNotFound,
                                 "no database at {}: run `mirtune devmap collect` first",
                                 databasePath.string()));
  }
  auto database = Database::open(databasePath, Database::OpenMode::kExisting);
  if (!database) return reportError(database.error());
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  const PlatformInfo platform = probePlatform(probe);
  auto data = loadLocalData(*database, platform.fingerprint);
  if (!data) return reportError(data.error());
  if (Status usable = checkLocalData(*data); !usable) {
    return reportError(usable.error().withContext(databasePath.string()));
  }
  std::size_t gpuFaster = 0;
  for (const LocalRow& row : data->rows) gpuFaster += row.oracle() == Device::kGpu ? 1 : 0;
  logInfo("{} rows ({} with the GPU faster) from {} measurements of this machine", data->rows.size(),
          gpuFaster, data->measurements);
  if (gpuFaster == 0 || gpuFaster == data->rows.size()) {
    logWarn("the {} is faster on every row: the head can only learn to always answer that",
            gpuFaster == 0 ? "CPU" : "GPU");
  }

  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  std::optional<DatabaseEmbeddingCache> cache;
  if (!options.noCache) cache.emplace(*database);
  auto embeddings = embedLocalRows(*encoder, data->rows, CompileOptions{}, cache ? &*cache : nullptr,
                                   static_cast<unsigned>(options.threads));
  if (!embeddings) return reportError(embeddings.error());

  // A few dozen rows: one thread per fit is fastest, and more only spin against each other under load.
  heads::setTorchThreads(1);
  for (heads::Candidate& candidate : *candidates) {
    if (candidate.kind == "xgboost") candidate.params["nthread"] = 1;
  }
  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.seed = options.seed;
  evalOptions.innerFolds = 3;  // the rows are few
  auto head = trainLocalHead(data->rows, *embeddings, evalOptions);
  if (!head) return reportError(head.error());
  logInfo("local: {} head, {} weighting, inner cross-validation accuracy {:.4f}", head->candidate.kind,
          weightingName(head->weighting), head->innerAccuracy);

  std::set<std::string> kernels;
  for (const LocalRow& row : data->rows) kernels.insert(row.manifest.empty() ? row.kernel : row.manifest);
  nlohmann::json devicesJson = nlohmann::json::object();
  for (const auto& [type, names] : data->devicesByType) devicesJson[type] = names;
  nlohmann::json source = {{"data_set", "devmap collect"},
                           {"database", fs::absolute(databasePath).string()},
                           {"platform_fingerprint", platform.fingerprint},
                           {"cpu_model", platform.cpuModel},
                           {"devices", devicesJson},
                           {"kernels", kernels},
                           {"gpu_faster_rows", gpuFaster}};
  std::vector<PlatformHead> trained;
  trained.push_back({kLocalPlatform, std::move(*head), data->rows.size(), source});
  const fs::path out = options.out.empty() ? defaultLocalModelDirectory() : fs::path(options.out);
  std::string command = options.command;
  if (command.empty()) {
    command = fmt::format("mirtune devmap train --platform local --head-kind {} --seed {}", options.headKind,
                          options.seed);
  }
  if (Status saved = saveDevmapModel(out, *encoder, IrSource::kSource, trained, command); !saved) {
    return reportError(saved.error());
  }
  fmt::print("{}\n", out.string());
  return 0;
}

}  // namespace mirtune::cli
