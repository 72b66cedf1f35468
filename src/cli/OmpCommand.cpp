// `mirtune omp`: OpenMP thread count, schedule and chunk for an app (--app), collection of the shipped
// suite's space on this machine (collect), the head (train) and its leave-one-app-out evaluation (eval).
#include "cli/OmpCommand.h"

#include "tasks/common/DatabaseCache.h"
#include "tuner/MeasureCommon.h"
#include "database/Database.h"
#include "frontend/OmpScheduleRewrite.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tasks/common/TaskModel.h"
#include "tasks/omp/OmpApp.h"
#include "tasks/omp/OmpData.h"
#include "tasks/omp/OmpEmbed.h"
#include "tasks/omp/OmpModel.h"
#include "tasks/omp/OmpSpace.h"
#include "tuner/IngestChecks.h"
#include "tuner/Strategy.h"
#include "tuner/TuningSession.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <thread>

namespace mirtune::cli {
namespace fs = std::filesystem;
using namespace mirtune::omp;

namespace {

const heads::TaskModelKind kOmpModelKind{"omp", "OpenMP", 1, "mirtune omp train"};
constexpr const char* kHeadName = "near_best";
constexpr const char* kRegressorName = "gap";
constexpr double kRelativeTimeout = 20;

/// Options shared by everything that measures.
struct MeasureOptions {
  std::string space = "full";
  std::string compiler = "clang";
  std::vector<std::string> flags;  ///< extra compiler flags (-I, -D, ...)
  double buildTimeout = 300;
  double runTimeout = 60;
  double minTime = 0.5;
  int minRepetitions = 3;
  int maxRepetitions = 30;
  bool resume = false;
  bool force = false;
};

struct OmpTuneOptions {
  std::string app;
  std::string args;
  std::string strategy = "predict";
  int budget = 3;
  std::uint64_t seed = 1;
  std::string model;    ///< head folder; empty = the shipped one
  std::string encoder;  ///< encoder folder; empty = the shipped one
  std::string check = "auto";
  std::string workDirectory;
  bool json = false;
  MeasureOptions measure;
};

struct OmpCollectOptions {
  std::string apps;
  std::vector<std::string> sizes = {"small", "large"};
  std::vector<std::string> only;
  std::string output;
  std::string exportFolder;  ///< write self-contained plans for mirtune-run instead of measuring here
  int cores = 0;             ///< --export: the target machine's cores (default: this machine's)
  std::string ingestFolder;  ///< store the results of an exported folder
  MeasureOptions measure;
};

struct OmpLearnOptions {
  std::vector<std::string> data;
  std::string apps;
  std::string encoder;
  std::string out;
  std::string output;
  bool json = false;
  bool noCache = false;
  int topK = 3;
  bool plainTopK = false;
  std::string form = "near-best";
  std::string command;
};

fs::path defaultOmpModelDirectory() {
  return heads::taskModelDirectory("omp", "omp-1.0");
}

std::vector<fs::path> defaultDataFiles() {
  std::vector<fs::path> files;
  const fs::path folder = sourceDirectory() / "tasks" / "omp" / "data";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Expected<MeasurementSettings> measurementSettings(const MeasureOptions& options) {
  auto settings = mirtune::measurementSettings(options.buildTimeout, options.runTimeout, options.minTime,
                                           options.minRepetitions, options.maxRepetitions);
  // A configuration 20 times slower than the default is of no use; stopping it early keeps collections short.
  if (settings) settings->relativeTimeout = kRelativeTimeout;
  return settings;
}

// The request every OpenMP measurement shares: the rewritten source as app.c (or .cpp) in the work folder,
// one build, runs under each configuration's OMP_* variables.
Expected<TuningRequest> ompRequest(const fs::path& source, const std::vector<std::string>& arguments,
                                   const MeasureOptions& measure, const SearchSpace& space,
                                   nlohmann::json options) {
  auto compiler = parseCompiler(measure.compiler);
  if (!compiler) return compiler.error();
  auto settings = measurementSettings(measure);
  if (!settings) return settings.error();
  auto rewritten = rewriteOmpSchedules(source, measure.flags);
  if (!rewritten) return rewritten.error();
  for (const auto& site : rewritten->sites) {
    if (!site.note.empty()) logInfo("{}:{}: omp {}: {}", site.file, site.line, site.directive, site.note);
  }
  if (rewritten->sites.empty()) {
    logWarn("{}: no OpenMP worksharing loop: only the thread count can matter", source.string());
  }
  auto workload = sourceWorkload(source);
  if (!workload) return workload.error();
  TuningRequest request;
  request.task = "omp";
  request.space = &space;
  OmpBuild build;
  build.compiler = *compiler;
  build.extraFlags = measure.flags;
  build.sourceName = source.extension() == ".c" ? "app.c" : "app" + source.extension().string();
  request.files[build.sourceName] = rewritten->text;
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

std::string secondsText(const TunedConfiguration& result) {
  if (!result.median) return std::string(measureStatusName(result.status));
  return fmt::format("{:.4f} s ± {:.4f}", *result.median, result.spread.value_or(0.0));
}

nlohmann::json tunedJson(const SearchSpace& space, const TunedConfiguration& r) {
  nlohmann::json json = tunedConfigurationJson(r);
  json["label"] = configurationLabel(space, r.configuration);
  return json;
}

// --- omp --app ---

struct LoadedModel {
  Encoder encoder;
  std::unique_ptr<heads::Classifier> classifier;   ///< near-best form
  std::unique_ptr<heads::XgbRegressor> regressor;  ///< regression form
  std::string modelId;

  ConfigurationScorer scorer() const { return classifier ? scorerOf(*classifier) : scorerOf(*regressor); }
};

Expected<LoadedModel> loadOmpModel(const std::string& modelDirectory, const std::string& encoderDirectory) {
  auto encoder = Encoder::loadOrDefault(encoderDirectory);
  if (!encoder) return encoder.error();
  const fs::path directory = modelDirectory.empty() ? defaultOmpModelDirectory() : fs::path(modelDirectory);
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

int runOmpTune(const OmpTuneOptions& options, const GlobalOptions& global) {
  auto strategy = parseStrategy(options.strategy);
  if (!strategy) return reportError(strategy.error());
  auto spaceSize = parseSpaceSize(options.measure.space);
  if (!spaceSize) return reportError(spaceSize.error());
  if (options.budget < 1) return reportError(Error(ErrorCode::kUsage, "--budget must be at least 1"));
  OutputCheck check = OutputCheck::kSelfCheckOrDigest;
  if (options.check == "digest") {
    check = OutputCheck::kDigest;
  } else if (options.check == "none") {
    check = OutputCheck::kNone;
  } else if (options.check != "auto") {
    return reportError(Error(ErrorCode::kUsage, "--check must be auto, digest or none"));
  }
  const fs::path source = options.app;
  if (!fs::exists(source))
    return reportError(Error(ErrorCode::kNotFound, fmt::format("{}: no such file", source.string())));

  // The model (and the embedding of the app's parallel regions) are needed before the second round only.
  std::optional<LoadedModel> model;
  std::vector<float> embedding;
  const bool ranked = *strategy == StrategyKind::kPredict || *strategy == StrategyKind::kTopK;
  if (ranked) {
    auto loaded = loadOmpModel(options.model, options.encoder);
    if (!loaded) return reportError(loaded.error());
    model.emplace(std::move(*loaded));
    CompileOptions compile;
    compile.extraArguments = options.measure.flags;
    auto embedded = embedBatch(model->encoder, {parallelRegionSource(source, compile)}, {});
    if (!embedded) return reportError(embedded.error());
    if ((*embedded)[0].error) return reportError(*(*embedded)[0].error);
    embedding = (*embedded)[0].vectors.front();
  }

  auto database = Database::open(resolveDatabasePath(global));
  if (!database) return reportError(database.error());
  auto machine = probeMachine(*database);
  if (!machine) return reportError(machine.error());
  const SearchSpace space = makeOmpSpace(machine->info.logicalCores, *spaceSize);
  const std::vector<std::string> arguments = splitArguments(options.args);
  nlohmann::json sessionOptions = {{"app", source.string()},
                                   {"strategy", options.strategy},
                                   {"budget", options.budget},
                                   {"seed", options.seed},
                                   {"check", options.check}};
  auto request = ompRequest(source, arguments, options.measure, space, sessionOptions);
  if (!request) return reportError(request.error());
  request->command = "omp";
  request->check = check;
  request->seed = static_cast<std::int64_t>(options.seed);
  request->workDirectory = options.workDirectory;
  if (model) request->modelIds = {model->modelId, model->encoder.id()};

  std::vector<RankedConfiguration> ranking;
  request->planner =
      [&](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    CandidateRequest candidates;
    candidates.kind = *strategy;
    candidates.budget = static_cast<std::size_t>(options.budget);
    candidates.seed = options.seed;
    if (ranked) {
      const TunedConfiguration& def = done.front();
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
      ranking =
          *strategy == StrategyKind::kTopK ? topKOrder(*order, space.defaultConfiguration(), true) : *order;
      for (const auto& r : ranking) candidates.ranking.push_back(r.configuration);
    }
    auto selected = selectCandidates(space, candidates);
    if (!selected) return selected.error();
    selected->erase(selected->begin());  // the default was measured in round 1
    return *selected;
  };
  // One round after the default: the planner's picks.
  int rounds = 0;
  RoundPlanner once = request->planner;
  request->planner =
      [&, once](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    if (rounds++ > 0) return std::vector<Configuration>{};
    return once(done);
  };

  auto result = runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request,
                                 runnerExecutablePath());
  if (!result) return reportError(result.error());

  // Predictions are recorded against the session that measured them.
  if (model && !ranking.empty()) {
    auto workloadId = database->upsertWorkload(request->workload);
    if (workloadId) {
      const std::size_t keep =
          *strategy == StrategyKind::kPredict ? 1 : static_cast<std::size_t>(options.budget);
      for (std::size_t i = 0; i < std::min(keep, ranking.size()); ++i) {
        PredictionRecord record;
        record.sessionId = result->sessionId;
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

  const auto& results = result->results;
  const TunedConfiguration& def = results.front();
  if (options.json) {
    nlohmann::json json = {{"app", source.string()},
                           {"arguments", arguments},
                           {"strategy", options.strategy},
                           {"session", result->sessionId},
                           {"resumed", result->resumed},
                           {"cores", machine->info.logicalCores},
                           {"results", nlohmann::json::array()}};
    for (const auto& r : results) json["results"].push_back(tunedJson(space, r));
    if (result->best) json["chosen"] = tunedJson(space, results[*result->best]);
    if (!ranking.empty()) json["predicted"] = ranking.front().configuration;
    return writeOutput("-", json.dump(2) + "\n");
  }
  std::string out;
  out += fmt::format("{} {}: {} configurations measured on {} cores (session {}{})\n", source.string(),
                     fmt::join(arguments, " "), results.size(), machine->info.logicalCores, result->sessionId,
                     result->resumed ? ", resumed" : "");
  for (const auto& r : results) {
    out += fmt::format("  {:<40} {:<26} {}{}\n", configurationLabel(space, r.configuration), secondsText(r),
                       speedupText(r), r.message.empty() ? "" : "  (" + r.message + ")");
  }
  if (def.status != MeasureStatus::kOk) {
    out += fmt::format("the default configuration failed ({}): {}\n", measureStatusName(def.status),
                       def.message);
  }
  if (result->best) {
    const auto& best = results[*result->best];
    out += fmt::format(
        "chosen: {}  OMP_NUM_THREADS={} OMP_SCHEDULE={}  {:.3f}x over default ({:.4f} s vs {:.4f} s)\n",
        configurationLabel(space, best.configuration), best.configuration["threads"].get<int>(),
        ompScheduleValue(best.configuration), best.speedup.value_or(1.0), best.median.value_or(0),
        def.median.value_or(0));
  } else {
    out += "no configuration ran correctly\n";
  }
  writeOutput("-", out);
  return result->best ? 0 : 1;
}

// --- omp collect ---

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
                                       const OmpCollectOptions& options, const SearchSpace& space) {
  auto request = ompRequest(app.source, arguments, options.measure, space,
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

// The apps and sizes a collection covers, in order.
Expected<std::vector<std::pair<OmpApp, std::string>>> collectItems(const OmpCollectOptions& options) {
  auto apps = loadOmpSuite(options.apps.empty() ? ompSuiteDirectory() : fs::path(options.apps));
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

int exportCollection(const OmpCollectOptions& options,
                     const std::vector<std::pair<OmpApp, std::string>>& items) {
  auto spaceSize = parseSpaceSize(options.measure.space);
  if (!spaceSize) return reportError(spaceSize.error());
  const int cores = options.cores > 0 ? options.cores : static_cast<int>(std::thread::hardware_concurrency());
  const SearchSpace space = makeOmpSpace(cores, *spaceSize);
  const fs::path folder = options.exportFolder;
  std::vector<Configuration> candidates = {space.defaultConfiguration()};
  for (const auto& c : space.enumerate()) {
    if (configurationHash(c) != configurationHash(candidates.front())) candidates.push_back(c);
  }
  nlohmann::json index = {{"cores", cores},
                          {"space", options.measure.space},
                          {"compiler", options.measure.compiler},
                          {"items", nlohmann::json::array()}};
  for (const auto& [app, size] : items) {
    auto arguments = app.sizeArguments(size);
    auto request = collectRequest(app, size, *arguments, options, space);
    if (!request) return reportError(request.error());
    const std::string name = app.name + "-" + size;
    if (auto written = exportTuningPlan(*request, candidates, folder / name); !written)
      return reportError(written.error());
    index["items"].push_back({{"folder", name}, {"app", app.name}, {"size", size}});
  }
  if (auto written = writeFileAtomically(folder / "collection.json", index.dump(2) + "\n"); !written) {
    return reportError(written.error());
  }
  if (auto written = writeFileAtomically(folder / "run-all.sh",
                                         exportRunAllScript("mirtune omp collect --ingest", false));
      !written)
    return reportError(written.error());
  fmt::print(
      "{}: {} plans of {} configurations each for {} cores; run `sh {}/run-all.sh path/to/mirtune-run` "
      "there, "
      "then `mirtune omp collect --ingest {}`\n",
      folder.string(), items.size(), candidates.size(), cores, folder.string(), folder.string());
  return 0;
}

int ingestCollection(const OmpCollectOptions& options, const GlobalOptions& global) {
  const fs::path folder = options.ingestFolder;
  const fs::path indexFile = folder / "collection.json";
  auto index = readExportIndex(indexFile);
  if (!index) return reportError(index.error());
  auto remotePlatform = exportedPlatform(folder);
  if (!remotePlatform) return reportError(remotePlatform.error());
  const PlatformRecord& platform = *remotePlatform;
  OmpCollectOptions exported = options;
  auto spaceName = indexString(*index, "space", indexFile, "space", "full");
  if (!spaceName) return reportError(spaceName.error());
  auto compiler = indexString(*index, "compiler", indexFile, "compiler", "clang");
  if (!compiler) return reportError(compiler.error());
  auto cores = indexInteger(*index, "cores", indexFile, "cores", 1, kMaxExportedCores, 1);
  if (!cores) return reportError(cores.error());
  exported.measure.space = *spaceName;
  exported.measure.compiler = *compiler;
  auto spaceSize = parseSpaceSize(exported.measure.space);
  if (!spaceSize) return reportError(spaceSize.error().withContext(indexFile.string()));
  const SearchSpace space = makeOmpSpace(static_cast<int>(*cores), *spaceSize);
  auto apps = loadOmpSuite(options.apps.empty() ? ompSuiteDirectory() : fs::path(options.apps));
  if (!apps) return reportError(apps.error());

  // Every item is checked before anything is stored: a damaged one leaves nothing of the collection behind.
  struct Item {
    const OmpApp* app;
    std::string size;
    std::vector<std::string> arguments;
    TuningRequest request;
    fs::path folder;
  };
  std::vector<Item> items;
  std::size_t missing = 0;
  std::size_t rejected = 0;
  const nlohmann::json& list = (*index)["items"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("items[{}]", i);
    auto appName = indexString(list[i], "app", indexFile, where + ".app");
    if (!appName) return reportError(appName.error());
    auto size = indexString(list[i], "size", indexFile, where + ".size");
    if (!size) return reportError(size.error());
    auto folderName = indexString(list[i], "folder", indexFile, where + ".folder");
    if (!folderName) return reportError(folderName.error());
    auto app = std::find_if(apps->begin(), apps->end(), [&](const OmpApp& a) { return a.name == *appName; });
    if (app == apps->end()) {
      return reportError(Error(ErrorCode::kNotFound, fmt::format("{}: {}.app '{}' is not in the app folder",
                                                                 indexFile.string(), where, *appName)));
    }
    auto arguments = app->sizeArguments(*size);
    if (!arguments) return reportError(arguments.error().withContext(indexFile.string()));
    auto itemFolder = pathInsideFolder(folder, *folderName, indexFile, where + ".folder");
    if (!itemFolder) {
      logError("{}", itemFolder.error().message());
      ++rejected;
      continue;
    }
    auto request = collectRequest(*app, *size, *arguments, exported, space);
    if (!request) return reportError(request.error());
    if (Status checked = checkTuningResults(*request, *itemFolder); !checked) {
      if (checked.error().code() == ErrorCode::kNotFound) {
        logWarn("{} {}: {}", *appName, *size, checked.error().message());
        ++missing;
      } else {
        logError("{} {}: {}", *appName, *size, checked.error().message());
        ++rejected;
      }
      continue;
    }
    items.push_back({&*app, *size, std::move(*arguments), std::move(*request), *itemFolder});
  }
  if (rejected > 0) {
    return reportError(Error(ErrorCode::kInvalidInput,
                             fmt::format("{}: {} of {} items failed the checks above; nothing was stored",
                                         folder.string(), rejected, list.size())));
  }

  auto database = Database::open(resolveDatabasePath(global));
  if (!database) return reportError(database.error());
  auto platformId = database->upsertPlatform(platform);
  if (!platformId) return reportError(platformId.error());
  std::vector<OmpSample> samples;
  for (const Item& item : items) {
    auto ingested = ingestTuningResults(*database, *platformId, item.request, item.folder);
    if (!ingested)
      return reportError(ingested.error().withContext(fmt::format("{} {}", item.app->name, item.size)));
    missing += ingested->missing;
    auto stored = database->listMeasurements(ingested->tuning.sessionId);
    if (!stored) return reportError(stored.error());
    samples.push_back(sampleOf(platform.fingerprint, platform.cpuModel, static_cast<int>(platform.cores),
                               *item.app, item.size, item.arguments, *stored));
  }
  const fs::path output = options.output.empty()
                              ? fs::path(fmt::format("omp-{}.csv", platform.fingerprint.substr(0, 12)))
                              : fs::path(options.output);
  if (auto written = writeFileAtomically(output, ompDataToCsv(samples)); !written)
    return reportError(written.error());
  fmt::print("{}\n", output.string());
  if (missing > 0) logWarn("{} configurations (or app-sizes) had no result", missing);
  return 0;
}

int runOmpCollect(const OmpCollectOptions& options, const GlobalOptions& global) {
  if (!options.exportFolder.empty() && !options.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  if (!options.ingestFolder.empty()) return ingestCollection(options, global);
  auto items = collectItems(options);
  if (!items) return reportError(items.error());
  if (!options.exportFolder.empty()) return exportCollection(options, *items);
  auto spaceSize = parseSpaceSize(options.measure.space);
  if (!spaceSize) return reportError(spaceSize.error());
  auto database = Database::open(resolveDatabasePath(global));
  if (!database) return reportError(database.error());
  auto machine = probeMachine(*database);
  if (!machine) return reportError(machine.error());
  const SearchSpace space = makeOmpSpace(machine->info.logicalCores, *spaceSize);
  const fs::path output = options.output.empty()
                              ? fs::path(fmt::format("omp-{}.csv", machine->info.fingerprint.substr(0, 12)))
                              : fs::path(options.output);
  std::vector<OmpSample> samples;
  std::size_t failedSessions = 0;
  for (const auto& [app, size] : *items) {
    auto arguments = app.sizeArguments(size);
    auto request = collectRequest(app, size, *arguments, options, space);
    if (!request) return reportError(request.error());
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
        ++failedSessions;
        continue;
      }
      sessionId = result->sessionId;
    }
    auto stored = database->listMeasurements(sessionId);
    if (!stored) return reportError(stored.error());
    samples.push_back(sampleOf(machine->info.fingerprint, machine->info.cpuModel, machine->info.logicalCores,
                               app, size, *arguments, *stored));
    // Written after every app-size, so an interruption keeps the file current.
    if (auto written = writeFileAtomically(output, ompDataToCsv(samples)); !written)
      return reportError(written.error());
  }
  fmt::print("{}\n", output.string());
  if (failedSessions > 0) {
    logError("{} app-sizes could not be measured (see above); --resume continues them", failedSessions);
    return 1;
  }
  return 0;
}

// --- omp train / eval ---

struct LearningData {
  std::vector<OmpSample> samples;
  std::map<std::string, std::vector<float>> embeddings;
  std::vector<fs::path> files;
};

Expected<LearningData> loadLearningData(const OmpLearnOptions& options, const Encoder& encoder,
                                        const GlobalOptions& global) {
  LearningData data;
  for (const auto& file : options.data) data.files.emplace_back(file);
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
  auto apps = loadOmpSuite(options.apps.empty() ? ompSuiteDirectory() : fs::path(options.apps));
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
  if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return opened.error();
  auto embeddings = embedPrograms(encoder, programs, cache.get());
  if (!embeddings) return embeddings.error();
  data.embeddings = std::move(*embeddings);
  return data;
}

int runOmpTrain(const OmpLearnOptions& options, const GlobalOptions& global) {
  auto form = parseHeadForm(options.form);
  if (!form) return reportError(form.error());
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  auto data = loadLearningData(options, *encoder, global);
  if (!data) return reportError(data.error());
  std::vector<float> gaps;
  auto rows = ompTrainingRows(data->samples, data->embeddings, &gaps);
  if (!rows) return reportError(rows.error());
  const fs::path out = options.out.empty() ? defaultOmpModelDirectory() : fs::path(options.out);
  std::error_code ec;
  fs::remove_all(out / kHeadName, ec);
  fs::remove_all(out / kRegressorName, ec);
  nlohmann::json heads = nlohmann::json::object();
  if (*form == OmpHeadForm::kNearBest) {
    heads::XgbClassifier head(defaultOmpHeadParams());
    if (auto fitted = head.fit(*rows); !fitted) return reportError(fitted.error());
    if (auto saved = head.save(out / kHeadName); !saved) return reportError(saved.error());
    heads[kHeadName] = {
        {"label", fmt::format("median within {:.0f}% of the best", 100 * kNearBestTolerance)}};
  } else {
    heads::XgbRegressor head(defaultOmpHeadParams());
    if (auto fitted = head.fit(rows->features, gaps); !fitted) return reportError(fitted.error());
    if (auto saved = head.save(out / kRegressorName); !saved) return reportError(saved.error());
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
    return reportError(written.error());
  }
  fmt::print("{}\n", out.string());
  return 0;
}

std::string evalTable(const OmpEvalResult& result, std::size_t topK) {
  std::string out = fmt::format(
      "| app | size | default s | oracle | predict | top-{} | random-1 | random-{} | predicted | oracle "
      "config |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---|---|\n",
      topK, topK);
  auto label = [](const Configuration& c) {
    if (c.is_null()) return std::string("-");
    const auto& chunk = c["chunk"];
    return fmt::format("{}t {} {}", c["threads"].get<int>(), c["schedule"].get<std::string>(),
                       chunk.is_string() ? chunk.get<std::string>() : chunk.dump());
  };
  for (const auto& s : result.samples) {
    out += fmt::format("| {} | {} | {:.4f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} | {} |\n", s.app,
                       s.size, s.defaultSeconds, s.oracleSpeedup, s.predictSpeedup, s.topkSpeedup,
                       s.random1Speedup, s.randomKSpeedup, label(s.predicted), label(s.oracle));
  }
  const auto& m = result.summary;
  out += fmt::format(
      "\n| {} samples | oracle | predict | top-{} | random-1 | random-{} |\n|---|---:|---:|---:|---:|---:|\n",
      m.samples, topK, topK);
  out += fmt::format("| mean speedup over default | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n",
                     m.meanOracle, m.meanPredict, m.meanTopk, m.meanRandom1, m.meanRandomK);
  out += fmt::format("| geomean speedup | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", m.geomeanOracle,
                     m.geomeanPredict, m.geomeanTopk, m.geomeanRandom1, m.geomeanRandomK);
  out += fmt::format("| % of oracle (mean) | 100.0 | {:.1f} | {:.1f} | {:.1f} | {:.1f} |\n", m.percentPredict,
                     m.percentTopk, m.percentRandom1, m.percentRandomK);
  out += fmt::format("\nThe default alone reaches {:.1f}% of the oracle.\n", m.percentDefault);
  out += fmt::format(
      "\nThe predicted configuration alone (without keeping the default when it is slower): mean "
      "speedup {:.3f}.\n",
      m.meanPredictRaw);
  return out;
}

int runOmpEval(const OmpLearnOptions& options, const GlobalOptions& global) {
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  auto data = loadLearningData(options, *encoder, global);
  if (!data) return reportError(data.error());
  auto form = parseHeadForm(options.form);
  if (!form) return reportError(form.error());
  OmpEvalOptions evalOptions;
  evalOptions.form = *form;
  evalOptions.diverseTopK = !options.plainTopK;
  evalOptions.topK = static_cast<std::size_t>(std::max(1, options.topK));
  auto result = evaluateLeaveOneAppOut(data->samples, data->embeddings, evalOptions);
  if (!result) return reportError(result.error());
  if (options.json) return writeOutput(options.output, result->toJson().dump(2) + "\n");
  return writeOutput(options.output, evalTable(*result, evalOptions.topK));
}

void addMeasureOptions(CLI::App* command, MeasureOptions& options) {
  command->add_option("--space", options.space, "Configuration space: full or small")->capture_default_str();
  command->add_option("--compiler", options.compiler, "clang (clang-14) or gcc")->capture_default_str();
  command->add_option("--flag", options.flags, "Extra compiler flag, repeatable (-I..., -D...)");
  command->add_option("--build-timeout", options.buildTimeout, "Seconds per build")->capture_default_str();
  command
      ->add_option(
          "--timeout", options.runTimeout,
          fmt::format("Seconds per run of the app (configurations {:.0f}x slower than the default stop "
                      "after at least 5 s)",
                      kRelativeTimeout))
      ->capture_default_str();
  command
      ->add_option("--min-time", options.minTime,
                   "Repeat each configuration until its runs add up to this many seconds")
      ->capture_default_str();
  command->add_option("--min-repetitions", options.minRepetitions, "...and at least this many runs")
      ->capture_default_str();
  command->add_option("--max-repetitions", options.maxRepetitions, "...but at most this many")
      ->capture_default_str();
  command->add_flag("--resume", options.resume, "Continue the interrupted session of the same options");
  command->add_flag("--force", options.force, "Resume even on a machine with another platform fingerprint");
}

void addLearnOptions(CLI::App* command, OmpLearnOptions& options) {
  command->add_option("--data", options.data,
                      "Data CSV written by `omp collect` (repeatable; default: tasks/omp/data/*.csv)");
  command->add_option("--apps", options.apps, "Folder of app manifests (default: kernels/openmp)");
  command->add_option("--encoder", options.encoder, "Encoder model folder (default: the shipped one)");
  command->add_flag("--no-cache", options.noCache, "Do not use the embedding cache");
  command
      ->add_option("--form", options.form,
                   "Head: near-best (classifier: within 5% of the best?) or regression (log2 of the slowdown "
                   "to the best)")
      ->capture_default_str();
}

}  // namespace

void addOmpCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv) {
  CLI::App* omp = app.add_subcommand(
      "omp", "OpenMP threads, schedule and chunk: tune an app (--app), collect, train, eval");
  omp->require_subcommand(0, 1);
  auto tune = std::make_shared<OmpTuneOptions>();
  omp->add_option("--app", tune->app, "C/C++ OpenMP source to tune");
  omp->add_option("--args", tune->args, "Arguments of the app, as one string");
  omp->add_option("--strategy", tune->strategy, "predict, topk, exhaustive or random")->capture_default_str();
  omp->add_option("--budget", tune->budget, "Configurations measured besides the default (topk, random)")
      ->capture_default_str();
  omp->add_option("--seed", tune->seed, "Seed of the random strategy")->capture_default_str();
  omp->add_option("--model", tune->model, "OpenMP head folder (default: tasks/omp/models/omp-1.0)");
  omp->add_option("--encoder", tune->encoder, "Encoder model folder (default: the shipped one)");
  omp->add_option("--check", tune->check,
                  "Output check: auto (the app's `mirtune-check:` line, else equal output), digest or none")
      ->capture_default_str();
  omp->add_option("--work-dir", tune->workDirectory,
                  "Folder for plans, results and binaries (default: next to the database): a new or empty folder, "
                  "or one mirtune made; a folder holding other files is refused, never cleaned");
  omp->add_flag("--json", tune->json, "Print JSON");
  addMeasureOptions(omp, tune->measure);

  auto collect = std::make_shared<OmpCollectOptions>();
  CLI::App* collectCommand =
      omp->add_subcommand("collect", "Measure every configuration of the suite's apps on this machine");
  collectCommand->add_option("--apps", collect->apps, "Folder of app manifests (default: kernels/openmp)");
  collectCommand->add_option("--sizes", collect->sizes, "Manifest sizes to measure")
      ->delimiter(',')
      ->capture_default_str();
  collectCommand->add_option("--only", collect->only, "Only these apps")->delimiter(',');
  collectCommand->add_option("-o,--output", collect->output, "Data CSV (default: omp-<platform>.csv)");
  collectCommand->add_option(
      "--export", collect->exportFolder,
      "Write self-contained plans (and run-all.sh) for mirtune-run on another machine instead");
  collectCommand->add_option("--cores", collect->cores, "With --export: the other machine's logical cores");
  collectCommand->add_option("--ingest", collect->ingestFolder,
                             "Store the results of an exported folder (its platform.json "
                             "names the machine)");
  addMeasureOptions(collectCommand, collect->measure);
  collect->measure.minTime = 0.3;

  auto train = std::make_shared<OmpLearnOptions>();
  CLI::App* trainCommand = omp->add_subcommand("train", "Train the OpenMP head on collected data");
  addLearnOptions(trainCommand, *train);
  trainCommand->add_option("--out", train->out, "Model folder (default: tasks/omp/models/omp-1.0)");
  train->command = "mirtune";
  for (int i = 1; i < argc; ++i) train->command += std::string(" ") + argv[i];

  auto eval = std::make_shared<OmpLearnOptions>();
  CLI::App* evalCommand =
      omp->add_subcommand("eval", "Leave-one-app-out evaluation: predict, top-k, random, oracle");
  addLearnOptions(evalCommand, *eval);
  evalCommand->add_option("--topk", eval->topK, "k of the top-k strategy (and the random budget)")
      ->capture_default_str();
  evalCommand->add_flag(
      "--plain-topk", eval->plainTopK,
      "Top-k takes the k best-scored configurations as they come, not one per thread count and schedule");
  evalCommand->add_option("-o,--output", eval->output, "Write the table (or JSON) here");
  evalCommand->add_flag("--json", eval->json, "Print JSON");

  omp->callback(
      [omp, collectCommand, trainCommand, evalCommand, tune, collect, train, eval, &global, &action]() {
        if (collectCommand->parsed()) {
          action = [collect, &global]() { return runOmpCollect(*collect, global); };
        } else if (trainCommand->parsed()) {
          action = [train, &global]() { return runOmpTrain(*train, global); };
        } else if (evalCommand->parsed()) {
          action = [eval, &global]() { return runOmpEval(*eval, global); };
        } else if (!tune->app.empty()) {
          action = [tune, &global]() { return runOmpTune(*tune, global); };
        } else {
          action = [] {
            return reportError(
                Error(ErrorCode::kUsage,
                      "omp needs --app FILE or one of: collect, train, eval (see mirtune omp --help)"));
          };
        }
        (void)omp;
      });
}

}  // namespace mirtune::cli
