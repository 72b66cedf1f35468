// Thread-coarsening workflows: predict-and-record, and training (classifier, curve and local heads).
#include "tasks/coarsen/Workflows.h"

#include "database/Database.h"
#include "frontend/IrModule.h"
#include "frontend/Language.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tasks/coarsen/CoarsenCurves.h"
#include "tasks/coarsen/CoarsenModel.h"
#include "tasks/coarsen/KernelEmbeddings.h"
#include "tasks/coarsen/LocalCoarsen.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/common/KernelSources.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------
// Training

namespace {

fs::path outputFolder(const TrainRequest& request) {
  return request.out.empty() ? userModelDirectory("coarsen", kShippedCoarsenName) : fs::path(request.out);
}

Expected<fs::path> trainClassifierHeads(const TrainRequest& request) {
  auto form = parseHeadForm(request.form);
  if (!form) return form.error();
  auto pooling = parsePooling(request.pooling);
  if (!pooling) return pooling.error();
  auto irSource = parseIrSource(request.ir);
  if (!irSource) return irSource.error();
  auto candidates = headCandidates(request.headKind, request.threads);
  if (!candidates) return candidates.error();
  auto data = loadCoarsenData(request.data.empty() ? defaultCoarsenDirectory() : fs::path(request.data));
  if (!data) return data.error();
  auto encoded = encodeDataSet(*data, request.encoder, *irSource, Modality::kFused, request.noCache,
                               request.databasePath, request.threads);
  if (!encoded) return encoded.error();
  const Encoder& encoder = encoded->encoder;
  const KernelEmbeddings& embeddings = encoded->embeddings;
  const std::vector<std::size_t>& group = encoded->group;

  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.form = *form;
  evalOptions.pooling = *pooling;
  evalOptions.innerFolds = request.innerFolds;
  evalOptions.seed = request.seed;
  // One thread for the heads: MLP fits are reproducible for a fixed torch thread count.
  heads::setTorchThreads(1);
  std::vector<std::size_t> kernels;
  for (std::size_t k = 0; k < data->kernels.size(); ++k) kernels.push_back(k);
  std::vector<std::vector<std::size_t>> headPlatforms;
  if (*pooling == Pooling::kPooled) {
    headPlatforms.push_back({0, 1, 2, 3});
  } else {
    for (std::size_t p = 0; p < kPlatforms.size(); ++p) headPlatforms.push_back({p});
  }
  std::vector<NamedHead> trained;
  for (const std::vector<std::size_t>& platforms : headPlatforms) {
    std::string name = platforms.size() == 1 ? std::string(kPlatforms[platforms[0]].name) : kPooledHead;
    auto head = trainHead(*data, embeddings.vectors.front(), group, kernels, platforms, evalOptions);
    if (!head) return head.error().withContext("head " + name);
    logInfo("{}: {} head, inner cross-validation mean speedup {:.4f}", name, head->candidate.kind,
            head->innerSpeedup);
    nlohmann::json source = {
        {"data_set", "tcoarsening/pact-2014-runtimes.csv"},
        {"kernels", data->kernels.size()},
        {"kernels_using_ll_file", std::count(embeddings.fromIrFile.begin(), embeddings.fromIrFile.end(), true)}};
    trained.push_back({name, std::move(*head), source});
  }
  const fs::path out = outputFolder(request);
  if (Status saved = saveCoarsenModel(out, encoder, *irSource, *form, *pooling, trained, request.command); !saved) {
    return saved.error();
  }
  return out;
}

Expected<fs::path> trainCurveHeads(const TrainRequest& request) {
  std::string method = request.method.empty() ? std::string(kDefaultCoarsenMethod) : request.method;
  std::vector<CurveCandidate> candidates = defaultCurveCandidates(method);
  if (candidates.empty()) {
    return makeError(ErrorCode::kUsage, "unknown --method '{}' (classifier, prior, knn, regression, factor-head or auto)",
                     method);
  }
  auto irSource = parseIrSource(request.ir);
  if (!irSource) return irSource.error();
  auto data = loadCoarsenData(request.data.empty() ? defaultCoarsenDirectory() : fs::path(request.data));
  if (!data) return data.error();
  auto encoded = encodeDataSet(*data, request.encoder, *irSource, Modality::kFused, request.noCache,
                               request.databasePath, request.threads);
  if (!encoded) return encoded.error();
  const Encoder& encoder = encoded->encoder;
  const KernelEmbeddings& embeddings = encoded->embeddings;
  const std::vector<std::size_t>& group = encoded->group;
  std::vector<std::size_t> kernels(data->kernels.size());
  for (std::size_t k = 0; k < kernels.size(); ++k) kernels[k] = k;
  // The same choice as inside each outer fold of `coarsen eval`, made once on all 17 kernels.
  heads::setTorchThreads(1);
  auto trained = selectCurveModel(candidates, *data, embeddings.vectors.front(), group, kernels, request.innerFolds,
                                  request.seed);
  if (!trained) return trained.error();
  heads::Candidate chosen = trained->candidate.asCandidate();
  logInfo("{} {}: inner cross-validation mean speedup {:.4f}", chosen.kind, chosen.params.dump(),
          trained->innerSpeedup);
  nlohmann::json source = {
      {"data_set", "tcoarsening/pact-2014-runtimes.csv"},
      {"kernels", data->kernels.size()},
      {"kernels_using_ll_file", std::count(embeddings.fromIrFile.begin(), embeddings.fromIrFile.end(), true)}};
  const fs::path out = outputFolder(request);
  if (Status saved = saveCoarsenCurveModel(out, encoder, *irSource, *trained, source, request.command); !saved) {
    return saved.error();
  }
  return out;
}

Expected<fs::path> trainLocalHeads(const TrainRequest& request) {
  auto candidates = headCandidates(request.headKind, request.threads);
  if (!candidates) return candidates.error();
  const fs::path databasePath = request.databasePath;
  auto database = openCollectedDatabase(databasePath, "mirtune coarsen collect");
  if (!database) return database.error();
  std::string fingerprint = request.fingerprint;
  std::string cpuModel;
  if (fingerprint.empty()) {
    PlatformProbeOptions probe;
    probe.runnerPath = runnerExecutablePath();
    const PlatformInfo platform = probePlatform(probe);
    fingerprint = platform.fingerprint;
    cpuModel = platform.cpuModel;
  }
  auto data = loadLocalCoarsenData(*database, fingerprint);
  if (!data) return data.error();
  if (Status usable = checkLocalCoarsenData(*data); !usable) return usable.error().withContext(databasePath.string());
  if (!data->ignoredDevices.empty()) {
    logWarn("only {} devices fit the head's inputs; not used: {}", kPlatforms.size(),
            fmt::join(data->ignoredDevices, ", "));
  }
  logInfo("{} launches of {} kernels on {} device(s) from {} measurements", data->data.kernels.size(),
          *std::max_element(data->program.begin(), data->program.end()) + 1, data->devices.size(),
          data->measurements);

  configureThreads(request.threads);
  auto encoder = Encoder::loadOrDefault(request.encoder);
  if (!encoder) return encoder.error();
  std::optional<DatabaseEmbeddingCache> cache;
  if (!request.noCache) cache.emplace(*database);
  auto embeddings = embedLocalKernels(*encoder, data->rows, CompileOptions{}, cache ? &*cache : nullptr,
                                      static_cast<unsigned>(request.threads));
  if (!embeddings) return embeddings.error();

  useOneThreadPerFit(*candidates);
  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.form = HeadForm::kFactor;
  evalOptions.pooling = Pooling::kPooled;
  evalOptions.innerFolds = std::min(request.innerFolds, 3);
  evalOptions.seed = request.seed;
  std::vector<std::size_t> kernels, slots;
  for (std::size_t k = 0; k < data->data.kernels.size(); ++k) kernels.push_back(k);
  for (std::size_t s = 0; s < data->devices.size(); ++s) slots.push_back(s);
  auto head = trainHead(data->data, *embeddings, data->program, kernels, slots, evalOptions);
  if (!head) return head.error();
  logInfo("local: {} head over {} rows, inner cross-validation mean speedup {:.4f}", head->candidate.kind, head->rows,
          head->innerSpeedup);
  nlohmann::json deviceSlots = nlohmann::json::array();
  for (std::size_t s = 0; s < data->devices.size(); ++s)
    deviceSlots.push_back({{"slot", s}, {"name", data->devices[s]}, {"type", data->deviceTypes[s]}});
  std::set<std::string> names;
  for (const LocalKernel& row : data->rows) names.insert(row.manifest.empty() ? row.kernel : row.manifest);
  nlohmann::json source = {{"data_set", "coarsen collect"},
                           {"database", fs::absolute(databasePath).string()},
                           {"platform_fingerprint", fingerprint},
                           {"cpu_model", cpuModel},
                           {"devices", deviceSlots},
                           {"launches", data->data.kernels.size()},
                           {"kernels", names}};
  std::vector<NamedHead> trained;
  trained.push_back({kPooledHead, std::move(*head), source});
  const fs::path out = request.out.empty() ? defaultLocalCoarsenModelDirectory() : fs::path(request.out);
  std::string command = request.command;
  if (command.empty()) command = fmt::format("mirtune coarsen train --platform local --head-kind {}", request.headKind);
  if (Status saved = saveCoarsenModel(out, *encoder, IrSource::kSource, HeadForm::kFactor, Pooling::kPooled, trained,
                                      command);
      !saved) {
    return saved.error();
  }
  return out;
}

}  // namespace

