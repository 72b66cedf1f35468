// Device-mapping workflows: predict-and-record, run (predict, measure, judge, record), collect and train.
#include "tasks/devmap/Workflows.h"

#include "database/Database.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/devmap/Evaluate.h"
#include "tasks/devmap/Features.h"
#include "tasks/devmap/LocalData.h"
#include "tasks/devmap/RowEmbeddings.h"
#include "tuner/KernelManifest.h"
#include "tuner/OpenClMeasurer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace mirtune::devmap {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------
// Prediction

fs::path defaultHeadsDirectory(const std::string& platform) {
  return platform == kLocalPlatform ? defaultLocalModelDirectory() : defaultDevmapModelDirectory();
}

Expected<std::unique_ptr<Predictor>> openPredictor(const PredictSetup& setup, bool suggestLocal) {
  configureThreads(setup.threads);
  auto encoder = Encoder::loadOrDefault(setup.encoder);
  if (!encoder) return encoder.error();
  const fs::path directory = setup.heads.empty() ? defaultHeadsDirectory(setup.platform) : fs::path(setup.heads);
  auto model = loadDevmapModel(directory, *encoder);
  if (!model) return model.error();
  if (model->heads.count(setup.platform) == 0) {
    return makeError(ErrorCode::kUsage, "no device-mapping head for platform '{}' in {} (has: {}{})",
                     setup.platform, directory.string(), fmt::join(model->platforms(), ", "),
                     suggestLocal ? "; `mirtune devmap collect` and `train --platform local` make a local one" : "");
  }
  std::string id = fmt::format("{}/{}", directory.filename().string(), setup.platform);
  return std::unique_ptr<Predictor>(new Predictor{std::move(*encoder), std::move(*model), std::move(id)});
}

double chosenProbability(const KernelPrediction& prediction) {
  return prediction.device == Device::kGpu ? prediction.gpuProbability : 1 - prediction.gpuProbability;
}

namespace {

// A prediction as the log stores it; a failed one has its error and no device.
PredictionRecord predictionRecord(const KernelPrediction& prediction, const std::string& platform,
                                  const std::string& modelId) {
  PredictionRecord record;
  record.task = "devmap";
  record.modelId = modelId;
  record.configuration = {{"kernel", prediction.kernel},
                          {"platform", platform},
                          {"transfer", prediction.transferBytes},
                          {"wgsize", prediction.wgsize}};
  if (prediction.error) {
    record.configuration["error"] = prediction.error->message();
  } else {
    record.configuration["device"] = deviceName(prediction.device);
    record.score = chosenProbability(prediction);
  }
  return record;
}

// Records the predictions of one command: a session, one workload per file, one prediction each. Every
// prediction is tried; the first database error is returned so the command can fail with it.
Status recordPredictions(Database& database, const std::string& command, const nlohmann::json& options,
                         const std::string& modelId, const std::vector<KernelPrediction>& predictions) {
  auto failure = [](const Error& error) { return notAllRecorded(error, "predictions"); };
  SessionRecord session;
  session.toolVersion = toolVersion();
  session.gitCommit = gitCommit();
  session.command = command;
  session.options = options;
  session.modelIds = {modelId};
  auto sessionId = database.beginSession(session);
  if (!sessionId) return failure(sessionId.error());
  std::optional<Error> first;
  std::map<std::string, std::string> irShaOf;  // a file's IR as its first answered kernel embedded it
  for (const KernelPrediction& prediction : predictions) {
    if (!prediction.error) irShaOf.emplace(prediction.file, prediction.irSha256);
  }
  std::map<std::string, std::int64_t> workloadOf;
  for (const KernelPrediction& prediction : predictions) {
    if (workloadOf.count(prediction.file) == 0) {
      auto content = sha256File(prediction.file);
      if (!content) continue;  // a file that cannot be read names no workload
      std::optional<std::string> irSha;
      if (auto known = irShaOf.find(prediction.file); known != irShaOf.end()) irSha = known->second;
      auto workload = database.upsertWorkload({0, *content, irSha, "opencl", prediction.file, {}});
      if (!workload) {
        if (!first) first = failure(workload.error());
        continue;
      }
      workloadOf[prediction.file] = *workload;
    }
    PredictionRecord record = predictionRecord(prediction, options.value("platform", ""), modelId);
    record.sessionId = *sessionId;
    record.workloadId = workloadOf[prediction.file];
    if (auto stored = database.insertPrediction(record); !stored && !first) first = failure(stored.error());
  }
  if (auto ended = database.endSession(*sessionId); !ended && !first) first = failure(ended.error());
  if (first) return *first;
  return success();
}

}  // namespace

