// Unroll workflows: a file's loops (predict, apply, measure), the collection of the corpus's and the suite's
// loops, a knob's head and its grouped cross-validation.
#include "tasks/unroll/UnrollWorkflow.h"

#include "database/Database.h"
#include "embeddings/Encoder.h"
#include "frontend/LoopSlice.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/OpenMpSuite.h"
#include "tasks/common/TaskModel.h"
#include "tasks/common/XgbClassifier.h"
#include "tasks/unroll/UnrollData.h"
#include "tasks/unroll/UnrollEmbed.h"
#include "tasks/unroll/UnrollProgram.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"
#include "tuner/ProcessMeasurer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace mirtune::unroll {
namespace fs = std::filesystem;

namespace {

const heads::TaskModelKind kUnrollModelKind{"unroll", "loop unroll", 1, "mirtune unroll train"};
constexpr const char* kModelName = "unroll-1.0";

// Unpacked corpora live beside the database, never in the source tree.
fs::path cacheFolder(const fs::path& option, const fs::path& databasePath) {
  if (!option.empty()) return option;
  return fs::absolute(databasePath).parent_path() / "unroll-cache";
}

// The session of one loop of one program: every configuration's source in the work folder, one build each.
Expected<TuningRequest> loopRequest(const UnrollProgram& program, Knob knob, int line,
                                    const SearchSpace& space, const UnrollMeasureOptions& measure,
                                    nlohmann::json options) {
  auto settings = mirtune::measurementSettings(measure.buildTimeout, measure.runTimeout, measure.minTime,
                                               measure.minRepetitions, measure.maxRepetitions);
  if (!settings) return settings.error();
  auto variants = loopVariants(program, knob, line);
  if (!variants) return variants.error();
  auto workload = sourceWorkload(program.source);
  if (!workload) return workload.error();
  TuningRequest request;
  request.task = "unroll";
  request.space = &space;
  request.files = std::move(variants->files);
  request.commands = std::move(variants->commands);
  request.settings = *settings;
  request.workload = std::move(*workload);
  options["knob"] = knobName(knob);
  options["line"] = line;
  options["arguments"] = program.arguments;
  options["flags"] = program.flags;
  options["iteration_scale"] = program.iterationScale;
  options["settings"] = settingsJson(*settings);
  request.options = std::move(options);
  request.resume = measure.resume;
  request.force = measure.force;
  return request;
}

// The session of one loop as `unroll collect` measures it (every configuration), here or exported.
Expected<TuningRequest> collectRequest(const UnrollProgram& program, Knob knob, int line, const SearchSpace& space,
                                       const UnrollMeasureOptions& measure) {
  auto request = loopRequest(
      program, knob, line, space, measure,
      {{"suite", suiteName(program.suite)}, {"program", program.name}, {"strategy", "exhaustive"}});
  if (!request) return request.error();
  request->command = "unroll collect";
  request->showProgress = false;
  return request;
}

// Calibrated repetition scales of corpus programs, kept per machine (a JSON object file), so a resumed or
// exported collection builds the same sessions.
class CalibrationCache {
 public:
  CalibrationCache(const fs::path& cache, const std::string& fingerprint)
      : file_(cache / "neurovectorizer" / fmt::format("calibration-{}.json", fingerprint.substr(0, 12))) {
    if (auto text = readFile(file_); text) {
      scales_ = nlohmann::json::parse(*text, nullptr, false);
      if (!scales_.is_object()) scales_ = nlohmann::json::object();
    }
  }

  /// Sets a corpus program's scale (measured once per machine); kNotFound-like errors say why it cannot run.
  Status apply(UnrollProgram& program) {
    if (program.suite != Suite::kNeuroVectorizer) return Status();
    if (scales_.contains(program.name) && scales_[program.name].is_number()) {
      program.iterationScale = scales_[program.name].get<double>();
      return Status();
    }
    auto scale = calibrateIterationScale(program, file_.parent_path() / "calibrate");
    if (!scale) return scale.error();
    program.iterationScale = *scale;
    scales_[program.name] = *scale;
    return writeFileAtomically(file_, scales_.dump(1) + "\n");
  }