Expected<fs::path> trainHeads(const TrainRequest& request) {
  if (request.platform == kLocalCoarsenPlatform) return trainLocalHeads(request);
  const std::string method = request.method.empty() ? std::string(kDefaultCoarsenMethod) : request.method;
  return method == "classifier" ? trainClassifierHeads(request) : trainCurveHeads(request);
}

// ---------------------------------------------------------------------------------------------------------
// Prediction

namespace {

// Records the answers of one command: a session, one workload per file, one prediction per answer; a failure
// (a file that does not compile, a kernel it does not have) is recorded with its error where the file can
// be read. Every record is tried; the first database error is returned so the command fails with it.
Status recordAnswers(Database& database, const nlohmann::json& options, const std::string& modelId,
                     const std::vector<FactorAnswer>& answers,
                     const std::vector<std::pair<std::string, Error>>& failures, const std::string& kernel) {
  SessionRecord session;
  session.toolVersion = toolVersion();
  session.gitCommit = gitCommit();
  session.command = "coarsen";
  session.options = options;
  session.modelIds = {modelId};
  auto failure = [](const Error& error) { return notAllRecorded(error, "predictions"); };
  auto sessionId = database.beginSession(session);
  if (!sessionId) return failure(sessionId.error());
  std::optional<Error> first;
  std::map<std::string, std::int64_t> workloadOf;
  auto workload = [&](const std::string& file, std::optional<std::string> irSha,
                      const std::string& language) -> std::optional<std::int64_t> {
    if (auto known = workloadOf.find(file); known != workloadOf.end()) return known->second;
    auto content = sha256File(file);
    if (!content) return std::nullopt;
    auto id = database.upsertWorkload({0, *content, std::move(irSha), language, file, {}});
    if (!id) {
      if (!first) first = failure(id.error());
      return std::nullopt;
    }
    workloadOf[file] = *id;
    return *id;
  };
  for (const FactorAnswer& answer : answers) {
    auto id = workload(answer.file, answer.irSha256, answer.language);
    if (!id) continue;
    PredictionRecord record;
    record.sessionId = *sessionId;
    record.workloadId = *id;
    record.task = "coarsen";
    record.modelId = modelId;
    record.configuration = {{"kernel", answer.kernel},
                            {"platform", kPlatforms[answer.platform].name},
                            {"factor", answer.choice.factor}};
    record.score = answer.choice.probability;
    if (auto stored = database.insertPrediction(record); !stored && !first) first = failure(stored.error());
  }
  for (const auto& [file, error] : failures) {
    const auto language = languageFromExtension(fs::path(file).extension().string());
    auto id = workload(file, std::nullopt, language ? std::string(languageName(*language)) : std::string("opencl"));
    if (!id) continue;
    PredictionRecord record;
    record.sessionId = *sessionId;
    record.workloadId = *id;
    record.task = "coarsen";
    record.modelId = modelId;
    record.configuration = {{"kernel", kernel}, {"platform", options.value("platform", "")}, {"error", error.message()}};
    if (auto stored = database.insertPrediction(record); !stored && !first) first = failure(stored.error());
  }
  if (auto ended = database.endSession(*sessionId); !ended && !first) first = failure(ended.error());
  if (first) return *first;
  return success();
}

}  // namespace