Expected<PredictOutcome> predictAndRecord(const PredictSetup& setup, const PredictRun& run) {
  auto predictor = openPredictor(setup, true);
  if (!predictor) return predictor.error();
  CacheHandle cache;
  if (Status opened = openCache(cache, setup.noCache, setup.databasePath); !opened) return opened.error();
  PredictOptions predict;
  predict.platform = setup.platform;
  predict.compile = run.compile;
  predict.cache = cache.get();
  predict.threads = static_cast<unsigned>(setup.threads);
  predict.progress = run.progress;
  auto predictions = predictKernels((*predictor)->encoder, (*predictor)->model, run.queries, predict);
  if (!predictions) return predictions.error();
  PredictOutcome outcome;
  outcome.modelId = (*predictor)->modelId;
  Status recorded;
  if (cache.database) {
    recorded = recordPredictions(*cache.database, run.command, run.recordedOptions, outcome.modelId, *predictions);
  }
  if (Status cached = cache.status(); !cached) outcome.databaseErrors.push_back(cached.error());
  if (!recorded) outcome.databaseErrors.push_back(recorded.error());
  outcome.predictions = std::move(*predictions);
  return outcome;
}

// ---------------------------------------------------------------------------------------------------------
// Training

namespace {

// Kernel-grouped folds of the out-of-fold evidence a shipped policy is fitted on.
constexpr int kSafetyFolds = 10;

Expected<fs::path> trainDatasetHeads(const TrainRequest& request) {
  auto irSource = parseIrSource(request.ir);
  if (!irSource) return irSource.error();
  auto candidates = headCandidates(request.headKind, request.threads);
  if (!candidates) return candidates.error();
  auto selected = platformIndices(request.platform);
  if (!selected) return selected.error();
  const std::vector<std::size_t>& platforms = *selected;
  auto loaded = loadFusedRows(request.data, request.encoder, *irSource, request.noCache, request.databasePath,
                              request.threads);
  if (!loaded) return loaded.error();
  const DevmapData* data = &loaded->data;
  const RowEmbeddings* embeddings = &loaded->embeddings;
  const Encoder* encoder = &loaded->encoder;

  auto auxCandidates = headCandidates("xgboost", request.threads);
  if (!auxCandidates) return auxCandidates.error();
  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.seed = request.seed;
  EvalOptions auxOptions = evalOptions;
  auxOptions.candidates = *auxCandidates;
  std::vector<std::size_t> allRows;
  for (const DevmapRow& row : data->rows) allRows.push_back(row.row);
  // Kernels (all input sizes of one benchmark kernel) for the novelty index and the grouped folds of the
  // evidence.
  const KernelTable kernels = kernelTable(*data, &embeddings->vectors.front());
  auto novelty = heads::NoveltyIndex::build(kernels.vectors);
  if (!novelty) return novelty.error();
  std::vector<PlatformHead> trained;
  for (std::size_t platform : platforms) {
    const std::string name(kPlatforms[platform].name);
    heads::FeatureMatrix features = rowFeatureMatrix(*data, platform, &embeddings->vectors.front());
    heads::FeatureMatrix auxFeatures = rowFeatureMatrix(*data, platform, nullptr);
    auto head = trainHead(*data, platform, allRows, features, evalOptions);
    if (!head) return head.error();
    logInfo("{}: {} head, {} weighting, inner cross-validation accuracy {:.4f}", name, head->candidate.kind,
            weightingName(head->weighting), head->innerAccuracy);
    auto auxHead = trainHead(*data, platform, allRows, auxFeatures, auxOptions);
    if (!auxHead) return auxHead.error().withContext(name + " launch-only head");
    // Calibration, fallback and threshold from predictions of kernels each model never saw.
    auto evidence = collectEvidence(*data, platform, allRows, features, auxFeatures, kernels, *head, *auxHead,
                                    kSafetyFolds, request.seed);
    if (!evidence) return evidence.error().withContext(name);
    auto policy = fitSafePolicy(*data, platform, *evidence, kernels, kSafetyFolds, request.seed);
    if (!policy) return policy.error().withContext(name);
    logInfo(
        "{}: calibration {}, fallback {} when novelty > {:.2f} (ECE over kernel-grouped folds {:.4f} raw)",
        name, heads::calibrationKindName(policy->policy.calibrator.kind()),
        policyName(policy->policy.fallback), policy->policy.noveltyThreshold,
        policy->diagnostics["ece_before"].get<double>());
    nlohmann::json source = {{"data_set", "devmap/" + std::string(kPlatforms[platform].csvFile)},
                             {"hardware", kPlatforms[platform].hardware},
                             {"rows_using_ll_file",
                              std::count(embeddings->fromIrFile.begin(), embeddings->fromIrFile.end(), true)},
                             {"kernels", kernels.names.size()}};
    PlatformHead entry{name,   std::move(*head),   allRows.size(),
                       source, std::move(*policy), std::move(*auxHead)};
    trained.push_back(std::move(entry));
  }
  const fs::path out = request.out.empty() ? userModelDirectory("devmap", kShippedDevmapName) : fs::path(request.out);
  if (Status saved = saveDevmapModel(out, *encoder, *irSource, trained, request.command, &*novelty); !saved) {
    return saved.error();
  }
  return out;
}

Expected<fs::path> trainLocalHeads(const TrainRequest& request) {
  auto candidates = headCandidates(request.headKind, request.threads);
  if (!candidates) return candidates.error();
  const fs::path databasePath = request.databasePath;
  auto database = openCollectedDatabase(databasePath, "mirtune devmap collect");
  if (!database) return database.error();
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  const PlatformInfo platform = probePlatform(probe);
  auto data = loadLocalData(*database, platform.fingerprint);
  if (!data) return data.error();
  if (Status usable = checkLocalData(*data); !usable) return usable.error().withContext(databasePath.string());
  std::size_t gpuFaster = 0;
  for (const LocalRow& row : data->rows) gpuFaster += row.oracle() == Device::kGpu ? 1 : 0;
  logInfo("{} rows ({} with the GPU faster) from {} measurements of this machine", data->rows.size(), gpuFaster,
          data->measurements);
  if (gpuFaster == 0 || gpuFaster == data->rows.size()) {
    logWarn("the {} is faster on every row: the head can only learn to always answer that",
            gpuFaster == 0 ? "CPU" : "GPU");
  }

  configureThreads(request.threads);
  auto encoder = Encoder::loadOrDefault(request.encoder);
  if (!encoder) return encoder.error();
  std::optional<DatabaseEmbeddingCache> cache;
  if (!request.noCache) cache.emplace(*database);
  auto embeddings = embedLocalRows(*encoder, data->rows, CompileOptions{}, cache ? &*cache : nullptr,
                                   static_cast<unsigned>(request.threads));
  if (!embeddings) return embeddings.error();

  useOneThreadPerFit(*candidates);
  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.seed = request.seed;
  evalOptions.innerFolds = 3;  // the rows are few
  auto head = trainLocalHead(data->rows, *embeddings, evalOptions);
  if (!head) return head.error();
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
  PlatformHead entry{kLocalPlatform, std::move(*head), data->rows.size(), source, std::nullopt, std::nullopt};
  trained.push_back(std::move(entry));
  const fs::path out = request.out.empty() ? defaultLocalModelDirectory() : fs::path(request.out);
  std::string command = request.command;
  if (command.empty()) {
    command = fmt::format("mirtune devmap train --platform local --head-kind {} --seed {}", request.headKind,
                          request.seed);
  }
  if (Status saved = saveDevmapModel(out, *encoder, IrSource::kSource, trained, command); !saved) {
    return saved.error();
  }
  return out;
}

}  // namespace