 private:
  fs::path file_;
  nlohmann::json scales_ = nlohmann::json::object();
};

// The loops of a program a session can tune: innermost, in the program's own file, able to take a pragma. An
// OpenMP suite app times its parallel regions only, so there a loop must also lie in one: its slice is in an
// outlined `.omp_outlined.` function (set-up and checking loops in main would measure noise).
Expected<std::vector<LoopSite>> tunableLoops(const UnrollProgram& program) {
  auto sites = findInnermostLoops(program.source, program.flags);
  if (!sites) return sites.error();
  std::optional<IrModule> module;
  if (program.suite == Suite::kOpenMp) {
    CompileOptions compile;
    compile.extraArguments = program.flags;
    auto compiled = compileForLoopSlices(program.source, compile);
    if (!compiled) return compiled.error();
    module.emplace(std::move(*compiled));
  }
  std::vector<LoopSite> loops;
  for (auto& site : *sites) {
    if (!site.insertable || site.inHeader) {
      logInfo("{}:{}: {} loop skipped: {}", site.file, site.line, loopKindName(site.kind),
              site.note.empty() ? "cannot take a pragma" : site.note);
      continue;
    }
    if (module) {
      auto slice = sliceLoop(*module, site.function, site.line);
      if (!slice || !slice->matched || slice->irFunction.find("omp_outlined") == std::string::npos) {
        logInfo("{}:{}: loop skipped: outside the timed parallel regions", site.file, site.line);
        continue;
      }
    }
    loops.push_back(std::move(site));
  }
  return loops;
}

// The loops of a program `unroll collect` measures (its first maxLoops tunable ones), after the program's
// repetition scale is calibrated (with a cache); empty, with a warning, when the program is skipped.
std::optional<std::vector<LoopSite>> loopsToMeasure(UnrollProgram& program, const UnrollCollectOptions& options,
                                                    CalibrationCache* calibration) {
  if (calibration != nullptr) {
    if (Status calibrated = calibration->apply(program); !calibrated) {
      logWarn("{}: skipped: {}", program.source.string(), calibrated.error().message());
      return std::nullopt;
    }
  }
  auto loops = tunableLoops(program);
  if (!loops) {
    logWarn("{}: skipped: {}", program.source.string(), loops.error().message());
    return std::nullopt;
  }
  if (loops->size() > options.maxLoops) loops->resize(options.maxLoops);
  return std::move(*loops);
}

struct LoadedModel {
  Encoder encoder;
  std::unique_ptr<heads::Classifier> head;
  std::string modelId;
};

Expected<LoadedModel> loadUnrollModel(const fs::path& modelDirectory, Encoder encoder, Knob knob) {
  const fs::path directory = modelDirectory.empty() ? shippedUnrollHeads() : modelDirectory;
  const std::string knobText(knobName(knob));
  if (!fs::exists(directory / "manifest.json")) {
    return Error(
        ErrorCode::kNotFound,
        fmt::format(
            "no unroll head in {}: train one with `mirtune unroll collect --knob {}` then `mirtune unroll "
            "train --knob {}` (or measure without one: --run --strategy random|exhaustive)",
            directory.string(), knobText, knobText));
  }
  auto manifest = heads::readTaskManifest(directory, kUnrollModelKind, encoder.id());
  if (!manifest) return manifest.error();
  const std::string key = "heads_" + knobText;
  if (!manifest->contains(key)) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: no head for the {} knob: train one with `mirtune unroll train "
                             "--knob {}`",
                             (directory / "manifest.json").string(), knobText, knobText));
  }
  auto heads = heads::loadNamedHeads(directory, *manifest, key,
                                     manifest->value("features_" + knobText, std::size_t{0}), 2);
  if (!heads) return heads.error();
  auto found = heads->find(knobText);
  if (found == heads->end()) {
    return Error(ErrorCode::kVersion,
                 fmt::format("{}: no '{}' head", (directory / "manifest.json").string(), knobText));
  }
  return LoadedModel{std::move(encoder), std::move(found->second),
                     manifest->value("model_id", directory.filename().string())};
}

LoopSample sampleOf(const std::string& fingerprint, const std::string& cpuModel, Knob knob,
                    const UnrollProgram& program, const std::string& function, int line,
                    const std::vector<MeasurementRecord>& stored) {
  LoopSample sample;
  sample.platform = fingerprint.substr(0, 12);
  sample.cpuModel = cpuModel;
  sample.knob = knob;
  sample.suite = std::string(suiteName(program.suite));
  sample.program = program.name;
  sample.family = program.family;
  sample.function = function;
  sample.line = line;
  for (const auto& record : stored) {
    sample.measurements.push_back(
        {record.configuration, record.status, record.medianSeconds, record.spreadSeconds});
  }
  return sample;
}

// Every program of a suite: the corpus's (unpacked into the cache folder once) or the OpenMP suite's apps.
Expected<std::vector<UnrollProgram>> suitePrograms(Suite suite, const fs::path& cache, const fs::path& databasePath) {
  if (suite == Suite::kNeuroVectorizer) {
    auto folder = unpackNeuroVectorizer(dataDirectory(), cacheFolder(cache, databasePath));
    if (!folder) return folder.error();
    return neuroVectorizerPrograms(*folder, dataDirectory() / "neurovectorizer" / "O3_runtimes.csv");
  }
  return openMpPrograms(ompSuiteDirectory());
}

