// OpenMP workflows: an app's tuning session (an application spec run by the generic tuner), the suite's
// collection (here, exported, ingested), the head's training and its leave-one-app-out evaluation.
#include "tasks/omp/OmpWorkflow.h"

#include "database/Database.h"
#include "embeddings/BatchEmbed.h"
#include "embeddings/Encoder.h"
#include "frontend/OmpScheduleRewrite.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/TaskModel.h"
#include "tasks/common/XgbClassifier.h"
#include "tasks/common/XgbRegressor.h"
#include "tasks/omp/OmpApp.h"
#include "tasks/omp/OmpData.h"
#include "tasks/omp/OmpEmbed.h"
#include "tasks/omp/OmpSpace.h"
#include "tasks/omp/OmpSpec.h"
#include "tasks/tune/TuneWorkflow.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"
#include "tuner/ProcessMeasurer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <thread>

namespace mirtune::omp {
namespace fs = std::filesystem;

namespace {

const heads::TaskModelKind kOmpModelKind{"omp", "OpenMP", 1, "mirtune omp train"};
constexpr const char* kHeadName = "near_best";
constexpr const char* kRegressorName = "gap";
constexpr const char* kModelName = "omp-1.0";

std::vector<fs::path> defaultDataFiles() {
  std::vector<fs::path> files;
  const fs::path folder = shareDirectory() / "tasks" / "omp" / "data";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Expected<MeasurementSettings> measurementSettings(const OmpMeasureOptions& options) {
  auto settings = mirtune::measurementSettings(options.buildTimeout, options.runTimeout, options.minTime,
                                               options.minRepetitions, options.maxRepetitions);
  // A configuration 20 times slower than the default is of no use; stopping it early keeps collections short.
  if (settings) settings->relativeTimeout = kRelativeTimeout;
  return settings;
}

// The source with schedule(runtime) on its worksharing loops, so that OMP_SCHEDULE reaches them.
Expected<std::string> rewrittenOmpSource(const fs::path& source, const std::vector<std::string>& flags) {
  auto rewritten = rewriteOmpSchedules(source, flags);
  if (!rewritten) return rewritten.error();
  for (const auto& site : rewritten->sites) {
    if (!site.note.empty()) logInfo("{}:{}: omp {}: {}", site.file, site.line, site.directive, site.note);
  }
  if (rewritten->sites.empty()) {
    logWarn("{}: no OpenMP worksharing loop: only the thread count can matter", source.string());
  }
  return std::move(rewritten->text);
}

// The request every OpenMP measurement shares: the rewritten source as app.c (or .cpp) in the work folder,
// one build, runs under each configuration's OMP_* variables.
Expected<TuningRequest> ompRequest(const fs::path& source, const std::vector<std::string>& arguments,
                                   const OmpMeasureOptions& measure, const SearchSpace& space,
                                   nlohmann::json options) {
  auto compiler = parseCompiler(measure.compiler);
  if (!compiler) return compiler.error();
  auto settings = measurementSettings(measure);
  if (!settings) return settings.error();
  auto rewritten = rewrittenOmpSource(source, measure.flags);
  if (!rewritten) return rewritten.error();
  auto workload = sourceWorkload(source);
  if (!workload) return workload.error();
  TuningRequest request;
  request.task = "omp";
  request.space = &space;
  OmpBuild build;
  build.compiler = *compiler;
  build.extraFlags = measure.flags;
  build.sourceName = source.extension() == ".c" ? "app.c" : "app" + source.extension().string();
  request.files[build.sourceName] = std::move(*rewritten);
  request.commands = ompCommandFactory(build, arguments);
  request.settings = *settings;
  request.workload = std::move(*workload);
  options["arguments"] = arguments;
  options["space"] = measure.space;
  options["compiler"] = measure.compiler;
  options["flags"] = measure.flags;
  options["settings"] = settingsJson(*settings);
  request.options = std::move(options);
  request.resume = measure.resume;
  request.force = measure.force;
  return request;
}

struct LoadedModel {
  Encoder encoder;
  std::unique_ptr<heads::Classifier> classifier;   ///< near-best form
  std::unique_ptr<heads::XgbRegressor> regressor;  ///< regression form
  std::string modelId;

  ConfigurationScorer scorer() const { return classifier ? scorerOf(*classifier) : scorerOf(*regressor); }
};

Expected<LoadedModel> loadOmpModel(const fs::path& modelDirectory, const fs::path& encoderDirectory) {
  auto encoder = Encoder::loadOrDefault(encoderDirectory.string());
  if (!encoder) return encoder.error();
  const fs::path directory = modelDirectory.empty() ? shippedOmpHeads() : modelDirectory;
  if (!fs::exists(directory / "manifest.json")) {
    return Error(
        ErrorCode::kNotFound,
        fmt::format("no OpenMP model in {}: train one with `mirtune omp train`, or measure without one "
                    "(--strategy exhaustive or random)",
                    directory.string()));
  }
  auto manifest = heads::readTaskManifest(directory, kOmpModelKind, encoder->id());
  if (!manifest) return manifest.error();
  auto form = parseHeadForm(manifest->value("form", std::string("near-best")));
  if (!form)
    return Error(ErrorCode::kVersion,
                 fmt::format("{}: {}", (directory / "manifest.json").string(), form.error().message()));
  const std::size_t features = manifest->value("features", std::size_t{0});
  LoadedModel model{std::move(*encoder), nullptr, nullptr,
                    manifest->value("model_id", directory.filename().string())};
  if (*form == OmpHeadForm::kNearBest) {
    auto heads = heads::loadNamedHeads(directory, *manifest, "heads", features, 2);
    if (!heads) return heads.error();
    auto found = heads->find(kHeadName);
    if (found == heads->end()) {
      return Error(ErrorCode::kVersion,
                   fmt::format("{}: no '{}' head", (directory / "manifest.json").string(), kHeadName));
    }
    model.classifier = std::move(found->second);
  } else {
    auto regressor = heads::XgbRegressor::load(directory / kRegressorName);
    if (!regressor) return regressor.error();
    if ((*regressor)->featureCount() != features) {
      return Error(ErrorCode::kVersion, fmt::format("{}: the head reads {} features, the manifest says {}",
                                                    (directory / kRegressorName).string(),
                                                    (*regressor)->featureCount(), features));
    }
    model.regressor = std::move(*regressor);
  }
  return model;
}

OmpSample sampleOf(const std::string& platform, const std::string& cpuModel, int cores, const OmpApp& app,
                   const std::string& size, const std::vector<std::string>& arguments,
                   const std::vector<MeasurementRecord>& stored) {
  OmpSample sample;
  sample.platform = platform.substr(0, 12);
  sample.cpuModel = cpuModel;
  sample.cores = cores;
  sample.app = app.name;
  sample.size = size;
  sample.arguments = arguments;
  for (const auto& record : stored) {
    sample.measurements.push_back(
        {record.configuration, record.status, record.medianSeconds, record.spreadSeconds});
  }
  return sample;
}

// The exhaustive request of one app at one size.
Expected<TuningRequest> collectRequest(const OmpApp& app, const std::string& size,
                                       const std::vector<std::string>& arguments,
                                       const OmpMeasureOptions& measure, const SearchSpace& space) {
  auto request = ompRequest(app.source, arguments, measure, space,
                            {{"app", app.name}, {"size", size}, {"strategy", "exhaustive"}});
  if (!request) return request.error();
  request->command = "omp collect";
  request->planner =
      [&space](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    if (done.size() > 1) return std::vector<Configuration>{};
    return space.enumerate();
  };
  return request;
}

fs::path suiteFolder(const fs::path& apps) { return apps.empty() ? ompSuiteDirectory() : apps; }

// The apps and sizes a collection covers, in order.
Expected<std::vector<std::pair<OmpApp, std::string>>> collectItems(const OmpCollectOptions& options) {
  auto apps = loadOmpSuite(suiteFolder(options.apps));
  if (!apps) return apps.error();
  for (const std::string& name : options.only) {
    if (std::none_of(apps->begin(), apps->end(), [&](const OmpApp& app) { return app.name == name; })) {
      std::vector<std::string> names;
      for (const OmpApp& app : *apps) names.push_back(app.name);
      return makeError(ErrorCode::kNotFound, "--only {}: no such app (apps: {})", name,
                       fmt::join(names, ", "));
    }
  }
  std::vector<std::pair<OmpApp, std::string>> items;
  for (const OmpApp& app : *apps) {
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), app.name) == options.only.end()) {
      continue;
    }
    for (const std::string& size : options.sizes) {
      if (auto arguments = app.sizeArguments(size); !arguments) return arguments.error();
      items.emplace_back(app, size);
    }
  }
  return items;
}

