// `mirtune devmap`: CPU or GPU for OpenCL kernels. Registration, `train`, single-file and batch prediction.
#include "cli/DevmapCommand.h"

#include "tasks/common/DatabaseCache.h"
#include "cli/DevmapOptions.h"
#include "cli/EncoderOption.h"
#include "database/Database.h"
#include "support/Csv.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Sha256.h"
#include "tasks/common/ModelSelection.h"
#include "tasks/devmap/DevmapModel.h"
#include "tasks/devmap/Features.h"
#include "tasks/devmap/LocalData.h"
#include "tasks/devmap/Predict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace mirtune::cli {

using namespace mirtune::devmap;

Expected<std::vector<heads::Candidate>> headCandidates(const std::string& name, int threads,
                                                       const std::string& candidatesFile) {
  std::vector<heads::Candidate> candidates;
  if (!candidatesFile.empty()) {
    auto text = readFile(candidatesFile);
    if (!text) return text.error();
    nlohmann::json list = nlohmann::json::parse(*text, nullptr, false);
    if (!list.is_array() || list.empty()) {
      return makeError(ErrorCode::kInvalidInput, "{}: expected a JSON list of {{\"kind\", \"params\"}} objects",
                       candidatesFile);
    }
    for (const nlohmann::json& item : list) {
      if (!item.is_object() || !item.contains("kind") || !item["kind"].is_string()) {
        return makeError(ErrorCode::kInvalidInput, "{}: every candidate needs a \"kind\"", candidatesFile);
      }
      candidates.push_back({item["kind"].get<std::string>(), item.value("params", nlohmann::json::object())});
    }
  } else if (name == "auto") {
    candidates = heads::defaultGrid();
  } else if (name == "xgboost" || name == "mlp") {
    candidates = heads::defaultCandidates(name);
  } else {
    return makeError(ErrorCode::kUsage, "unknown --head-kind '{}' (auto, xgboost or mlp)", name);
  }
  for (heads::Candidate& candidate : candidates) {
    if (candidate.kind == "xgboost") candidate.params["nthread"] = threads;
  }
  return candidates;
}

void configureThreads(int threads) {
  setEncoderThreads(threads);
  heads::setTorchThreads(threads);
}

int runDevmapTrain(const DevmapTrainOptions& options, const GlobalOptions& global) {
  auto irSource = parseIrSource(options.ir);
  if (!irSource) return reportError(irSource.error());
  auto candidates = headCandidates(options.headKind, options.threads);
  if (!candidates) return reportError(candidates.error());
  std::vector<std::size_t> platforms;
  if (options.platform == "all") {
    platforms = {0, 1};
  } else if (auto index = platformIndex(options.platform)) {
    platforms = {*index};
  } else {
    return reportError(index.error());
  }
  auto data = loadDevmapData(options.data.empty() ? defaultDevmapDirectory() : std::filesystem::path(options.data));
  if (!data) return reportError(data.error());
  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  CacheHandle cache;
  if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return reportError(opened.error());
  auto embeddings = embedRows(*data, *encoder, *irSource, {Modality::kFused}, cache.get(),
                              static_cast<unsigned>(options.threads));
  if (!embeddings) return reportError(embeddings.error());

  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.seed = options.seed;
  std::vector<std::size_t> allRows;
  for (const DevmapRow& row : data->rows) allRows.push_back(row.row);
  std::vector<PlatformHead> trained;
  for (std::size_t platform : platforms) {
    heads::FeatureMatrix features = rowFeatureMatrix(*data, platform, &embeddings->vectors.front());
    auto head = trainHead(*data, platform, allRows, features, evalOptions);
    if (!head) return reportError(head.error());
    logInfo("{}: {} head, {} weighting, inner cross-validation accuracy {:.4f}", kPlatforms[platform].name,
            head->candidate.kind, weightingName(head->weighting), head->innerAccuracy);
    nlohmann::json source = {{"data_set", "devmap/" + std::string(kPlatforms[platform].csvFile)},
                             {"hardware", kPlatforms[platform].hardware},
                             {"rows_using_ll_file", std::count(embeddings->fromIrFile.begin(), embeddings->fromIrFile.end(), true)}};
    trained.push_back({std::string(kPlatforms[platform].name), std::move(*head), allRows.size(), source});
  }
  std::filesystem::path out =
      options.out.empty() ? userModelDirectory("devmap", kShippedDevmapName) : std::filesystem::path(options.out);
  if (auto saved = saveDevmapModel(out, *encoder, *irSource, trained, options.command); !saved) {
    return reportError(saved.error());
  }
  fmt::print("{}\n", out.string());
  return 0;
}