Expected<fs::path> trainHeads(const TrainRequest& request) {
  return request.platform == kLocalPlatform ? trainLocalHeads(request) : trainDatasetHeads(request);
}

// ---------------------------------------------------------------------------------------------------------
// devmap FILE --run

namespace {

/// The fastest ok device of a type (by median time with transfers), or null.
const DeviceRunResult* fastest(const std::vector<DeviceRunResult>& devices, const std::string& type) {
  const DeviceRunResult* best = nullptr;
  for (const DeviceRunResult& device : devices) {
    if (device.status != MeasureStatus::kOk || device.type != type) continue;
    if (best == nullptr || device.medianTotalSeconds < best->medianTotalSeconds) best = &device;
  }
  return best;
}

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
    std::string measured = fmt::format("{} faster: GPU {} vs CPU {} with transfers", deviceName(*verdict.measuredBest),
                                       formatSeconds(gpu->medianTotalSeconds), formatSeconds(cpu->medianTotalSeconds));
    if (run.prediction && !run.prediction->error) {
      verdict.correct = run.prediction->device == *verdict.measuredBest;
      verdict.check = fmt::format("{}: the prediction ({}) was {}", measured, deviceName(run.prediction->device),
                                  *verdict.correct ? "right" : "wrong");
    } else {
      verdict.check = measured + "; no prediction to check";
    }
    return verdict;
  }
  std::set<std::string> types;
  for (const DeviceRunResult& device : run.devices) types.insert(device.type.empty() ? "unknown" : device.type);
  bool bothPresent = types.count("CPU") != 0 && types.count("GPU") != 0;
  if (bothPresent) {
    verdict.check = "the prediction cannot be checked: the CPU or the GPU device did not run ok";
  } else {
    verdict.check = fmt::format("the prediction cannot be checked here: this machine has only {} OpenCL devices",
                                fmt::join(types, " and "));
  }
  return verdict;
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