struct LearningData {
  std::vector<OmpSample> samples;
  std::map<std::string, std::vector<float>> embeddings;
  std::vector<fs::path> files;
};

Expected<LearningData> loadLearningData(const OmpLearnOptions& options, const Encoder& encoder,
                                        const fs::path& databasePath) {
  LearningData data;
  data.files = options.data;
  if (data.files.empty()) data.files = defaultDataFiles();
  if (data.files.empty()) {
    return Error(ErrorCode::kNotFound,
                 "no OpenMP data: pass --data FILE.csv (written by `mirtune omp collect`)");
  }
  auto samples = readOmpData(data.files);
  if (!samples) return samples.error();
  std::vector<std::string> dropped;
  data.samples = completeSamples(*samples, dropped);
  for (const auto& name : dropped) logWarn("skipping {}: not every configuration was measured", name);
  auto apps = loadOmpSuite(suiteFolder(options.apps));
  if (!apps) return apps.error();
  std::vector<std::pair<std::string, fs::path>> programs;
  for (const auto& sample : data.samples) {
    if (std::any_of(programs.begin(), programs.end(), [&](const auto& p) { return p.first == sample.app; }))
      continue;
    auto app =
        std::find_if(apps->begin(), apps->end(), [&](const OmpApp& a) { return a.name == sample.app; });
    if (app == apps->end()) {
      return Error(
          ErrorCode::kNotFound,
          fmt::format("the data names app '{}', which is not in the app folder (--apps)", sample.app));
    }
    programs.emplace_back(app->name, app->source);
  }
  CacheHandle cache;
  if (auto opened = openCache(cache, options.noCache, databasePath.string()); !opened) return opened.error();
  auto embeddings = embedPrograms(encoder, programs, cache.get());
  if (!embeddings) return embeddings.error();
  data.embeddings = std::move(*embeddings);
  return data;
}

}  // namespace