namespace {

// Records predictions of one command in the database: a session, one workload per file, one prediction each.
// Every prediction is tried; the first database error is returned so the command can fail with it.
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
  std::map<std::string, std::int64_t> workloadOf;
  for (const KernelPrediction& prediction : predictions) {
    if (prediction.error) continue;
    if (workloadOf.count(prediction.file) == 0) {
      auto content = sha256File(prediction.file);
      if (!content) continue;
      auto workload = database.upsertWorkload({0, *content, prediction.irSha256, "opencl", prediction.file, {}});
      if (!workload) {
        if (!first) first = failure(workload.error());
        continue;
      }
      workloadOf[prediction.file] = *workload;
    }
    PredictionRecord record;
    record.sessionId = *sessionId;
    record.workloadId = workloadOf[prediction.file];
    record.task = "devmap";
    record.modelId = modelId;
    record.configuration = {{"kernel", prediction.kernel},
                            {"platform", options.value("platform", "")},
                            {"transfer", prediction.transferBytes},
                            {"wgsize", prediction.wgsize},
                            {"device", deviceName(prediction.device)}};
    record.score = prediction.device == Device::kGpu ? prediction.gpuProbability : 1 - prediction.gpuProbability;
    if (auto stored = database.insertPrediction(record); !stored && !first) first = failure(stored.error());
  }
  if (auto ended = database.endSession(*sessionId); !ended && !first) first = failure(ended.error());
  if (first) return *first;
  return success();
}

double chosenProbability(const KernelPrediction& prediction) {
  return prediction.device == Device::kGpu ? prediction.gpuProbability : 1 - prediction.gpuProbability;
}

struct PredictContext {
  Encoder encoder;
  DevmapModel model;
  CacheHandle cache;
  std::string modelId;
};

Expected<std::unique_ptr<PredictContext>> openPredictContext(const DevmapPredictOptions& options,
                                                             const GlobalOptions& global) {
  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return encoder.error();
  std::filesystem::path headsDir = !options.heads.empty()            ? std::filesystem::path(options.heads)
                                   : options.platform == kLocalPlatform ? defaultLocalModelDirectory()
                                                                        : defaultDevmapModelDirectory();
  auto model = loadDevmapModel(headsDir, *encoder);
  if (!model) return model.error();
  if (model->heads.count(options.platform) == 0) {
    return makeError(ErrorCode::kUsage, "no device-mapping head for platform '{}' in {} (has: {}; `mirtune devmap "
                     "collect` and `train --platform local` make a local one)",
                     options.platform, headsDir.string(), fmt::join(model->platforms(), ", "));
  }
  auto context = std::unique_ptr<PredictContext>(new PredictContext{std::move(*encoder), std::move(*model), {}, {}});
  context->modelId = fmt::format("{}/{}", headsDir.filename().string(), options.platform);
  if (auto opened = openCache(context->cache, options.noCache, resolveDatabasePath(global)); !opened) return opened.error();
  return context;
}

}  // namespace