Expected<std::vector<UnrollProgram>> collectPrograms(const UnrollCollectOptions& options,
                                                     const fs::path& databasePath) {
  std::vector<UnrollProgram> programs;
  for (const std::string& name : options.suites) {
    auto suite = parseSuite(name);
    if (!suite || *suite == Suite::kFile) {
      return Error(ErrorCode::kUsage, fmt::format("--suites: '{}' is not neurovectorizer or openmp", name));
    }
    auto all = suitePrograms(*suite, options.cache, databasePath);
    if (!all) return all.error();
    // Corpus programs are sampled; the OpenMP suite is taken whole.
    if (*suite == Suite::kNeuroVectorizer) *all = samplePrograms(*all, options.programs, options.seed);
    for (auto& p : *all) programs.push_back(std::move(p));
  }
  return programs;
}

struct LearningData {
  std::vector<LoopSample> samples;
  std::map<std::string, LoopEmbedding> embeddings;
  std::vector<fs::path> files;
};

std::vector<fs::path> defaultDataFiles(Knob knob) {
  std::vector<fs::path> files;
  const fs::path folder = shareDirectory() / "tasks" / "unroll" / "data";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".csv" && name.rfind(fmt::format("unroll-{}-", knobName(knob)), 0) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Expected<LearningData> loadLearningData(const UnrollLearnOptions& options, Knob knob, const Encoder& encoder,
                                        const fs::path& databasePath) {
  LearningData data;
  data.files = options.data;
  if (data.files.empty()) data.files = defaultDataFiles(knob);
  if (data.files.empty()) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("no unroll data for the {} knob: pass --data FILE.csv (written by "
                             "`mirtune unroll collect --knob {}`)",
                             knobName(knob), knobName(knob)));
  }
  auto samples = readUnrollData(data.files);
  if (!samples) return samples.error();
  for (auto& sample : *samples) {
    if (sample.knob == knob) data.samples.push_back(std::move(sample));
  }
  if (data.samples.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: no rows for the {} knob", data.files.front().string(), knobName(knob)));
  }
  // Sources: the corpus unpacked into the cache, the suite in the source tree, or a file as named.
  std::optional<fs::path> corpus;
  std::map<std::string, OmpApp> apps;
  std::vector<LoopToEmbed> loops;
  std::set<std::string> seen;
  for (const auto& sample : data.samples) {
    const std::string key = loopKey(sample.suite, sample.program, sample.line);
    if (!seen.insert(key).second) continue;
    auto suite = parseSuite(sample.suite);
    if (!suite) return suite.error();
    LoopToEmbed loop{key, sample.program, sample.function, sample.line, {}};
    if (*suite == Suite::kNeuroVectorizer) {
      if (!corpus) {
        auto folder = unpackNeuroVectorizer(dataDirectory(), cacheFolder(options.cache, databasePath));
        if (!folder) return folder.error();
        corpus = *folder;
      }
      loop.source = *corpus / sample.program;
    } else if (*suite == Suite::kOpenMp) {
      if (apps.empty()) {
        auto suiteApps = loadOmpSuite(ompSuiteDirectory());
        if (!suiteApps) return suiteApps.error();
        for (auto& app : *suiteApps) apps.emplace(app.name, app);
      }
      auto app = apps.find(sample.program);
      if (app == apps.end())
        return Error(ErrorCode::kNotFound,
                     fmt::format("the data names app '{}', which is not in kernels/openmp", sample.program));
      loop.source = app->second.source;
      loop.flags = {"-fopenmp"};
    }
    loops.push_back(std::move(loop));
  }
  CacheHandle cache;
  if (auto opened = openCache(cache, options.noCache, databasePath.string()); !opened) return opened.error();
  auto embedded = embedLoops(encoder, loops, cache.get());
  if (!embedded) return embedded.error();
  for (const auto& failure : embedded->failed) logWarn("left out: {}", failure);
  data.embeddings = std::move(embedded->embeddings);
  data.samples.erase(std::remove_if(data.samples.begin(), data.samples.end(),
                                    [&](const LoopSample& s) {
                                      return !data.embeddings.count(loopKey(s.suite, s.program, s.line));
                                    }),
                     data.samples.end());
  return data;
}

}  // namespace

