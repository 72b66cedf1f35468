// `mirtune unroll`: predicted unroll (or vectorize) factors for each innermost loop of a C/C++ file, written
// into the source (--apply) or measured against the compiler default (--run); collection of the
// NeuroVectorizer corpus and the OpenMP suite's loops (collect), the head (train) and its cross-validation
// (eval: folds of programs, or of whole program families).
#include "cli/UnrollCommand.h"

#include "tasks/common/DatabaseCache.h"
#include "tuner/MeasureCommon.h"
#include "database/Database.h"
#include "frontend/LoopPragmas.h"
#include "frontend/LoopSlice.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tasks/common/TaskModel.h"
#include "tasks/omp/OmpApp.h"
#include "tasks/unroll/UnrollData.h"
#include "tasks/unroll/UnrollEmbed.h"
#include "tasks/unroll/UnrollModel.h"
#include "tasks/unroll/UnrollProgram.h"
#include "tasks/unroll/UnrollSpace.h"
#include "tuner/Strategy.h"
#include "tuner/TuningSession.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

namespace mirtune::cli {
namespace fs = std::filesystem;
using namespace mirtune::unroll;

namespace {

const heads::TaskModelKind kUnrollModelKind{"unroll", "loop unroll", 1, "mirtune unroll train"};

struct MeasureOptions {
  double buildTimeout = 120;
  double runTimeout = 30;
  double minTime = 0.3;
  int minRepetitions = 3;
  int maxRepetitions = 20;
  bool resume = false;
  bool force = false;
};

struct UnrollFileOptions {
  std::string file;
  int loop = 0;  ///< 0 = every loop
  std::string knob = "unroll";
  std::vector<std::string> flags;
  std::string model;
  std::string encoder;
  bool json = false;
  bool apply = false;
  std::string output;
  bool run = false;
  std::string args;
  std::string strategy = "predict";
  int budget = 1;
  std::uint64_t seed = 1;
  std::string workDirectory;
  bool noCache = false;
  MeasureOptions measure;
};

struct UnrollCollectOptions {
  std::size_t programs = 40;
  std::uint64_t seed = 1;
  std::string knob = "unroll";
  std::vector<std::string> suites = {"neurovectorizer", "openmp"};
  std::size_t maxLoops = 4;  ///< per program
  bool calibrate = true;     ///< rescale corpus repetition counts to this machine (cached per platform)
  std::string output;
  std::string cache;
  MeasureOptions measure;
};

struct UnrollLearnOptions {
  std::vector<std::string> data;
  std::string knob = "unroll";
  std::string encoder;
  std::string cache;
  std::string out;
  std::string output;
  bool json = false;
  bool noCache = false;
  int folds = 5;
  int topK = 3;
  double tolerance = kNearBestTolerance;
  std::uint64_t seed = 1;
  std::string group = "program";  ///< eval folds: single programs, or whole program families
  std::string command;
};

fs::path defaultModelDirectory() {
  return heads::taskModelDirectory("unroll", "unroll-1.0");
}

// Unpacked corpora live beside the database, never in the source tree.
fs::path cacheFolder(const std::string& option, const GlobalOptions& global) {
  if (!option.empty()) return option;
  return fs::absolute(resolveDatabasePath(global)).parent_path() / "unroll-cache";
}

Expected<MeasurementSettings> measurementSettings(const MeasureOptions& options) {
  auto settings = mirtune::measurementSettings(options.buildTimeout, options.runTimeout, options.minTime,
                                           options.minRepetitions, options.maxRepetitions);
  return settings;
}

// The session of one loop of one program: every configuration's source in the work folder, one build each.
Expected<TuningRequest> loopRequest(const UnrollProgram& program, Knob knob, int line,
                                    const SearchSpace& space, const MeasureOptions& measure,
                                    nlohmann::json options) {
  auto settings = measurementSettings(measure);
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

std::string secondsText(const TunedConfiguration& result) {
  if (!result.median) return std::string(measureStatusName(result.status));
  return fmt::format("{:.5f} s ± {:.5f}", *result.median, result.spread.value_or(0.0));
}

nlohmann::json tunedJson(Knob knob, const TunedConfiguration& r) {
  nlohmann::json json = tunedConfigurationJson(r);
  json["factors"] = configurationToken(knob, r.configuration);
  return json;
}

// --- the head ---

struct LoadedModel {
  Encoder encoder;
  std::unique_ptr<heads::Classifier> head;
  std::string modelId;
};

Expected<LoadedModel> loadUnrollModel(const std::string& modelDirectory, Encoder encoder, Knob knob) {
  const fs::path directory = modelDirectory.empty() ? defaultModelDirectory() : fs::path(modelDirectory);
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

// --- mirtune unroll FILE ---

struct LoopPlan {
  LoopSite site;
  std::vector<RankedConfiguration> ranking;  ///< empty without a model
};

int runUnrollFile(const UnrollFileOptions& options, const GlobalOptions& global) {
  auto knob = parseKnob(options.knob);
  if (!knob) return reportError(knob.error());
  auto strategy = parseStrategy(options.strategy);
  if (!strategy) return reportError(strategy.error());
  if (options.budget < 1) return reportError(Error(ErrorCode::kUsage, "--budget must be at least 1"));
  if (options.apply && options.output.empty()) {
    return reportError(
        Error(ErrorCode::kUsage, "--apply needs -o OUT.c (the source with the predicted pragmas)"));
  }
  const fs::path source = options.file;
  if (!fs::exists(source))
    return reportError(Error(ErrorCode::kNotFound, fmt::format("{}: no such file", source.string())));
  UnrollProgram program;
  program.suite = Suite::kFile;
  program.name = source.string();
  program.family = programFamily(Suite::kFile, program.name);
  program.source = source;
  program.arguments = splitArguments(options.args);
  program.flags = options.flags;
  auto loops = tunableLoops(program);
  if (!loops) return reportError(loops.error());
  if (options.loop > 0) {
    loops->erase(std::remove_if(loops->begin(), loops->end(),
                                [&](const LoopSite& s) { return s.line != options.loop; }),
                 loops->end());
    if (loops->empty()) {
      return reportError(
          Error(ErrorCode::kInvalidInput,
                fmt::format("{}:{}: no innermost loop that can take a pragma starts on this line "
                            "(see `mirtune rewrite loops {}`)",
                            source.string(), options.loop, source.string())));
    }
  }
  if (loops->empty()) {
    return reportError(Error(ErrorCode::kInvalidInput,
                             fmt::format("{}: no innermost loop that can take a pragma", source.string())));
  }
  const SearchSpace space = makeUnrollSpace(*knob);
  const bool ranked = !options.run || options.apply || *strategy == StrategyKind::kPredict ||
                      *strategy == StrategyKind::kTopK;

  std::vector<LoopPlan> plans;
  for (const auto& site : *loops) plans.push_back({site, {}});
  std::optional<LoadedModel> model;
  if (ranked) {
    auto encoder = Encoder::loadOrDefault(options.encoder);
    if (!encoder) return reportError(encoder.error());
    auto loaded = loadUnrollModel(options.model, std::move(*encoder), *knob);
    if (!loaded) return reportError(loaded.error());
    model.emplace(std::move(*loaded));
    std::vector<LoopToEmbed> toEmbed;
    for (const auto& plan : plans) {
      toEmbed.push_back({loopKey("file", source.string(), plan.site.line), source, plan.site.function,
                         plan.site.line, options.flags});
    }
    CacheHandle cache;
    if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return reportError(opened.error());
    auto embedded = embedLoops(model->encoder, toEmbed, cache.get());
    if (!embedded) return reportError(embedded.error());
    if (!embedded->failed.empty())
      return reportError(Error(ErrorCode::kCompileError, embedded->failed.front()));
    for (std::size_t i = 0; i < plans.size(); ++i) {
      auto order = rankConfigurations(
          *model->head, *knob, loopFeatures(embedded->embeddings.at(toEmbed[i].key)), space.enumerate());
      if (!order) return reportError(order.error());
      plans[i].ranking = std::move(*order);
    }
  }

  nlohmann::json json = {
      {"file", source.string()}, {"knob", knobName(*knob)}, {"loops", nlohmann::json::array()}};
  std::string text;
  for (const auto& plan : plans) {
    nlohmann::json loop = {
        {"line", plan.site.line}, {"function", plan.site.function}, {"kind", loopKindName(plan.site.kind)}};
    if (!plan.ranking.empty()) {
      const auto& top = plan.ranking.front();
      loop["predicted"] = top.configuration;
      loop["factors"] = configurationToken(*knob, top.configuration);
      loop["pragma"] = pragmaFor(*knob, top.configuration, plan.site.line).text;
      loop["score"] = top.score;
      text += fmt::format(
          "{}:{} {} ({}): {}  {}  p(near best)={:.2f}\n", source.string(), plan.site.line, plan.site.function,
          loopKindName(plan.site.kind), configurationToken(*knob, top.configuration),
          loop["pragma"].get<std::string>().empty() ? "(no pragma: compiler default)"
                                                    : "#pragma " + loop["pragma"].get<std::string>(),
          top.score);
    }
    json["loops"].push_back(std::move(loop));
  }

  if (options.apply) {
    std::vector<LoopPragma> pragmas;
    for (const auto& plan : plans)
      pragmas.push_back(pragmaFor(*knob, plan.ranking.front().configuration, plan.site.line));
    auto rewritten = insertLoopPragmas(source, pragmas, options.flags);
    if (!rewritten) return reportError(rewritten.error());
    if (auto written = writeFileAtomically(options.output, *rewritten); !written)
      return reportError(written.error());
    logInfo("wrote {} with {} loop pragmas", options.output, pragmas.size());
    json["applied"] = options.output;
  }

  int exitCode = 0;
  if (options.run) {
    auto database = Database::open(resolveDatabasePath(global));
    if (!database) return reportError(database.error());
    auto machine = probeMachine(*database);
    if (!machine) return reportError(machine.error());
    for (std::size_t i = 0; i < plans.size(); ++i) {
      const LoopPlan& plan = plans[i];
      nlohmann::json sessionOptions = {{"file", source.string()},
                                       {"strategy", options.strategy},
                                       {"budget", options.budget},
                                       {"seed", options.seed}};
      auto request = loopRequest(program, *knob, plan.site.line, space, options.measure, sessionOptions);
      if (!request) return reportError(request.error());
      request->command = "unroll --run";
      request->seed = static_cast<std::int64_t>(options.seed);
      if (!options.workDirectory.empty())
        request->workDirectory = fs::path(options.workDirectory) / fmt::format("line-{}", plan.site.line);
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
      if (!result) return reportError(result.error());
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
      nlohmann::json& loop = json["loops"][i];
      loop["session"] = result->sessionId;
      loop["results"] = nlohmann::json::array();
      for (const auto& r : result->results) loop["results"].push_back(tunedJson(*knob, r));
      text +=
          fmt::format("{}:{}: {} configurations measured (session {}{})\n", source.string(), plan.site.line,
                      result->results.size(), result->sessionId, result->resumed ? ", resumed" : "");
      for (const auto& r : result->results) {
        text += fmt::format("  {:<10} {:<26} {}{}\n", configurationToken(*knob, r.configuration),
                            secondsText(r), speedupText(r), r.message.empty() ? "" : "  (" + r.message + ")");
      }
      if (result->best) {
        const auto& best = result->results[*result->best];
        loop["chosen"] = tunedJson(*knob, best);
        text += fmt::format("  chosen: {}  {:.3f}x over the compiler default\n",
                            configurationToken(*knob, best.configuration), best.speedup.value_or(1.0));
      } else {
        text += "  no configuration ran correctly\n";
        exitCode = 1;
      }
    }
  }
  if (options.json) {
    writeOutput("-", json.dump(2) + "\n");
  } else {
    writeOutput("-", text);
  }
  return exitCode;
}

// --- collect ---

LoopSample sampleOf(const Machine& machine, Knob knob, const UnrollProgram& program, const LoopSite& site,
                    const std::vector<MeasurementRecord>& stored) {
  LoopSample sample;
  sample.platform = machine.info.fingerprint.substr(0, 12);
  sample.cpuModel = machine.info.cpuModel;
  sample.knob = knob;
  sample.suite = std::string(suiteName(program.suite));
  sample.program = program.name;
  sample.family = program.family;
  sample.function = site.function;
  sample.line = site.line;
  for (const auto& record : stored) {
    sample.measurements.push_back(
        {record.configuration, record.status, record.medianSeconds, record.spreadSeconds});
  }
  return sample;
}

Expected<std::vector<UnrollProgram>> collectPrograms(const UnrollCollectOptions& options,
                                                     const GlobalOptions& global) {
  std::vector<UnrollProgram> programs;
  for (const std::string& name : options.suites) {
    auto suite = parseSuite(name);
    if (!suite || *suite == Suite::kFile) {
      return Error(ErrorCode::kUsage, fmt::format("--suites: '{}' is not neurovectorizer or openmp", name));
    }
    if (*suite == Suite::kNeuroVectorizer) {
      auto folder = unpackNeuroVectorizer(dataDirectory(), cacheFolder(options.cache, global));
      if (!folder) return folder.error();
      auto all = neuroVectorizerPrograms(*folder, dataDirectory() / "neurovectorizer" / "O3_runtimes.csv");
      if (!all) return all.error();
      for (auto& p : samplePrograms(*all, options.programs, options.seed)) programs.push_back(std::move(p));
    } else {
      auto apps = openMpPrograms(omp::ompSuiteDirectory());
      if (!apps) return apps.error();
      for (auto& p : *apps) programs.push_back(std::move(p));
    }
  }
  return programs;
}

int runUnrollCollect(const UnrollCollectOptions& options, const GlobalOptions& global) {
  auto knob = parseKnob(options.knob);
  if (!knob) return reportError(knob.error());
  auto programs = collectPrograms(options, global);
  if (!programs) return reportError(programs.error());
  auto database = Database::open(resolveDatabasePath(global));
  if (!database) return reportError(database.error());
  auto machine = probeMachine(*database);
  if (!machine) return reportError(machine.error());
  const SearchSpace space = makeUnrollSpace(*knob);
  const fs::path output = options.output.empty()
                              ? fs::path(fmt::format("unroll-{}-{}.csv", knobName(*knob),
                                                     machine->info.fingerprint.substr(0, 12)))
                              : fs::path(options.output);
  std::vector<LoopSample> samples;
  std::size_t failedSessions = 0, skippedPrograms = 0, index = 0;
  // Calibrated repetition scales are kept per machine, so a resumed collection rebuilds the same sessions.
  const fs::path calibrationFile =
      cacheFolder(options.cache, global) / "neurovectorizer" /
      fmt::format("calibration-{}.json", machine->info.fingerprint.substr(0, 12));
  nlohmann::json calibration = nlohmann::json::object();
  if (auto text = readFile(calibrationFile); text) {
    calibration = nlohmann::json::parse(*text, nullptr, false);
    if (!calibration.is_object()) calibration = nlohmann::json::object();
  }
  for (UnrollProgram program : *programs) {
    ++index;
    if (program.suite == Suite::kNeuroVectorizer && options.calibrate) {
      if (calibration.contains(program.name) && calibration[program.name].is_number()) {
        program.iterationScale = calibration[program.name].get<double>();
      } else {
        auto scale = calibrateIterationScale(program, calibrationFile.parent_path() / "calibrate");
        if (!scale) {
          logWarn("{}: skipped: {}", program.source.string(), scale.error().message());
          ++skippedPrograms;
          continue;
        }
        program.iterationScale = *scale;
        calibration[program.name] = *scale;
        if (auto written = writeFileAtomically(calibrationFile, calibration.dump(1) + "\n"); !written) {
          return reportError(written.error());
        }
      }
    }
    auto loops = tunableLoops(program);
    if (!loops) {
      logWarn("{}: skipped: {}", program.source.string(), loops.error().message());
      ++skippedPrograms;
      continue;
    }
    if (loops->size() > options.maxLoops) loops->resize(options.maxLoops);
    for (const LoopSite& site : *loops) {
      auto request = loopRequest(
          program, *knob, site.line, space, options.measure,
          {{"suite", suiteName(program.suite)}, {"program", program.name}, {"strategy", "exhaustive"}});
      if (!request) {
        logWarn("{}:{}: skipped: {}", program.source.string(), site.line, request.error().message());
        continue;
      }
      request->command = "unroll collect";
      request->showProgress = false;
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
          ++failedSessions;
          continue;
        }
        sessionId = result->sessionId;
      }
      auto stored = database->listMeasurements(sessionId);
      if (!stored) return reportError(stored.error());
      samples.push_back(sampleOf(*machine, *knob, program, site, *stored));
      // Written after every loop, so an interruption keeps the file current.
      if (auto written = writeFileAtomically(output, unrollDataToCsv(samples)); !written)
        return reportError(written.error());
    }
  }
  fmt::print("{}\n", output.string());
  logInfo("{} loops of {} programs measured ({} programs without a tunable loop)", samples.size(),
          programs->size(), skippedPrograms);
  if (failedSessions > 0) {
    logError("{} loops could not be measured (see above); --resume continues them", failedSessions);
    return 1;
  }
  return 0;
}

// --- train / eval ---

struct LearningData {
  std::vector<LoopSample> samples;
  std::map<std::string, LoopEmbedding> embeddings;
  std::vector<fs::path> files;
};

std::vector<fs::path> defaultDataFiles(Knob knob) {
  std::vector<fs::path> files;
  const fs::path folder = sourceDirectory() / "tasks" / "unroll" / "data";
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
                                        const GlobalOptions& global) {
  LearningData data;
  for (const auto& file : options.data) data.files.emplace_back(file);
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
  std::map<std::string, omp::OmpApp> apps;
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
        auto folder = unpackNeuroVectorizer(dataDirectory(), cacheFolder(options.cache, global));
        if (!folder) return folder.error();
        corpus = *folder;
      }
      loop.source = *corpus / sample.program;
    } else if (*suite == Suite::kOpenMp) {
      if (apps.empty()) {
        auto suiteApps = omp::loadOmpSuite(omp::ompSuiteDirectory());
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
  if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return opened.error();
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

int runUnrollTrain(const UnrollLearnOptions& options, const GlobalOptions& global) {
  auto knob = parseKnob(options.knob);
  if (!knob) return reportError(knob.error());
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  auto data = loadLearningData(options, *knob, *encoder, global);
  if (!data) return reportError(data.error());
  auto rows = unrollTrainingRows(data->samples, data->embeddings, options.tolerance);
  if (!rows) return reportError(rows.error());
  heads::XgbClassifier head(defaultUnrollHeadParams());
  if (auto fitted = head.fit(*rows); !fitted) return reportError(fitted.error());
  const fs::path out = options.out.empty() ? defaultModelDirectory() : fs::path(options.out);
  const std::string knobText(knobName(*knob));
  if (auto saved = head.save(out / knobText); !saved) return reportError(saved.error());
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
    return reportError(written.error());
  }
  fmt::print("{}\n", out.string());
  return 0;
}

std::string evalTable(const UnrollEvalResult& result, Knob knob, std::size_t topK,
                      const std::string& groupLabel) {
  const auto& m = result.summary;
  std::string out = fmt::format(
      "{} loops of {} programs in {} families ({} knob), {}-fold cross-validation grouped by {}.\n\n"
      "| strategy | mean speedup over default | geomean | % of oracle (mean per loop) "
      "|\n|---|---:|---:|---:|\n",
      m.loops, m.programs, m.families, knobName(knob), result.foldFamilies.size(), groupLabel);
  out += fmt::format("| oracle (best measured per loop) | {:.3f} | {:.3f} | 100.0 |\n", m.meanOracle,
                     m.geomeanOracle);
  out += fmt::format("| predicted factors alone | {:.3f} | {:.3f} | {:.1f} |\n", m.meanPredict,
                     m.geomeanPredict, m.percentPredict);
  out += fmt::format("| predicted, default kept if faster | {:.3f} | {:.3f} | {:.1f} |\n", m.meanPredictKeep,
                     m.geomeanPredictKeep, m.percentPredictKeep);
  out += fmt::format("| top-{} + default | {:.3f} | {:.3f} | {:.1f} |\n", topK, m.meanTopk, m.geomeanTopk,
                     m.percentTopk);
  out += fmt::format("| random, 1 configuration alone | {:.3f} | {:.3f} | {:.1f} |\n", m.meanRandom1,
                     m.geomeanRandom1, m.percentRandom1);
  out += fmt::format("| random {} + default | {:.3f} | {:.3f} | {:.1f} |\n", topK, m.meanRandomK,
                     m.geomeanRandomK, m.percentRandomK);
  out += fmt::format("| best fixed configuration of the training folds | {:.3f} | {:.3f} | {:.1f} |\n",
                     m.meanFixed, m.geomeanFixed, m.percentFixed);
  out += fmt::format("| compiler default | 1.000 | 1.000 | {:.1f} |\n", [&] {
    double sum = 0;
    for (const auto& r : result.loops) sum += 100.0 / r.oracleSpeedup;
    return result.loops.empty() ? 0.0 : sum / static_cast<double>(result.loops.size());
  }());
  out += fmt::format(
      "\nPredicted configurations that failed (wrong output, crash; counted at the default's time): {}. "
      "Loops where the default is the best measured: {}.\n",
      m.failedPicks, m.loopsWhereDefaultIsBest);
  if (groupLabel == "family") {
    out += "\nFolds (held-out families):\n";
    for (std::size_t i = 0; i < result.foldFamilies.size(); ++i) {
      out += fmt::format("- fold {}: {} (best fixed configuration of the other folds: {})\n", i + 1,
                         fmt::join(result.foldFamilies[i], ", "),
                         i < result.foldFixed.size() ? configurationToken(knob, result.foldFixed[i]) : "-");
    }
  }
  out +=
      "\n| program | line | default s | oracle | predicted | speedup | oracle config | predicted config |\n"
      "|---|---:|---:|---:|---:|---:|---|---|\n";
  for (const auto& r : result.loops) {
    out += fmt::format("| {} | {} | {:.5f} | {:.3f} | {:.3f} | {:.3f}{} | {} | {} |\n", r.program, r.line,
                       r.defaultSeconds, r.oracleSpeedup, r.predictSpeedup, r.predictKeepSpeedup,
                       r.pickFailed ? " (failed)" : "", configurationToken(knob, r.oracle),
                       configurationToken(knob, r.predicted));
  }
  return out;
}

int runUnrollEval(const UnrollLearnOptions& options, const GlobalOptions& global) {
  auto knob = parseKnob(options.knob);
  if (!knob) return reportError(knob.error());
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  auto data = loadLearningData(options, *knob, *encoder, global);
  if (!data) return reportError(data.error());
  UnrollEvalOptions evalOptions;
  evalOptions.folds = static_cast<std::size_t>(std::max(2, options.folds));
  evalOptions.topK = static_cast<std::size_t>(std::max(1, options.topK));
  evalOptions.seed = options.seed;
  evalOptions.tolerance = options.tolerance;
  if (options.group != "family" && options.group != "program") {
    return reportError(Error(ErrorCode::kUsage, "--group must be family or program"));
  }
  evalOptions.groupByFamily = options.group == "family";
  auto result = evaluateGroupedFolds(data->samples, data->embeddings, evalOptions);
  if (!result) return reportError(result.error());
  if (options.json) return writeOutput(options.output, result->toJson(*knob).dump(2) + "\n");
  return writeOutput(options.output, evalTable(*result, *knob, evalOptions.topK, options.group));
}

void addMeasureOptions(CLI::App* command, MeasureOptions& options) {
  command->add_option("--build-timeout", options.buildTimeout, "Seconds per build")->capture_default_str();
  command->add_option("--timeout", options.runTimeout, "Seconds per run of the program")
      ->capture_default_str();
  command
      ->add_option("--min-time", options.minTime,
                   "Repeat each configuration until its runs add up to this many seconds")
      ->capture_default_str();
  command->add_option("--min-repetitions", options.minRepetitions, "...and at least this many runs")
      ->capture_default_str();
  command->add_option("--max-repetitions", options.maxRepetitions, "...but at most this many")
      ->capture_default_str();
  command->add_flag("--resume", options.resume,
                    "Continue interrupted sessions of the same options (collect: skip finished loops)");
  command->add_flag("--force", options.force, "Resume even on a machine with another platform fingerprint");
}

void addLearnOptions(CLI::App* command, UnrollLearnOptions& options) {
  command->add_option("--data", options.data,
                      "Data CSV written by `unroll collect` (repeatable; default: "
                      "tasks/unroll/data/unroll-<knob>-*.csv)");
  command->add_option("--knob", options.knob, "unroll or vectorize")->capture_default_str();
  command->add_option("--encoder", options.encoder, "Encoder model folder (default: the shipped one)");
  command->add_option("--cache", options.cache,
                      "Folder for the unpacked corpus (default: unroll-cache beside the database)");
  command->add_flag("--no-cache", options.noCache, "Do not use the embedding cache");
  command
      ->add_option("--tolerance", options.tolerance,
                   "A configuration within this fraction of the loop's best median "
                   "is labelled near best")
      ->capture_default_str();
}

}  // namespace

void addUnrollCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc,
                      char** argv) {
  CLI::App* unroll = app.add_subcommand("unroll",
                                        "Loop unroll / vectorize factors per innermost loop: predict for a "
                                        "FILE (--apply, --run), collect, train, eval");
  unroll->require_subcommand(0, 1);
  auto file = std::make_shared<UnrollFileOptions>();
  unroll->add_option("file", file->file, "C/C++ source whose innermost loops get factors");
  unroll->add_option("--loop", file->loop, "Only the loop starting on this line");
  unroll->add_option("--knob", file->knob, "unroll (count) or vectorize (width x interleave)")
      ->capture_default_str();
  unroll->add_option("--flag", file->flags, "Extra compiler flag, repeatable (-I..., -D...)");
  unroll->add_option("--model", file->model, "Unroll head folder (default: tasks/unroll/models/unroll-1.0)");
  unroll->add_option("--encoder", file->encoder, "Encoder model folder (default: the shipped one)");
  unroll->add_flag("--json", file->json, "Print JSON");
  unroll->add_flag("--apply", file->apply, "Write the source with the predicted pragmas to -o");
  unroll->add_option("-o,--output", file->output, "With --apply: the rewritten source");
  unroll->add_flag("--run", file->run,
                   "Build and measure the default and the strategy's picks for each loop");
  unroll->add_option("--args", file->args, "With --run: the program's arguments, as one string");
  unroll->add_option("--strategy", file->strategy, "With --run: predict, topk, exhaustive or random")
      ->capture_default_str();
  unroll
      ->add_option("--budget", file->budget,
                   "With --run: configurations measured besides the default (topk, random)")
      ->capture_default_str();
  unroll->add_option("--seed", file->seed, "Seed of the random strategy")->capture_default_str();
  unroll->add_option("--work-dir", file->workDirectory,
                     "Folder for plans, results and binaries, one sub-folder per loop (default: next to the "
                     "database); each sub-folder must be new, empty or made by mirtune");
  unroll->add_flag("--no-cache", file->noCache, "Do not use the embedding cache");
  addMeasureOptions(unroll, file->measure);

  auto collect = std::make_shared<UnrollCollectOptions>();
  CLI::App* collectCommand =
      unroll->add_subcommand("collect",
                             "Measure every configuration of sampled corpus programs' loops "
                             "(and the OpenMP suite's) on this machine");
  collectCommand
      ->add_option("--programs", collect->programs, "NeuroVectorizer programs to sample (0 = all 7,812)")
      ->capture_default_str();
  collectCommand->add_option("--seed", collect->seed, "Seed of the program sample")->capture_default_str();
  collectCommand->add_option("--knob", collect->knob, "unroll or vectorize")->capture_default_str();
  collectCommand->add_option("--suites", collect->suites, "neurovectorizer, openmp")
      ->delimiter(',')
      ->capture_default_str();
  collectCommand
      ->add_flag("--calibrate,!--no-calibrate", collect->calibrate,
                 "Rescale each corpus program's repetition count so one run takes about 75 ms here (one "
                 "extra build and run per program, cached per machine); off: the corpus's listed -O3 times")
      ->capture_default_str();
  collectCommand->add_option("--max-loops", collect->maxLoops, "Loops measured per program, in source order")
      ->capture_default_str();
  collectCommand->add_option("-o,--output", collect->output,
                             "Data CSV (default: unroll-<knob>-<platform>.csv)");
  collectCommand->add_option("--cache", collect->cache,
                             "Folder for the unpacked corpus (default: unroll-cache beside the database)");
  addMeasureOptions(collectCommand, collect->measure);

  auto train = std::make_shared<UnrollLearnOptions>();
  CLI::App* trainCommand = unroll->add_subcommand("train", "Train the head of one knob on collected data");
  addLearnOptions(trainCommand, *train);
  trainCommand->add_option("--out", train->out, "Model folder (default: tasks/unroll/models/unroll-1.0)");
  train->command = "mirtune";
  for (int i = 1; i < argc; ++i) train->command += std::string(" ") + argv[i];

  auto eval = std::make_shared<UnrollLearnOptions>();
  CLI::App* evalCommand =
      unroll->add_subcommand("eval",
                             "5-fold cross-validation by program (or by program family): predicted "
                             "factors vs oracle, compiler default and random");
  addLearnOptions(evalCommand, *eval);
  evalCommand
      ->add_option("--folds", eval->folds,
                   "Folds (programs or families are dealt round-robin after a seeded shuffle)")
      ->capture_default_str();
  evalCommand
      ->add_option("--group", eval->group,
                   "What a fold holds: program (each program held out alone; variants of its "
                   "kernel may train the head) or family (whole kernel families held out)")
      ->capture_default_str();
  evalCommand->add_option("--topk", eval->topK, "k of the top-k strategy (and the random budget)")
      ->capture_default_str();
  evalCommand->add_option("--seed", eval->seed, "Seed of the fold assignment and random draws")
      ->capture_default_str();
  evalCommand->add_option("-o,--output", eval->output, "Write the table (or JSON) here");
  evalCommand->add_flag("--json", eval->json, "Print JSON");

  unroll->callback(
      [collectCommand, trainCommand, evalCommand, file, collect, train, eval, &global, &action]() {
        if (collectCommand->parsed()) {
          action = [collect, &global]() { return runUnrollCollect(*collect, global); };
        } else if (trainCommand->parsed()) {
          action = [train, &global]() { return runUnrollTrain(*train, global); };
        } else if (evalCommand->parsed()) {
          action = [eval, &global]() { return runUnrollEval(*eval, global); };
        } else if (!file->file.empty()) {
          action = [file, &global]() { return runUnrollFile(*file, global); };
        } else {
          action = [] {
            return reportError(
                Error(ErrorCode::kUsage,
                      "unroll needs FILE.c or one of: collect, train, eval (see mirtune unroll --help)"));
          };
        }
      });
}

}  // namespace mirtune::cli