Status checkLaunch(const RunRequest& request) {
  if (request.globalSize.empty()) {
    return Error(ErrorCode::kUsage,
                 "devmap --run needs --global N[,N[,N]]: the work-items to launch "
                 "(e.g. --global 1048576); --local M sets the work-group");
  }
  return checkLaunchGeometry(request.globalSize, request.localSize);
}

// The kernels of each file (as the OpenCL driver sees them) and a default plan for each.
std::vector<KernelRun> planKernels(const RunRequest& request, const std::map<std::string, std::string>& scalars,
                                   const fs::path& runner, const std::string& buildOptions) {
  std::vector<KernelRun> runs;
  for (const std::string& file : request.files) {
    auto listing = listKernelArgs(runner, file, buildOptions, request.timeout);
    if (!listing) {
      KernelRun run;
      run.file = file;
      run.kernel = request.kernel;
      run.buildFailed = listing.error().code() == ErrorCode::kCompileError;
      run.error = run.buildFailed ? Error(listing.error().code(), nameTheSource(listing.error().message(), file))
                                  : listing.error();
      runs.push_back(std::move(run));
      continue;
    }
    std::vector<std::string> names;
    std::size_t before = runs.size();
    for (const auto& kernel : (*listing)["kernels"]) {
      const std::string name = kernel.value("name", "");
      names.push_back(name);
      if (!request.kernel.empty() && name != request.kernel) continue;
      KernelRun run;
      run.file = file;
      run.kernel = name;
      DefaultPlanOptions planOptions;
      planOptions.globalSize = request.globalSize;
      planOptions.localSize = request.localSize;
      planOptions.transferBytes = request.transfer > 0 ? static_cast<std::uint64_t>(request.transfer) : 0;
      planOptions.scalarValues = scalars;
      planOptions.buildOptions = buildOptions;
      auto plan = buildDefaultPlan(kernel, file, planOptions);
      if (plan) {
        plan->minTimeSeconds = request.minTime;
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
      run.kernel = request.kernel;
      run.error = names.empty() ? makeError(ErrorCode::kInvalidInput, "{}: no kernel in this file", file)
                                : makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})", file,
                                            request.kernel, fmt::join(names, ", "));
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

// The prediction for each kernel at the launch it is run with.
void predictRuns(const RunRequest& request, const Predictor& predictor, EmbeddingCache* cache,
                 std::vector<KernelRun>& runs, std::string& modelError) {
  std::vector<KernelQuery> queries;
  std::vector<std::size_t> queryRun;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    KernelRun& run = runs[r];
    if (run.buildFailed || run.kernel.empty()) continue;
    if (request.wgsize >= 0) {
      run.wgsize = request.wgsize;
    } else if (!request.localSize.empty()) {
      run.wgsize = run.plan ? static_cast<double>(planWorkGroupSize(*run.plan)) : 0;
    } else {
      run.wgsize = request.setup.platform == kLocalPlatform ? 0 : kDefaultWgsize;
    }
    if (!run.plan) run.transferBytes = request.transfer >= 0 ? request.transfer : kDefaultTransferBytes;
    queries.push_back({run.file, run.kernel, run.transferBytes, run.wgsize});
    queryRun.push_back(r);
  }
  PredictOptions predict;
  predict.platform = request.setup.platform;
  predict.compile = request.compile;
  predict.cache = cache;
  predict.threads = static_cast<unsigned>(request.setup.threads);
  auto predictions = predictKernels(predictor.encoder, predictor.model, queries, predict);
  if (!predictions) {
    modelError = predictions.error().message();
    logWarn("no prediction: {}", modelError);
    return;
  }
  for (KernelPrediction& prediction : *predictions) {
    if (prediction.error) logWarn("no prediction for {}: {}", prediction.kernel, prediction.error->message());
    runs[queryRun[prediction.query]].prediction = std::move(prediction);
  }
}

}  // namespace