Expected<fs::path> trainUnrollHead(const UnrollLearnOptions& options, const fs::path& databasePath) {
  auto knob = parseKnob(options.knob);
  if (!knob) return knob.error();
  auto encoder = Encoder::loadOrDefault(options.encoder.string());
  if (!encoder) return encoder.error();
  auto data = loadLearningData(options, *knob, *encoder, databasePath);
  if (!data) return data.error();
  auto rows = unrollTrainingRows(data->samples, data->embeddings, options.tolerance);
  if (!rows) return rows.error();
  heads::XgbClassifier head(defaultUnrollHeadParams());
  if (auto fitted = head.fit(*rows); !fitted) return fitted.error();
  // Trained heads go to the user's data folder unless asked otherwise: the shipped ones are never overwritten.
  const fs::path out = options.out.empty() ? userModelDirectory("unroll", kModelName) : options.out;
  const std::string knobText(knobName(*knob));
  if (auto saved = head.save(out / knobText); !saved) return saved.error();
  // A folder holds one head per knob: the other knob's entry survives retraining this one.
  nlohmann::json manifest = nlohmann::json::object();
  if (auto existing = heads::readTaskManifest(out, kUnrollModelKind, encoder->id()); existing) {
    for (const auto& [key, value] : existing->items()) {
      if (key.find(std::string(kKnobNames[0])) != std::string::npos ||
          key.find(std::string(kKnobNames[1])) != std::string::npos) {
        manifest[key] = value;
      }
    }
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : data->files) {
    auto digest = sha256File(file);
    files.push_back({{"file", file.filename().string()}, {"sha256", digest ? *digest : ""}});
  }
  std::size_t positives = std::count(rows->labels.begin(), rows->labels.end(), 1);
  manifest["model_id"] = out.filename().string();
  manifest["heads_" + knobText] = {
      {knobText,
       {{"label", fmt::format("median within {:g}% of the loop's best", 100 * options.tolerance)}}}};
  manifest["features_" + knobText] = rows->features.cols;
  manifest["training_" + knobText] = {{"rows", rows->size()},
                                      {"near_best_rows", positives},
                                      {"loops", data->samples.size()},
                                      {"data", files}};
  if (auto written =
          heads::writeTaskManifest(out, kUnrollModelKind, encoder->id(), manifest, options.command);
      !written) {
    return written.error();
  }
  return out;
}

Expected<UnrollEvalResult> evaluateUnroll(const UnrollLearnOptions& options, const fs::path& databasePath) {
  auto knob = parseKnob(options.knob);
  if (!knob) return knob.error();
  auto encoder = Encoder::loadOrDefault(options.encoder.string());
  if (!encoder) return encoder.error();
  auto data = loadLearningData(options, *knob, *encoder, databasePath);
  if (!data) return data.error();
  UnrollEvalOptions evalOptions;
  evalOptions.folds = static_cast<std::size_t>(std::max(2, options.folds));
  evalOptions.topK = static_cast<std::size_t>(std::max(1, options.topK));
  evalOptions.seed = options.seed;
  evalOptions.tolerance = options.tolerance;
  if (options.group != "family" && options.group != "program") {
    return Error(ErrorCode::kUsage, "--group must be family or program");
  }
  evalOptions.groupByFamily = options.group == "family";
  return evaluateGroupedFolds(data->samples, data->embeddings, evalOptions);
}


fs::path shippedUnrollHeads() { return heads::taskModelDirectory("unroll", kModelName); }