fs::path shippedOmpHeads() { return heads::taskModelDirectory("omp", kModelName); }

namespace {

/// The strategies of `omp --app`: the head's ranking (predict, topk) or the generic tuner's search
/// (exhaustive, random, model).
struct OmpStrategy {
  std::optional<StrategyKind> ranked;
  tune::StrategyKind search = tune::StrategyKind::kExhaustive;
};

Expected<OmpStrategy> parseOmpStrategy(const std::string& name) {
  if (name == "model") return OmpStrategy{std::nullopt, tune::StrategyKind::kModel};
  auto kind = parseStrategy(name);
  if (!kind) {
    return Error(ErrorCode::kUsage,
                 fmt::format("unknown strategy '{}' (expected one of: predict, topk, exhaustive, "
                             "random, model)",
                             name));
  }
  switch (*kind) {
    case StrategyKind::kPredict:
    case StrategyKind::kTopK:
      return OmpStrategy{*kind, tune::StrategyKind::kExhaustive};
    case StrategyKind::kExhaustive:
      return OmpStrategy{std::nullopt, tune::StrategyKind::kExhaustive};
    case StrategyKind::kRandom:
      return OmpStrategy{std::nullopt, tune::StrategyKind::kRandom};
  }
  return OmpStrategy{};
}

}  // namespace