bool KernelRun::anyOk() const {
  return std::any_of(devices.begin(), devices.end(),
                     [](const DeviceRunResult& device) { return device.status == MeasureStatus::kOk; });
}

int RunReport::exitStatus() const {
  bool ok = false, failed = !recorded;
  for (const KernelRun& run : runs) {
    ok = ok || run.anyOk();
    if (run.error || run.buildFailed) failed = true;
  }
  return (!ok || failed) ? 1 : 0;
}

std::vector<std::string> scalarArguments(const runner::RunPlan& plan) {
  std::vector<std::string> scalars;
  for (const runner::ArgSpec& arg : plan.args) {
    if (arg.kind != runner::ArgKind::kScalar) continue;
    scalars.push_back(runner::elementTypeInfo(arg.type).isFloat ? fmt::format("{}={:g}", arg.name, arg.scalarValue)
                                                                 : fmt::format("{}={}", arg.name, arg.scalarInt));
  }
  return scalars;
}

Expected<RunReport> runKernels(const RunRequest& request) {
  if (Status launch = checkLaunch(request); !launch) return launch.error();
  auto scalars = parseScalarArguments(request.args);
  if (!scalars) return scalars.error();
  const fs::path runner = runnerExecutablePath();
  const std::string buildOptions = runnerBuildOptions(request.compile.defines, request.compile.includeDirectories);

  RunReport report;
  report.scalars = *scalars;
  report.runs = planKernels(request, *scalars, runner, buildOptions);
  std::vector<KernelRun>& runs = report.runs;

  std::unique_ptr<Predictor> predictor;
  if (auto opened = openPredictor(request.setup, false)) {
    predictor = std::move(*opened);
    report.modelId = predictor->modelId;
  } else {
    report.modelError = opened.error().message();
    logWarn("no prediction: {}", report.modelError);
  }
  OpenClRecorder recorder;
  nlohmann::json recordedOptions = {
      {"files", request.files},       {"kernel", request.kernel},   {"platform", request.setup.platform},
      {"global", request.globalSize}, {"local", request.localSize}, {"args", *scalars},
      {"transfer", request.transfer}, {"timeout", request.timeout}, {"min_time", request.minTime}};
  if (Status opened = recorder.open(request.setup.databasePath, "devmap --run", recordedOptions,
                                    predictor ? std::vector<std::string>{predictor->modelId} : std::vector<std::string>{});
      !opened) {
    return opened.error();
  }
  std::optional<DatabaseEmbeddingCache> cache;
  if (!request.setup.noCache) cache.emplace(recorder.database());
  if (predictor) predictRuns(request, *predictor, cache ? &*cache : nullptr, runs, report.modelError);

  // Each file's workload names the IR its prediction embedded; then every kernel on every device, one runner
  // process per device, each outcome recorded as it arrives.
  std::vector<std::optional<std::int64_t>> workloads;
  for (const KernelRun& run : runs) {
    std::string irSha = run.prediction && !run.prediction->error ? run.prediction->irSha256 : "";
    workloads.push_back(recorder.workload(run.file, irSha));
  }
  auto configurationOf = [&](const KernelRun& run) {
    return nlohmann::json{{"kernel", run.kernel},
                          {"global", run.plan ? run.plan->globalSize : request.globalSize},
                          {"local", run.plan ? run.plan->localSize : request.localSize},
                          {"transfer", run.transferBytes},
                          {"args", run.plan ? scalarValues(*run.plan) : nlohmann::json(*scalars)}};
  };
  auto devices = localOpenClDevices(runner);
  OpenClMeasurerOptions measurerOptions;
  measurerOptions.runner = runner;
  measurerOptions.task = "devmap";
  measurerOptions.nameSources = true;
  if (devices) measurerOptions.devices = *devices;
  OpenClMeasurer measurer(recorder, measurerOptions);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    KernelRun& run = runs[r];
    if (run.buildFailed && devices) {
      run.devices = failedOnEvery(*devices, MeasureStatus::kBuildFailed, run.error->message());
      if (workloads[r]) {
        for (const DeviceRunResult& device : run.devices)
          recorder.measurement(*workloads[r], "devmap", configurationOf(run), device);
      }
      continue;
    }
    if (!run.plan) continue;
    if (!devices) {
      run.error = devices.error();
      continue;
    }
    logInfo("running {} on {} OpenCL device(s)", run.kernel, devices->size());
    OpenClRunRequest launch;
    launch.plan = *run.plan;
    launch.timeoutSeconds = request.timeout;
    launch.devices = *devices;
    MeasureInput input;
    input.configuration = configurationOf(run);
    input.plan = std::move(launch);
    input.workload = run.file;
    auto measured = measurer.measure({input});
    if (!measured) {
      run.error = measured.error();
      continue;
    }
    for (MeasureResult& result : *measured) run.devices.push_back(std::get<DeviceRunResult>(std::move(result.detail)));
  }

  // The predictions, with whether they were right.
  for (const KernelRun& run : runs) report.verdicts.push_back(judge(run));
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const KernelRun& run = runs[r];
    if (!run.prediction || !predictor || !workloads[r]) continue;
    PredictionRecord record = predictionRecord(*run.prediction, request.setup.platform, predictor->modelId);
    record.workloadId = *workloads[r];
    if (!run.prediction->error) {
      const Verdict& verdict = report.verdicts[r];
      record.configuration["measured_best"] =
          verdict.measuredBest ? nlohmann::json(deviceName(*verdict.measuredBest)) : nlohmann::json(nullptr);
      record.configuration["correct"] = verdict.correct ? nlohmann::json(*verdict.correct) : nlohmann::json(nullptr);
    }
    recorder.prediction(std::move(record));
  }
  report.recorded = recorder.end();
  return report;
}