Expected<UnrollFileReport> tuneUnrollFile(const UnrollFileOptions& options, const fs::path& databasePath) {
  auto knob = parseKnob(options.knob);
  if (!knob) return knob.error();
  auto strategy = parseStrategy(options.strategy);
  if (!strategy) return strategy.error();
  if (options.budget < 1) return Error(ErrorCode::kUsage, "--budget must be at least 1");
  if (options.apply && options.output.empty()) {
    return Error(ErrorCode::kUsage, "--apply needs -o OUT.c (the source with the predicted pragmas)");
  }
  const fs::path& source = options.file;
  if (!fs::exists(source)) return Error(ErrorCode::kNotFound, fmt::format("{}: no such file", source.string()));
  UnrollProgram program;
  program.suite = Suite::kFile;
  program.name = source.string();
  program.family = programFamily(Suite::kFile, program.name);
  program.source = source;
  program.arguments = splitArguments(options.args);
  program.flags = options.flags;
  auto loops = tunableLoops(program);
  if (!loops) return loops.error();
  if (options.loop > 0) {
    loops->erase(std::remove_if(loops->begin(), loops->end(),
                                [&](const LoopSite& s) { return s.line != options.loop; }),
                 loops->end());
    if (loops->empty()) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}:{}: no innermost loop that can take a pragma starts on this line "
                               "(see `mirtune rewrite loops {}`)",
                               source.string(), options.loop, source.string()));
    }
  }
  if (loops->empty()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: no innermost loop that can take a pragma", source.string()));
  }
  const SearchSpace space = makeUnrollSpace(*knob);
  const bool ranked = !options.run || options.apply || *strategy == StrategyKind::kPredict ||
                      *strategy == StrategyKind::kTopK;

  UnrollFileReport report;
  report.knob = *knob;
  std::vector<UnrollLoopReport>& plans = report.loops;
  for (const auto& site : *loops) plans.push_back({site, {}, std::nullopt});
  std::optional<LoadedModel> model;
  if (ranked) {
    auto encoder = Encoder::loadOrDefault(options.encoder.string());
    if (!encoder) return encoder.error();
    auto loaded = loadUnrollModel(options.heads, std::move(*encoder), *knob);
    if (!loaded) return loaded.error();
    model.emplace(std::move(*loaded));
    std::vector<LoopToEmbed> toEmbed;
    for (const auto& plan : plans) {
      toEmbed.push_back({loopKey("file", source.string(), plan.site.line), source, plan.site.function,
                         plan.site.line, options.flags});
    }
    CacheHandle cache;
    if (auto opened = openCache(cache, options.noCache, databasePath.string()); !opened) return opened.error();
    auto embedded = embedLoops(model->encoder, toEmbed, cache.get());
    if (!embedded) return embedded.error();
    if (!embedded->failed.empty()) return Error(ErrorCode::kCompileError, embedded->failed.front());
    for (std::size_t i = 0; i < plans.size(); ++i) {
      auto order = rankConfigurations(
          *model->head, *knob, loopFeatures(embedded->embeddings.at(toEmbed[i].key)), space.enumerate());
      if (!order) return order.error();
      plans[i].ranking = std::move(*order);
    }
  }

  if (options.apply) {
    std::vector<LoopPragma> pragmas;
    for (const auto& plan : plans)
      pragmas.push_back(pragmaFor(*knob, plan.ranking.front().configuration, plan.site.line));
    auto rewritten = insertLoopPragmas(source, pragmas, options.flags);
    if (!rewritten) return rewritten.error();
    if (auto written = writeFileAtomically(options.output, *rewritten); !written) return written.error();
    logInfo("wrote {} with {} loop pragmas", options.output.string(), pragmas.size());
  }

  if (!options.run) return report;
  auto database = Database::open(databasePath.string());
  if (!database) return database.error();
  auto machine = probeMachine(*database);
  if (!machine) return machine.error();
  for (auto& plan : plans) {
    nlohmann::json sessionOptions = {{"file", source.string()},
                                     {"strategy", options.strategy},
                                     {"budget", options.budget},
                                     {"seed", options.seed}};
    auto request = loopRequest(program, *knob, plan.site.line, space, options.measure, sessionOptions);
    if (!request) return request.error();
    request->command = "unroll --run";
    request->seed = static_cast<std::int64_t>(options.seed);
    if (!options.workDirectory.empty())
      request->workDirectory = options.workDirectory / fmt::format("line-{}", plan.site.line);
    if (model) request->modelIds = {model->modelId, model->encoder.id()};
    int rounds = 0;
    request->planner = [&](const std::vector<TunedConfiguration>&) -> Expected<std::vector<Configuration>> {
      if (rounds++ > 0) return std::vector<Configuration>{};
      CandidateRequest candidates;
      candidates.kind = *strategy;
      candidates.budget = static_cast<std::size_t>(options.budget);
      candidates.seed = options.seed;
      for (const auto& r : plan.ranking) candidates.ranking.push_back(r.configuration);
      auto selected = selectCandidates(space, candidates);
      if (!selected) return selected.error();
      selected->erase(selected->begin());  // the default was measured in round 1
      return *selected;
    };
    auto result = runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request,
                                   runnerExecutablePath());
    if (!result) return result.error();
    if (model && !plan.ranking.empty()) {
      if (auto workloadId = database->upsertWorkload(request->workload); workloadId) {
        PredictionRecord record;
        record.sessionId = result->sessionId;
        record.workloadId = *workloadId;
        record.task = "unroll";
        record.modelId = model->modelId;
        record.configuration = plan.ranking.front().configuration;
        record.score = plan.ranking.front().score;
        if (auto stored = database->insertPrediction(record); !stored)
          logWarn("database: {}", stored.error().message());
      }
    }
    plan.session = std::move(*result);
  }
  return report;
}