Expected<OmpTuneReport> tuneOmpApp(const OmpTuneOptions& options, const fs::path& databasePath) {
  auto strategy = parseOmpStrategy(options.strategy);
  if (!strategy) return strategy.error();
  auto spaceSize = parseSpaceSize(options.measure.space);
  if (!spaceSize) return spaceSize.error();
  if (options.budget < 1) return Error(ErrorCode::kUsage, "--budget must be at least 1");
  OutputCheck check = OutputCheck::kSelfCheckOrDigest;
  if (options.check == "digest") {
    check = OutputCheck::kDigest;
  } else if (options.check == "none") {
    check = OutputCheck::kNone;
  } else if (options.check != "auto") {
    return Error(ErrorCode::kUsage, "--check must be auto, digest or none");
  }
  const fs::path& source = options.app;
  if (!fs::exists(source))
    return Error(ErrorCode::kNotFound, fmt::format("{}: no such file", source.string()));
  auto settings = measurementSettings(options.measure);
  if (!settings) return settings.error();

  // The model (and the embedding of the app's parallel regions) are needed before the second round only.
  std::optional<LoadedModel> model;
  std::vector<float> embedding;
  const bool ranked = strategy->ranked.has_value() && options.writeSpec.empty();
  if (ranked) {
    auto loaded = loadOmpModel(options.heads, options.encoder);
    if (!loaded) return loaded.error();
    model.emplace(std::move(*loaded));
    CompileOptions compile;
    compile.extraArguments = options.measure.flags;
    auto embedded = embedBatch(model->encoder, {parallelRegionSource(source, compile)}, {});
    if (!embedded) return embedded.error();
    if ((*embedded)[0].error) return *(*embedded)[0].error;
    embedding = (*embedded)[0].vectors.front();
  }

  auto database = Database::open(databasePath.string());
  if (!database) return database.error();
  auto machine = probeMachine(*database);
  if (!machine) return machine.error();
  OmpTuneReport report;
  report.cores = machine->info.logicalCores;
  report.space = makeOmpSpace(machine->info.logicalCores, *spaceSize);
  const SearchSpace& space = report.space;
  report.arguments = splitArguments(options.args);
  const std::vector<std::string>& arguments = report.arguments;

  // The app's tuning problem as an application spec: the generic tuner measures, records and reports it.
  auto rewritten = rewrittenOmpSource(source, options.measure.flags);
  if (!rewritten) return rewritten.error();
  OmpSpecInput input;
  input.app = source;
  input.arguments = arguments;
  input.rewrittenSource = std::move(*rewritten);
  input.space = &space;
  input.measure = options.measure;
  input.check = check;
  auto document = ompSpecDocument(input);
  if (!document) return document.error();
  if (!options.writeSpec.empty()) {
    if (Status written = writeOmpSpec(*document, options.writeSpec); !written) return written.error();
    report.writtenSpec = options.writeSpec;
    return report;
  }
  const fs::path specFile =
      fs::absolute(source).parent_path() / (source.stem().string() + ".omp.json");  // names it in messages
  auto spec = ompTuneSpec(*document, specFile);
  if (!spec) return spec.error();
  auto workload = sourceWorkload(source);
  if (!workload) return workload.error();

  tune::ApplicationSessionHooks hooks;
  hooks.task = "omp";
  hooks.command = "omp";
  hooks.workload = *workload;
  // The session's identity, as `omp --app` has always named it (a --resume finds sessions begun before).
  settings->relativeTimeout = kRelativeTimeout;
  hooks.identity = {{"app", source.string()},         {"strategy", options.strategy},
                    {"budget", options.budget},       {"seed", options.seed},
                    {"check", options.check},         {"arguments", arguments},
                    {"space", options.measure.space}, {"compiler", options.measure.compiler},
                    {"flags", options.measure.flags}, {"settings", settingsJson(*settings)}};
  hooks.force = options.measure.force;
  hooks.machine = &*machine;
  if (model) hooks.modelIds = {model->modelId, model->encoder.id()};
  std::vector<RankedConfiguration>& ranking = report.ranking;
  if (ranked) {
    hooks.strategyName = options.strategy;
    // The head ranks the space once the default's time is known; its order is the session's proposal order.
    hooks.proposalOrder = [&](const TunedConfiguration& def) -> Expected<std::vector<Configuration>> {
      if (def.status != MeasureStatus::kOk || !def.median) {
        logWarn("the default configuration did not run correctly ({}): ranking without its run time",
                measureStatusName(def.status));
      }
      const double seconds = def.median.value_or(1.0);
      const int cores = machine->info.logicalCores;
      auto order = rankConfigurations(
          model->scorer(), programFeatures({embedding, arguments, seconds, cores}), space.enumerate(), cores);
      if (!order) return order.error();
      // Several measurements cover different thread counts and schedules first (as `omp eval` scores top-k).
      ranking = *strategy->ranked == StrategyKind::kTopK
                    ? topKOrder(*order, space.defaultConfiguration(), true)
                    : *order;
      CandidateRequest candidates;
      candidates.kind = *strategy->ranked;
      candidates.budget = static_cast<std::size_t>(options.budget);
      candidates.seed = options.seed;
      for (const auto& r : ranking) candidates.ranking.push_back(r.configuration);
      auto selected = selectCandidates(space, candidates);
      if (!selected) return selected.error();
      selected->erase(selected->begin());  // the default is measured already
      return *selected;
    };
  }

  tune::TuneSessionOptions session;
  session.specFile = specFile;
  session.strategy = strategy->search;
  // omp's --budget counts the configurations besides the default; the generic budget counts the default too.
  const bool everything = !ranked && strategy->search == tune::StrategyKind::kExhaustive;
  const bool predict = ranked && *strategy->ranked == StrategyKind::kPredict;
  session.budget = everything ? 0 : predict ? 2 : static_cast<std::size_t>(options.budget) + 1;
  session.seed = options.seed;
  session.databasePath = databasePath;
  session.runner = runnerExecutablePath();
  session.t4File = options.t4File;
  session.cacheFile = options.cacheFile;
  session.resume = options.measure.resume;
  session.workDirectory = options.workDirectory;
  session.commandLine = "omp";
  auto result = tune::runApplicationSession(*spec, session, hooks);
  if (!result) return result.error();
  report.session = *result->processSession;
  report.session.best = result->best;
  report.generic = std::move(*result);

  // Predictions are recorded against the session that measured them.
  if (model && !ranking.empty()) {
    auto workloadId = database->upsertWorkload(*workload);
    if (workloadId) {
      const std::size_t keep =
          *strategy->ranked == StrategyKind::kPredict ? 1 : static_cast<std::size_t>(options.budget);
      for (std::size_t i = 0; i < std::min(keep, ranking.size()); ++i) {
        PredictionRecord record;
        record.sessionId = report.session.sessionId;
        record.workloadId = *workloadId;
        record.task = "omp";
        record.modelId = model->modelId;
        record.configuration = ranking[i].configuration;
        record.score = ranking[i].score;
        if (auto stored = database->insertPrediction(record); !stored)
          logWarn("database: {}", stored.error().message());
      }
    }
  }
  return report;
}