int runDevmapPredict(const DevmapPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto context = openPredictContext(options, global);
  if (!context) return reportError(context.error());
  bool defaultTransfer = options.transfer < 0, defaultWgsize = options.wgsize < 0;
  double transfer = defaultTransfer ? kDefaultTransferBytes : options.transfer;
  double wgsize = defaultWgsize ? kDefaultWgsize : options.wgsize;
  std::vector<KernelQuery> queries;
  for (const std::string& file : options.files) queries.push_back({file, options.kernel, transfer, wgsize});
  PredictOptions predict;
  predict.platform = options.platform;
  predict.compile = *compile;
  predict.cache = (*context)->cache.get();
  predict.threads = static_cast<unsigned>(options.threads);
  auto predictions = predictKernels((*context)->encoder, (*context)->model, queries, predict);
  if (!predictions) return reportError(predictions.error());
  nlohmann::json recorded = {{"platform", options.platform}, {"transfer", transfer}, {"wgsize", wgsize}};
  Status stored;
  if ((*context)->cache.database) {
    stored = recordPredictions(*(*context)->cache.database, "devmap", recorded, (*context)->modelId, *predictions);
  }

  int status = databaseFailures((*context)->cache, stored);
  for (const KernelPrediction& prediction : *predictions) {
    if (prediction.error) {
      logError("{}", prediction.error->message());
      status = 1;
    }
  }
  const bool anyAnswer = std::any_of(predictions->begin(), predictions->end(),
                                     [](const KernelPrediction& prediction) { return !prediction.error; });
  if (!anyAnswer) return 1;  // every input failed: no output at all rather than an empty one
  std::string hardware = options.platform;
  for (const DevmapPlatform& platform : kPlatforms) {
    if (platform.name == options.platform) hardware = fmt::format("{}: Intel Core i7-3820 vs {}", platform.name, platform.hardware);
  }
  if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const KernelPrediction& prediction : *predictions) {
      if (prediction.error) continue;
      list.push_back({{"file", prediction.file},
                      {"kernel", prediction.kernel},
                      {"device", deviceName(prediction.device)},
                      {"probability", chosenProbability(prediction)},
                      {"platform", options.platform},
                      {"transfer", prediction.transferBytes},
                      {"wgsize", prediction.wgsize}});
    }
    int written = writeOutput(options.output, list.dump(2) + "\n");
    return written != 0 ? written : status;
  }
  // What the answers assume is a header for the reader, not data: stderr, so stdout holds the answers alone.
  if (!global.quiet) {
    fmt::print(stderr, "platform {}; transfer {:.0f} bytes{}; work-group size {:.0f}{}\n", hardware, transfer,
               defaultTransfer ? " (default: the data set's median, set --transfer)" : "", wgsize,
               defaultWgsize ? " (default, set --wgsize)" : "");
  }
  std::string text;
  for (const KernelPrediction& prediction : *predictions) {
    if (prediction.error) continue;
    text += fmt::format("{}  {}  {}  probability {:.3f}\n", prediction.file, prediction.kernel,
                        deviceName(prediction.device), chosenProbability(prediction));
  }
  int written = writeOutput(options.output, text);
  return written != 0 ? written : status;
}

int runDevmapBatchPredict(const DevmapPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto table = CsvTable::read(options.input);
  if (!table) return reportError(table.error());
  auto fileColumn = table->requireColumn("file");
  if (!fileColumn) return reportError(fileColumn.error());
  auto kernelColumn = table->column("kernel");
  auto transferColumn = table->column("transfer");
  auto wgsizeColumn = table->column("wgsize");
  std::vector<KernelQuery> queries;
  for (std::size_t r = 0; r < table->rows(); ++r) {
    KernelQuery query{table->record(r)[*fileColumn], kernelColumn ? table->record(r)[*kernelColumn] : "",
                      kDefaultTransferBytes, kDefaultWgsize};
    for (auto [column, target] : {std::pair{transferColumn, &query.transferBytes}, std::pair{wgsizeColumn, &query.wgsize}}) {
      if (!column || table->record(r)[*column].empty()) continue;
      auto value = table->number(r, *column);
      if (!value) return reportError(value.error());
      if (!std::isfinite(*value) || *value < 0) {
        return reportError(makeError(ErrorCode::kInvalidInput, "{}: row {}: '{}' must be a finite number >= 0",
                                     options.input, r + 1, table->record(r)[*column]));
      }
      *target = *value;
    }
    queries.push_back(std::move(query));
  }
  auto context = openPredictContext(options, global);
  if (!context) return reportError(context.error());
  PredictOptions predict;
  predict.platform = options.platform;
  predict.compile = *compile;
  predict.cache = (*context)->cache.get();
  predict.threads = static_cast<unsigned>(options.threads);
  std::set<std::string> distinctFiles;
  for (const KernelQuery& query : queries) distinctFiles.insert(query.file);
  ProgressLine progress("devmap predict", distinctFiles.size());
  predict.progress = &progress;
  auto predictions = predictKernels((*context)->encoder, (*context)->model, queries, predict);
  progress.finish();
  if (!predictions) return reportError(predictions.error());
  Status stored;
  if ((*context)->cache.database) {
    stored = recordPredictions(*(*context)->cache.database, "devmap predict",
                               {{"platform", options.platform}, {"input", options.input}}, (*context)->modelId,
                               *predictions);
  }
  std::string out = "file,kernel,transfer,wgsize,device,probability,error\n";
  std::size_t failed = 0;
  for (const KernelPrediction& prediction : *predictions) {
    out += fmt::format("{},{},{:.0f},{:.0f},", csvField(prediction.file), csvField(prediction.kernel),
                       prediction.transferBytes, prediction.wgsize);
    if (prediction.error) {
      out += ",," + csvField(prediction.error->message()) + "\n";
      ++failed;
    } else {
      out += fmt::format("{},{:.6f},\n", deviceName(prediction.device), chosenProbability(prediction));
    }
  }
  if (failed > 0) logError("{} of {} predictions failed (see the error column)", failed, predictions->size());
  const int written = writeOutput(options.output, out);
  const int database = databaseFailures((*context)->cache, stored);
  return written != 0 ? written : (failed > 0 || database != 0 ? 1 : 0);
}

void addDevmapCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv) {
  CLI::App* devmap = app.add_subcommand(
      "devmap", "CPU or GPU? Predict the faster OpenCL device for each kernel of a file (and run it with --run)");
  auto predict = std::make_shared<DevmapPredictOptions>();
  auto addPredictOptions = [](CLI::App* command, DevmapPredictOptions& options) {
    command->add_option("--platform", options.platform,
                        "Which hardware the answer is for: amd (Intel i7-3820 vs AMD Tahiti 7970, the default), "
                        "nvidia (vs NVIDIA GTX 970) or local (heads trained on `devmap collect` data)");
    addEncoderOption(*command, options.encoder);
    command->add_option("--heads", options.heads, "Device-mapping heads folder (default: tasks/devmap/models/devmap-1.0)");
    command->add_option("-o,--output", options.output, "Write here instead of stdout");
    command->add_flag("--no-cache", options.noCache, "Neither read nor write the embedding cache nor log predictions");
    command->add_option("--threads", options.threads, "Threads (default 2)")->check(CLI::Range(1, 512));
    addCompileFlags(*command, options.compile);
  };
  devmap->add_option("files", predict->files, "OpenCL files (.cl, or .ll/.bc)");
  devmap->add_option("--kernel", predict->kernel, "Only this kernel (default: every kernel in the file)");
  devmap->add_option("--transfer", predict->transfer,
                     fmt::format("Bytes moved between host and device (default {:.0f}, the data set's median)",
                                 kDefaultTransferBytes))
      ->check(finiteNonNegative());
  devmap->add_option("--wgsize", predict->wgsize, fmt::format("Work-items per work-group (default {:.0f})", kDefaultWgsize))
      ->check(finiteNonNegative());
  devmap->add_flag("--json", predict->json, "JSON list of {kernel, device, probability, ...}");
  addPredictOptions(devmap, *predict);
  devmap->add_flag("--run", predict->run, "Also run the kernel on every OpenCL device, check outputs, and record it");
  devmap->add_option("--global", predict->globalSize, "With --run: global work size, 1 to 3 values")
      ->delimiter(',')->expected(1, 3)->check(CLI::PositiveNumber);
  devmap->add_option("--local", predict->localSize, "With --run: local work size (default: the driver's choice)")
      ->delimiter(',')->expected(1, 3)->check(CLI::PositiveNumber);
  devmap->add_option("--arg", predict->args, "With --run: a scalar argument NAME=VALUE (repeatable)");
  devmap->add_option("--timeout", predict->timeout, "With --run: seconds per device before the run is killed (default 60)")
      ->check(CLI::PositiveNumber);
  devmap->add_option("--min-time", predict->minTime, "With --run: seconds of timed repetitions per device (default 0.2)")
      ->check(CLI::NonNegativeNumber);

  auto batch = std::make_shared<DevmapPredictOptions>();
  CLI::App* batchCommand = devmap->add_subcommand("predict", "Batch prediction: CSV rows file,kernel,transfer,wgsize in, "
                                                             "the same rows with device,probability out");
  batchCommand->add_option("--input", batch->input, "CSV with columns file,kernel,transfer,wgsize (kernel empty = every "
                                                    "kernel; empty transfer/wgsize = defaults)")->required();
  addPredictOptions(batchCommand, *batch);

  auto eval = std::make_shared<DevmapEvalOptions>();
  CLI::App* evalCommand = devmap->add_subcommand("eval", "Reproduce the published device-mapping table: 10-fold "
                                                         "cross-validation over the fixed folds");
  evalCommand->add_option("--platform", eval->platform, "amd, nvidia or all (default)")
      ->check(CLI::IsMember({"amd", "nvidia", "all"}));
  evalCommand->add_option("--rows", eval->rows, "680 (all rows, default) or 669 (IR2Vec's rows)")
      ->check(CLI::IsMember({"680", "669"}));
  evalCommand->add_option("--features", eval->features, "fused (default), tokens, graph, or aux (no embedding)")
      ->check(CLI::IsMember({"fused", "tokens", "graph", "aux"}));
  evalCommand->add_option("--ir", eval->ir, "source: compile the data set's OpenCL (its .ll where Clang 14 cannot; "
                                            "default); dataset: NCC's .ll files")
      ->check(CLI::IsMember({"source", "dataset"}));
  evalCommand->add_option("--head-kind", eval->headKind, "auto (XGBoost and MLP candidates, default), xgboost or mlp")
      ->check(CLI::IsMember({"auto", "xgboost", "mlp"}));
  evalCommand->add_option("--candidates", eval->candidates,
                           "JSON file listing head candidates [{kind, params}] to choose from instead of --head-kind");
  evalCommand->add_option("--data", eval->data, "devmap data folder (default: $MIRTUNE_DATA/devmap)");
  addEncoderOption(*evalCommand, eval->encoder);
  evalCommand->add_option("--predictions", eval->predictions, "Write every row's prediction to this CSV");
  evalCommand->add_option("-o,--output", eval->output, "Write the result here instead of stdout");
  evalCommand->add_flag("--json", eval->json, "JSON: {rows, amd: {accuracy, speedup, ...}, nvidia: {...}}");
  evalCommand->add_flag("--no-cache", eval->noCache, "Neither read nor write the embedding cache");
  evalCommand->add_option("--threads", eval->threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  evalCommand->add_option("--seed", eval->seed, "Seed of the inner folds and the heads (default 204)");

  auto train = std::make_shared<DevmapTrainOptions>();
  train->command = "mirtune";
  for (int i = 1; i < argc; ++i) train->command += std::string(" ") + argv[i];
  CLI::App* trainCommand = devmap->add_subcommand("train", "Train the device-mapping heads on all 680 rows");
  trainCommand->add_option("--platform", train->platform,
                            "amd, nvidia, all (default: both data set platforms) or local (from `devmap collect`)")
      ->check(CLI::IsMember({"amd", "nvidia", "all", "local"}));
  trainCommand->add_option("--ir", train->ir, "source (default) or dataset, as for eval")
      ->check(CLI::IsMember({"source", "dataset"}));
  trainCommand->add_option("--head-kind", train->headKind, "auto (default), xgboost or mlp")
      ->check(CLI::IsMember({"auto", "xgboost", "mlp"}));
  trainCommand->add_option("--data", train->data, "devmap data folder (default: $MIRTUNE_DATA/devmap)");
  addEncoderOption(*trainCommand, train->encoder);
  trainCommand->add_option("--out", train->out, "Heads folder to write (default: the shipped tasks/devmap/models/devmap-1.0; for --platform local, models/devmap-local beside the database)");
  trainCommand->add_flag("--no-cache", train->noCache, "Neither read nor write the embedding cache");
  trainCommand->add_option("--threads", train->threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  trainCommand->add_option("--seed", train->seed, "Seed (default 204)");

  auto collect = std::make_shared<DevmapCollectOptions>();
  CLI::App* collectCommand = devmap->add_subcommand(
      "collect", "Measure a folder of kernels (manifests) at their sizes on the local OpenCL devices, for "
                 "`train --platform local`");
  collectCommand->add_option("--kernels", collect->kernels, "Folder of kernel manifests (default: kernels/opencl)");
  collectCommand->add_option("--sizes", collect->sizes, "all (default) or indices into each manifest's sizes, e.g. 0,2");
  collectCommand->add_option("--timeout", collect->timeout, "Seconds per run before it is killed (default 60)")
      ->check(CLI::PositiveNumber);
  collectCommand->add_option("--min-time", collect->minTime, "Seconds of timed repetitions per run (default 0.2)")
      ->check(CLI::NonNegativeNumber);

  devmap->callback([devmap, predict, batch, eval, train, collect, batchCommand, evalCommand, trainCommand,
                    collectCommand, &global, &action] {
    if (collectCommand->parsed()) {
      action = [collect, &global] { return runDevmapCollect(*collect, global); };
    } else if (trainCommand->parsed() && train->platform == "local") {
      action = [train, &global] { return runDevmapTrainLocal(*train, global); };
    } else if (!predict->files.empty() && predict->run) {
      action = [predict, &global] { return runDevmapRun(*predict, global); };
    } else if (batchCommand->parsed()) {
      action = [batch, &global] { return runDevmapBatchPredict(*batch, global); };
    } else if (evalCommand->parsed()) {
      action = [eval, &global] { return runDevmapEval(*eval, global); };
    } else if (trainCommand->parsed()) {
      action = [train, &global] { return runDevmapTrain(*train, global); };
    } else if (!predict->files.empty()) {
      action = [predict, &global] { return runDevmapPredict(*predict, global); };
    } else {
      action = [] { return reportError(Error(ErrorCode::kUsage, "devmap needs a FILE.cl or one of: predict, eval, train (see mirtune devmap --help)")); };
    }
  });
  (void)devmap;
}

}  // namespace mirtune::cli