Expected<UnrollCollectReport> collectUnroll(const UnrollCollectOptions& options, const fs::path& databasePath) {
  auto knob = parseKnob(options.knob);
  if (!knob) return knob.error();
  auto programs = collectPrograms(options, databasePath);
  if (!programs) return programs.error();
  auto database = Database::open(databasePath.string());
  if (!database) return database.error();
  auto machine = probeMachine(*database);
  if (!machine) return machine.error();
  const SearchSpace space = makeUnrollSpace(*knob);
  UnrollCollectReport report;
  report.output = options.output.empty()
                              ? fs::path(fmt::format("unroll-{}-{}.csv", knobName(*knob),
                                                     machine->info.fingerprint.substr(0, 12)))
                              : options.output;
  const fs::path& output = report.output;
  std::vector<LoopSample> samples;
  std::size_t index = 0;
  CalibrationCache calibration(cacheFolder(options.cache, databasePath), machine->info.fingerprint);
  for (UnrollProgram program : *programs) {
    ++index;
    auto loops = loopsToMeasure(program, options, options.calibrate ? &calibration : nullptr);
    if (!loops) {
      ++report.skippedPrograms;
      continue;
    }
    for (const LoopSite& site : *loops) {
      auto request = collectRequest(program, *knob, site.line, space, options.measure);
      if (!request) {
        logWarn("{}:{}: skipped: {}", program.source.string(), site.line, request.error().message());
        continue;
      }
      request->planner =
          [&space](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
        if (done.size() > 1) return std::vector<Configuration>{};
        return space.enumerate();
      };
      const TuningSessionState state = findTuningSession(*database, *request);
      std::int64_t sessionId = state.sessionId;
      if (state.kind == TuningSessionState::Kind::kFinished && options.measure.resume) {
        logInfo("[{}/{}] {}:{}: already measured (session {})", index, programs->size(), program.name,
                site.line, sessionId);
      } else {
        request->resume = options.measure.resume && state.kind == TuningSessionState::Kind::kInterrupted;
        logInfo("[{}/{}] {}:{}: measuring {} configurations", index, programs->size(), program.name,
                site.line, space.size());
        auto result = runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request,
                                       runnerExecutablePath());
        if (!result) {
          logError("{}:{}: {}", program.name, site.line, result.error().message());
          ++report.failed;
          continue;
        }
        sessionId = result->sessionId;
      }
      auto stored = database->listMeasurements(sessionId);
      if (!stored) return stored.error();
      samples.push_back(sampleOf(machine->info.fingerprint, machine->info.cpuModel, *knob, program, site.function,
                                 site.line, *stored));
      // Written after every loop, so an interruption keeps the file current.
      if (auto written = writeFileAtomically(output, unrollDataToCsv(samples)); !written)
        return written.error();
    }
  }
  report.loops = samples.size();
  report.programs = programs->size();
  return report;
}

namespace {

constexpr const char* kCollectionIndex = "collection.json";

// "<suite>-<program without .c>-L<line>": a plan folder's name, unique per loop.
std::string planFolderName(const UnrollProgram& program, int line) {
  std::string name = program.name;
  if (auto dot = name.rfind('.'); dot != std::string::npos) name.resize(dot);
  return fmt::format("{}-{}-L{}", suiteName(program.suite), name, line);
}

// Every program of the named suites, by name: an ingest finds an exported item's program again.
Expected<std::map<std::string, UnrollProgram>> programsByName(const std::vector<std::string>& suites,
                                                              const fs::path& cache, const fs::path& databasePath) {
  std::map<std::string, UnrollProgram> byName;
  for (const std::string& name : suites) {
    auto suite = parseSuite(name);
    if (!suite || *suite == Suite::kFile) {
      return Error(ErrorCode::kInvalidInput, fmt::format("suite '{}' is not neurovectorizer or openmp", name));
    }
    auto programs = suitePrograms(*suite, cache, databasePath);
    if (!programs) return programs.error();
    for (auto& program : *programs) {
      const std::string key = std::string(suiteName(program.suite)) + "/" + program.name;
      byName.emplace(key, std::move(program));
    }
  }
  return byName;
}

// The measurement options an export recorded ("measure" of its index).
Expected<UnrollMeasureOptions> exportedMeasureOptions(const nlohmann::json& index, const fs::path& indexFile) {
  const nlohmann::json* measure = index.contains("measure") ? &index["measure"] : nullptr;
  auto number = [&](const char* key) -> Expected<double> {
    if (measure == nullptr || !measure->is_object() || !measure->contains(key) || !(*measure)[key].is_number()) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: measure.{} must be a number", indexFile.string(), key));
    }
    return (*measure)[key].get<double>();
  };
  UnrollMeasureOptions options;
  auto build = number("build_timeout");
  if (!build) return build.error();
  auto run = number("run_timeout");
  if (!run) return run.error();
  auto minTime = number("min_time");
  if (!minTime) return minTime.error();
  auto minRepetitions = number("min_repetitions");
  if (!minRepetitions) return minRepetitions.error();
  auto maxRepetitions = number("max_repetitions");
  if (!maxRepetitions) return maxRepetitions.error();
  options.buildTimeout = *build;
  options.runTimeout = *run;
  options.minTime = *minTime;
  options.minRepetitions = static_cast<int>(*minRepetitions);
  options.maxRepetitions = static_cast<int>(*maxRepetitions);
  if (auto checked = mirtune::measurementSettings(options.buildTimeout, options.runTimeout, options.minTime,
                                                  options.minRepetitions, options.maxRepetitions);
      !checked) {
    return checked.error().withContext(indexFile.string());
  }
  return options;
}

}  // namespace