Expected<OmpExportReport> exportOmpCollection(const OmpCollectOptions& options, const fs::path& folder) {
  auto items = collectItems(options);
  if (!items) return items.error();
  auto spaceSize = parseSpaceSize(options.measure.space);
  if (!spaceSize) return spaceSize.error();
  const int cores = options.cores > 0 ? options.cores : static_cast<int>(std::thread::hardware_concurrency());
  const SearchSpace space = makeOmpSpace(cores, *spaceSize);
  std::vector<Configuration> candidates = {space.defaultConfiguration()};
  for (const auto& c : space.enumerate()) {
    if (configurationHash(c) != configurationHash(candidates.front())) candidates.push_back(c);
  }
  nlohmann::json index = {{"cores", cores},
                          {"space", options.measure.space},
                          {"compiler", options.measure.compiler},
                          {"items", nlohmann::json::array()}};
  for (const auto& [app, size] : *items) {
    auto arguments = app.sizeArguments(size);
    auto request = collectRequest(app, size, *arguments, options.measure, space);
    if (!request) return request.error();
    const std::string name = app.name + "-" + size;
    if (auto written = exportTuningPlan(*request, candidates, folder / name); !written) return written.error();
    index["items"].push_back({{"folder", name}, {"app", app.name}, {"size", size}});
  }
  // Its identity keys what is ingested from it, so that ingesting it again stores nothing twice.
  if (auto identity = writeExportId(folder); !identity) return identity.error();
  if (auto written = writeFileAtomically(folder / "collection.json", index.dump(2) + "\n"); !written) {
    return written.error();
  }
  if (auto written = writeFileAtomically(folder / "run-all.sh",
                                         exportRunAllScript("mirtune omp collect --ingest", false));
      !written)
    return written.error();
  return OmpExportReport{items->size(), candidates.size(), cores};
}