// ---------------------------------------------------------------------------------------------------------
// devmap collect

Expected<CollectReport> collect(const CollectRequest& request) {
  auto indices = parseSizeIndices(request.sizes);
  if (!indices) return indices.error();
  const fs::path directory = request.kernels.empty() ? kernelSuiteDirectory() : fs::path(request.kernels);
  auto suite = loadKernelSuite(directory);
  if (!suite) return suite.error();
  if (suite->empty()) return makeError(ErrorCode::kNotFound, "{}: no kernel manifests (*.json)", directory.string());
  const fs::path runner = runnerExecutablePath();
  auto devices = localOpenClDevices(runner);
  if (!devices) return devices.error();

  const auto work = selectManifestSizes(*suite, *indices);

  OpenClRecorder recorder;
  nlohmann::json recordedOptions = {{"kernels", fs::absolute(directory).string()},
                                    {"sizes", request.sizes},
                                    {"timeout", request.timeout},
                                    {"min_time", request.minTime}};
  if (Status opened = recorder.open(request.databasePath, "devmap collect", recordedOptions, {}); !opened) {
    return opened.error();
  }
  std::vector<std::string> devicesText;
  for (const OpenClDevice& device : *devices) {
    devicesText.push_back(fmt::format("{}:{} {} {}", device.platformIndex, device.deviceIndex, device.type, device.name));
  }
  logInfo("devmap collect: {} runs ({} kernels) on {} device(s): {}", work.size(), suite->size(), devices->size(),
          fmt::join(devicesText, "; "));

  CollectReport report;
  report.devices = *devices;
  OpenClMeasurerOptions measurerOptions;
  measurerOptions.runner = runner;
  measurerOptions.devices = *devices;
  measurerOptions.task = kCollectTask;
  OpenClMeasurer measurer(recorder, measurerOptions);
  ProgressLine progress("devmap collect", work.size());
  for (const auto& [manifest, n] : work) {
    CollectRow row{manifest->name, n, {}};
    MeasureInput input;
    input.configuration = {{"kernel", manifest->kernel}, {"manifest", manifest->name}, {"n", n}};
    input.workload = manifest->source;
    auto launch = makeRunRequest(*manifest, n);
    if (launch) {
      launch->plan.minTimeSeconds = request.minTime;
      launch->timeoutSeconds = request.timeout;
      launch->devices = *devices;
      input.configuration["global"] = launch->plan.globalSize;
      input.configuration["local"] = launch->plan.localSize;
      input.configuration["transfer"] = planTransferBytes(launch->plan);
      input.configuration["build_options"] = launch->plan.buildOptions;
      input.plan = std::move(*launch);
      auto measured = measurer.measure({input});
      if (!measured) return measured.error();
      for (MeasureResult& result : *measured) row.devices.push_back(std::get<DeviceRunResult>(std::move(result.detail)));
    } else {
      row.devices = failedOnEvery(*devices, MeasureStatus::kRunFailed, launch.error().message());
      if (auto workload = recorder.workload(manifest->source)) {
        for (const DeviceRunResult& device : row.devices)
          recorder.measurement(*workload, kCollectTask, input.configuration, device);
      }
    }
    for (const DeviceRunResult& device : row.devices) {
      ++report.total;
      if (device.status == MeasureStatus::kOk) ++report.ok;
      if (device.status != MeasureStatus::kOk) {
        logWarn("{} N={} on {} ({}): {}: {}", manifest->name, n, deviceIndex(device), device.name,
                measureStatusName(device.status), device.message);
      }
    }
    report.rows.push_back(std::move(row));
    progress.advance(1, fmt::format("{} N={}", manifest->name, n));
  }
  progress.finish();
  report.recorded = recorder.end();
  report.databasePath = recorder.database().path().string();
  report.sessionId = recorder.sessionId();
  return report;
}

}  // namespace mirtune::devmap