Expected<UnrollExportReport> exportUnrollCollection(const UnrollCollectOptions& options, const fs::path& folder,
                                                    const fs::path& databasePath) {
  auto knob = parseKnob(options.knob);
  if (!knob) return knob.error();
  auto programs = collectPrograms(options, databasePath);
  if (!programs) return programs.error();
  const SearchSpace space = makeUnrollSpace(*knob);
  std::vector<Configuration> candidates = {space.defaultConfiguration()};
  for (const auto& c : space.enumerate()) {
    if (configurationHash(c) != configurationHash(candidates.front())) candidates.push_back(c);
  }
  // Corpus programs' repetition scales are calibrated here (this machine's, cached as for collect): a node
  // of another speed runs each program proportionally longer or shorter, which changes no comparison.
  std::optional<CalibrationCache> calibration;
  if (options.calibrate) {
    auto database = Database::open(databasePath.string());
    if (!database) return database.error();
    auto machine = probeMachine(*database);
    if (!machine) return machine.error();
    calibration.emplace(cacheFolder(options.cache, databasePath), machine->info.fingerprint);
  }
  std::set<std::string> suites;
  nlohmann::json items = nlohmann::json::array();
  UnrollExportReport report;
  report.configurations = candidates.size();
  for (UnrollProgram program : *programs) {
    auto loops = loopsToMeasure(program, options, calibration ? &*calibration : nullptr);
    if (!loops) {
      ++report.skippedPrograms;
      continue;
    }
    for (const LoopSite& site : *loops) {
      auto request = collectRequest(program, *knob, site.line, space, options.measure);
      if (!request) {
        logWarn("{}:{}: skipped: {}", program.source.string(), site.line, request.error().message());
        continue;
      }
      const std::string name = planFolderName(program, site.line);
      if (Status written = exportTuningPlan(*request, candidates, folder / name); !written) return written.error();
      suites.insert(std::string(suiteName(program.suite)));
      items.push_back({{"folder", name},
                       {"suite", suiteName(program.suite)},
                       {"program", program.name},
                       {"function", site.function},
                       {"line", site.line},
                       {"iteration_scale", program.iterationScale}});
      ++report.plans;
    }
  }
  if (items.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: no loop to export (every program was skipped, see above)", folder.string()));
  }
  const nlohmann::json index = {{"task", "unroll"},
                                {"knob", knobName(*knob)},
                                {"suites", std::vector<std::string>(suites.begin(), suites.end())},
                                {"measure",
                                 {{"build_timeout", options.measure.buildTimeout},
                                  {"run_timeout", options.measure.runTimeout},
                                  {"min_time", options.measure.minTime},
                                  {"min_repetitions", options.measure.minRepetitions},
                                  {"max_repetitions", options.measure.maxRepetitions}}},
                                {"items", items}};
  // Its identity keys what is ingested from it, so that ingesting it again stores nothing twice.
  if (auto identity = writeExportId(folder); !identity) return identity.error();
  if (auto written = writeFileAtomically(folder / kCollectionIndex, index.dump(2) + "\n"); !written) {
    return written.error();
  }
  if (auto written =
          writeFileAtomically(folder / "run-all.sh", exportRunAllScript("mirtune unroll collect --ingest", false));
      !written)
    return written.error();
  return report;
}