Expected<OmpCollectReport> ingestOmpCollection(const OmpCollectOptions& options, const fs::path& folder,
                                               const fs::path& databasePath) {
  const fs::path indexFile = folder / "collection.json";
  auto index = readExportIndex(indexFile);
  if (!index) return index.error();
  const nlohmann::json& list = (*index)["items"];
  // Each plan folder's machine is its own platform.json (written by a campaign node) or else the folder's
  // (written by run-all.sh); with neither anywhere, nothing was run yet.
  ExportedMachines machines(folder);
  const std::vector<fs::path> planFolders = exportedPlanFolders(folder, list);
  if (auto recorded = machines.firstRecorded(planFolders); !recorded) return recorded.error();
  auto campaign = exportId(folder, indexFile);
  if (!campaign) return campaign.error();
  OmpMeasureOptions exported = options.measure;
  auto spaceName = indexString(*index, "space", indexFile, "space", "full");
  if (!spaceName) return spaceName.error();
  auto compiler = indexString(*index, "compiler", indexFile, "compiler", "clang");
  if (!compiler) return compiler.error();
  auto cores = indexInteger(*index, "cores", indexFile, "cores", 1, kMaxExportedCores, 1);
  if (!cores) return cores.error();
  exported.space = *spaceName;
  exported.compiler = *compiler;
  auto spaceSize = parseSpaceSize(exported.space);
  if (!spaceSize) return spaceSize.error().withContext(indexFile.string());
  const SearchSpace space = makeOmpSpace(static_cast<int>(*cores), *spaceSize);
  auto apps = loadOmpSuite(suiteFolder(options.apps));
  if (!apps) return apps.error();

  // Every item is checked before anything is stored: a damaged one leaves nothing of the collection behind.
  struct Item {
    const OmpApp* app;
    std::string size;
    std::vector<std::string> arguments;
    TuningRequest request;
    fs::path folder;
    std::string folderName;
    const PlatformRecord* platform;
  };
  std::vector<Item> items;
  OmpCollectReport report;
  report.counts.planFolders = list.size();
  CollectionIngest ingest(report.counts);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("items[{}]", i);
    auto appName = indexString(list[i], "app", indexFile, where + ".app");
    if (!appName) return appName.error();
    auto size = indexString(list[i], "size", indexFile, where + ".size");
    if (!size) return size.error();
    auto folderName = indexString(list[i], "folder", indexFile, where + ".folder");
    if (!folderName) return folderName.error();
    auto app = std::find_if(apps->begin(), apps->end(), [&](const OmpApp& a) { return a.name == *appName; });
    if (app == apps->end()) {
      return Error(ErrorCode::kNotFound, fmt::format("{}: {}.app '{}' is not in the app folder",
                                                     indexFile.string(), where, *appName));
    }
    auto arguments = app->sizeArguments(*size);
    if (!arguments) return arguments.error().withContext(indexFile.string());
    auto itemFolder = pathInsideFolder(folder, *folderName, indexFile, where + ".folder");
    if (!itemFolder) {
      ingest.reject(itemFolder.error());
      continue;
    }
    auto request = collectRequest(*app, *size, *arguments, exported, space);
    if (!request) return request.error();
    if (!ingest.check(*request, *itemFolder, fmt::format("{} {}", *appName, *size))) continue;
    // The thread counts were chosen for the exporting machine's cores; the machine that ran them is checked
    // (its platform.json read) for each plan folder on its own.
    auto platform = machines.platformFor(*itemFolder);
    if (!platform) return platform.error();
    items.push_back(
        {&*app, *size, std::move(*arguments), std::move(*request), *itemFolder, *folderName, *platform});
  }
  if (Status checked = ingest.refuseIfRejected(folder, list.size()); !checked) return checked.error();

  auto database = Database::open(databasePath.string());
  if (!database) return database.error();
  std::vector<OmpSample> samples;
  for (const Item& item : items) {
    const PlatformRecord& platform = *item.platform;
    // The data rows are the folder's results, whichever ingest stored them.
    auto measured =
        ingest.store(*database, platform, item.request, item.folder, IngestIdentity{*campaign, item.folderName});
    if (!measured) return measured.error().withContext(fmt::format("{} {}", item.app->name, item.size));
    samples.push_back(sampleOf(platform.fingerprint, platform.cpuModel, static_cast<int>(platform.cores),
                               *item.app, item.size, item.arguments, *measured));
  }
  report.missing = report.counts.notYet + report.counts.missingConfigurations;
  if (options.output.empty()) {
    auto named = items.empty() ? machines.firstRecorded(planFolders)
                               : Expected<const PlatformRecord*>(items.front().platform);
    if (!named) return named.error();
    report.output = fs::path(fmt::format("omp-{}.csv", (*named)->fingerprint.substr(0, 12)));
  } else {
    report.output = options.output;
  }
  if (auto written = writeFileAtomically(report.output, ompDataToCsv(samples)); !written) return written.error();
  return report;
}