Expected<PredictOutcome> predictAndRecord(const PredictRequest& request) {
  std::vector<std::size_t> platforms;
  if (request.platform == "all") {
    platforms = {0, 1, 2, 3};
  } else if (auto index = platformIndex(request.platform)) {
    platforms = {*index};
  } else {
    return index.error();
  }
  configureThreads(request.threads);
  auto encoder = Encoder::loadOrDefault(request.encoder);
  if (!encoder) return encoder.error();
  const fs::path headsDir = request.heads.empty() ? defaultCoarsenModelDirectory() : fs::path(request.heads);
  auto model = loadCoarsenModel(headsDir, *encoder);
  if (!model) return model.error();
  CacheHandle cache;
  if (Status opened = openCache(cache, request.noCache, request.databasePath); !opened) return opened.error();

  // Every kernel asked for, each file compiled once; a file that fails is reported and the others go on.
  PredictOutcome outcome;
  std::vector<std::pair<std::string, Error>> failed;  // file, why
  std::vector<std::unique_ptr<IrModule>> modules;
  std::vector<EmbedSource> sources;
  std::vector<FactorAnswer> asked;  // one per source, platform filled in below
  for (const std::string& file : request.files) {
    auto module = compileFile(file, request.compile);
    if (!module) {
      failed.emplace_back(file, module.error());
      continue;
    }
    std::vector<std::string> kernels = module->kernelNames();
    if (kernels.empty()) {
      failed.emplace_back(file, Error(ErrorCode::kInvalidInput, fmt::format("{}: no kernel in this file", file)));
      continue;
    }
    if (!request.kernel.empty()) {
      // The IR name or, for CUDA, the source name.
      auto named = std::find_if(kernels.begin(), kernels.end(), [&](const std::string& kernel) {
        return kernel == request.kernel || kernelSourceName(kernel) == request.kernel;
      });
      if (named == kernels.end()) {
        std::vector<std::string> names;
        for (const std::string& kernel : kernels) names.push_back(kernelSourceName(kernel));
        failed.emplace_back(file, Error(ErrorCode::kNotFound, fmt::format("{}: no kernel named '{}' (kernels: {})",
                                                                          file, request.kernel, fmt::join(names, ", "))));
        continue;
      }
      kernels = {*named};
    }
    std::string language(languageName(module->language()));
    modules.push_back(std::make_unique<IrModule>(std::move(*module)));
    for (const std::string& kernel : kernels) {
      // A file's only kernel moves the whole module into its source.
      sources.push_back(kernelEmbedSource(modules.back().get(), file, kernel));
      asked.push_back({file, kernelSourceName(kernel), {}, language, 0, {}});
    }
  }
  BatchEmbedOptions batch;
  batch.modalities = {Modality::kFused};
  batch.threads = static_cast<unsigned>(request.threads);
  batch.cache = cache.get();
  auto embedded = embedBatch(*encoder, sources, batch);
  if (!embedded) return embedded.error();
  for (std::size_t s = 0; s < sources.size(); ++s) {
    const EmbedResult& result = (*embedded)[s];
    if (result.error) {
      failed.emplace_back(asked[s].file, *result.error);
      continue;
    }
    for (std::size_t p : platforms) {
      auto choice = model->choose(result.vectors.front(), p);
      if (!choice) return choice.error();
      FactorAnswer answer = asked[s];
      answer.irSha256 = result.irSha256;
      answer.platform = p;
      answer.choice = *choice;
      outcome.answers.push_back(std::move(answer));
    }
  }
  Status recorded;
  if (cache.database) {
    recorded = recordAnswers(*cache.database, {{"platform", request.platform}}, headsDir.filename().string(),
                             outcome.answers, failed, request.kernel);
  }
  for (auto& [file, error] : failed) outcome.failures.push_back(std::move(error));
  if (Status cached = cache.status(); !cached) outcome.databaseErrors.push_back(cached.error());
  if (!recorded) outcome.databaseErrors.push_back(recorded.error());
  return outcome;
}

}  // namespace mirtune::coarsen