Expected<UnrollCollectReport> ingestUnrollCollection(const UnrollCollectOptions& options, const fs::path& folder,
                                                     const fs::path& databasePath) {
  const fs::path indexFile = folder / kCollectionIndex;
  auto index = readExportIndex(indexFile);
  if (!index) return index.error();
  auto task = indexString(*index, "task", indexFile, "task");
  if (!task) return task.error();
  if (*task != "unroll") {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: task is '{}', not unroll (ingest it with `mirtune {} collect --ingest`)",
                             indexFile.string(), *task, *task));
  }
  auto knobText = indexString(*index, "knob", indexFile, "knob");
  if (!knobText) return knobText.error();
  auto knob = parseKnob(*knobText);
  if (!knob) return knob.error().withContext(indexFile.string());
  if (!index->contains("suites") || !(*index)["suites"].is_array()) {
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: suites must be a list of names", indexFile.string()));
  }
  std::vector<std::string> suites;
  for (const auto& suite : (*index)["suites"]) {
    if (!suite.is_string()) {
      return Error(ErrorCode::kInvalidInput, fmt::format("{}: suites must be a list of names", indexFile.string()));
    }
    suites.push_back(suite.get<std::string>());
  }
  // The plans were made with the exporting command's measurement options; the same ones rebuild its requests.
  auto measure = exportedMeasureOptions(*index, indexFile);
  if (!measure) return measure.error();
  const nlohmann::json& list = (*index)["items"];
  ExportedMachines machines(folder);
  const std::vector<fs::path> planFolders = exportedPlanFolders(folder, list);
  if (auto recorded = machines.firstRecorded(planFolders); !recorded) return recorded.error();
  auto campaign = exportId(folder, indexFile);
  if (!campaign) return campaign.error();
  auto programs = programsByName(suites, options.cache, databasePath);
  if (!programs) return programs.error();
  const SearchSpace space = makeUnrollSpace(*knob);

  // Every item is checked before anything is stored: a damaged one leaves nothing of the collection behind.
  struct Item {
    UnrollProgram program;
    std::string function;
    int line = 0;
    TuningRequest request;
    fs::path folder;
    std::string folderName;
    const PlatformRecord* platform = nullptr;
  };
  std::vector<Item> items;
  UnrollCollectReport report;
  report.counts.planFolders = list.size();
  CollectionIngest ingest(report.counts);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("items[{}]", i);
    auto suite = indexString(list[i], "suite", indexFile, where + ".suite");
    if (!suite) return suite.error();
    auto programName = indexString(list[i], "program", indexFile, where + ".program");
    if (!programName) return programName.error();
    auto function = indexString(list[i], "function", indexFile, where + ".function", "");
    if (!function) return function.error();
    auto line = indexInteger(list[i], "line", indexFile, where + ".line", 1, 1 << 30);
    if (!line) return line.error();
    auto folderName = indexString(list[i], "folder", indexFile, where + ".folder");
    if (!folderName) return folderName.error();
    const auto& scale = list[i].contains("iteration_scale") ? list[i]["iteration_scale"] : nlohmann::json();
    if (!scale.is_number() || !(scale.get<double>() > 0)) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: {}.iteration_scale must be a positive number", indexFile.string(), where));
    }
    auto found = programs->find(*suite + "/" + *programName);
    if (found == programs->end()) {
      return Error(ErrorCode::kNotFound, fmt::format("{}: {}: program '{}' of suite '{}' is not here",
                                                     indexFile.string(), where, *programName, *suite));
    }
    UnrollProgram program = found->second;
    program.iterationScale = scale.get<double>();
    auto itemFolder = pathInsideFolder(folder, *folderName, indexFile, where + ".folder");
    if (!itemFolder) {
      ingest.reject(itemFolder.error());
      continue;
    }
    auto request = collectRequest(program, *knob, static_cast<int>(*line), space, *measure);
    if (!request) return request.error().withContext(fmt::format("{}: {}", indexFile.string(), where));
    if (!ingest.check(*request, *itemFolder, fmt::format("{}:{}", *programName, *line))) continue;
    auto platform = machines.platformFor(*itemFolder);
    if (!platform) return platform.error();
    items.push_back({std::move(program), *function, static_cast<int>(*line), std::move(*request), *itemFolder,
                     *folderName, *platform});
  }
  if (Status checked = ingest.refuseIfRejected(folder, list.size()); !checked) return checked.error();

  auto database = Database::open(databasePath.string());
  if (!database) return database.error();
  std::vector<LoopSample> samples;
  for (const Item& item : items) {
    const PlatformRecord& platform = *item.platform;
    auto measured =
        ingest.store(*database, platform, item.request, item.folder, IngestIdentity{*campaign, item.folderName});
    if (!measured) return measured.error().withContext(fmt::format("{}:{}", item.program.name, item.line));
    samples.push_back(
        sampleOf(platform.fingerprint, platform.cpuModel, *knob, item.program, item.function, item.line, *measured));
  }
  report.loops = samples.size();
  report.failed = report.counts.notYet;
  if (options.output.empty()) {
    auto named = items.empty() ? machines.firstRecorded(planFolders)
                               : Expected<const PlatformRecord*>(items.front().platform);
    if (!named) return named.error();
    report.output = fs::path(fmt::format("unroll-{}-{}.csv", knobName(*knob), (*named)->fingerprint.substr(0, 12)));
  } else {
    report.output = options.output;
  }
  if (auto written = writeFileAtomically(report.output, unrollDataToCsv(samples)); !written) return written.error();
  return report;
}

}  // namespace mirtune::unroll