Expected<OmpCollectReport> collectOmp(const OmpCollectOptions& options, const fs::path& databasePath) {
  auto items = collectItems(options);
  if (!items) return items.error();
  auto spaceSize = parseSpaceSize(options.measure.space);
  if (!spaceSize) return spaceSize.error();
  auto database = Database::open(databasePath.string());
  if (!database) return database.error();
  auto machine = probeMachine(*database);
  if (!machine) return machine.error();
  const SearchSpace space = makeOmpSpace(machine->info.logicalCores, *spaceSize);
  OmpCollectReport report;
  report.output = options.output.empty()
                      ? fs::path(fmt::format("omp-{}.csv", machine->info.fingerprint.substr(0, 12)))
                      : options.output;
  std::vector<OmpSample> samples;
  for (const auto& [app, size] : *items) {
    auto arguments = app.sizeArguments(size);
    auto request = collectRequest(app, size, *arguments, options.measure, space);
    if (!request) return request.error();
    // Finished app-sizes are read back from the database; an interrupted one resumes with --resume.
    const TuningSessionState state = findTuningSession(*database, *request);
    std::int64_t sessionId = state.sessionId;
    if (state.kind == TuningSessionState::Kind::kFinished && options.measure.resume) {
      logInfo("{} {}: already measured (session {})", app.name, size, state.sessionId);
    } else {
      request->resume = options.measure.resume && state.kind == TuningSessionState::Kind::kInterrupted;
      logInfo("{} {}: measuring {} configurations", app.name, size, space.size());
      auto result = runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request,
                                     runnerExecutablePath());
      if (!result) {
        logError("{} {}: {}", app.name, size, result.error().message());
        ++report.failed;
        continue;
      }
      sessionId = result->sessionId;
    }
    auto stored = database->listMeasurements(sessionId);
    if (!stored) return stored.error();
    samples.push_back(sampleOf(machine->info.fingerprint, machine->info.cpuModel, machine->info.logicalCores,
                               app, size, *arguments, *stored));
    // Written after every app-size, so an interruption keeps the file current.
    if (auto written = writeFileAtomically(report.output, ompDataToCsv(samples)); !written)
      return written.error();
  }
  return report;
}

Expected<fs::path> trainOmpHead(const OmpLearnOptions& options, const fs::path& databasePath) {
  auto form = parseHeadForm(options.form);
  if (!form) return form.error();
  auto encoder = Encoder::loadOrDefault(options.encoder.string());
  if (!encoder) return encoder.error();
  auto data = loadLearningData(options, *encoder, databasePath);
  if (!data) return data.error();
  std::vector<float> gaps;
  auto rows = ompTrainingRows(data->samples, data->embeddings, &gaps);
  if (!rows) return rows.error();
  // Trained heads go to the user's data folder unless asked otherwise: the shipped ones are never overwritten.
  const fs::path out = options.out.empty() ? userModelDirectory("omp", kModelName) : options.out;
  std::error_code ec;
  fs::remove_all(out / kHeadName, ec);
  fs::remove_all(out / kRegressorName, ec);
  nlohmann::json heads = nlohmann::json::object();
  if (*form == OmpHeadForm::kNearBest) {
    heads::XgbClassifier head(defaultOmpHeadParams());
    if (auto fitted = head.fit(*rows); !fitted) return fitted.error();
    if (auto saved = head.save(out / kHeadName); !saved) return saved.error();
    heads[kHeadName] = {
        {"label", fmt::format("median within {:.0f}% of the best", 100 * kNearBestTolerance)}};
  } else {
    heads::XgbRegressor head(defaultOmpHeadParams());
    if (auto fitted = head.fit(rows->features, gaps); !fitted) return fitted.error();
    if (auto saved = head.save(out / kRegressorName); !saved) return saved.error();
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : data->files) {
    auto digest = sha256File(file);
    files.push_back({{"file", file.filename().string()}, {"sha256", digest ? *digest : ""}});
  }
  std::size_t positives = std::count(rows->labels.begin(), rows->labels.end(), 1);
  nlohmann::json manifest = {{"model_id", out.filename().string()},
                             {"form", headFormName(*form)},
                             {"heads", heads},
                             {"features", rows->features.cols},
                             {"rows", rows->size()},
                             {"near_best_rows", positives},
                             {"samples", data->samples.size()},
                             {"data", files}};
  if (auto written = heads::writeTaskManifest(out, kOmpModelKind, encoder->id(), manifest, options.command);
      !written) {
    return written.error();
  }
  return out;
}

Expected<OmpEvalResult> evaluateOmp(const OmpLearnOptions& options, const fs::path& databasePath) {
  auto encoder = Encoder::loadOrDefault(options.encoder.string());
  if (!encoder) return encoder.error();
  auto data = loadLearningData(options, *encoder, databasePath);
  if (!data) return data.error();
  auto form = parseHeadForm(options.form);
  if (!form) return form.error();
  OmpEvalOptions evalOptions;
  evalOptions.form = *form;
  evalOptions.diverseTopK = !options.plainTopK;
  evalOptions.topK = static_cast<std::size_t>(std::max(1, options.topK));
  return evaluateLeaveOneAppOut(data->samples, data->embeddings, evalOptions);
}

}  // namespace mirtune::omp
