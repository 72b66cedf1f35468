// A live `mirtune tune` session over an OpenCL kernel (strategy proposals measured through the OpenCL
// backend) or an application (built and run through the process backend): outputs checked against the default
// configuration's, every result recorded (SQLite, cache file, T4 file) as it arrives; export as plans and
// ingest of their results.
#include "tasks/tune/TuneWorkflow.h"

#include "database/Database.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "support/Sha256.h"
#include "tasks/tune/CudaHarness.h"
#include "tasks/tune/CudaSession.h"
#include "tasks/tune/KernelTunerCache.h"
#include "tasks/tune/SessionResults.h"
#include "tasks/tune/TransferHistory.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"
#include "tuner/OpenClMeasurer.h"
#include "tuner/ProcessMeasurer.h"
#include "tuner/TuningSession.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <utility>

namespace mirtune::tune {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;



/// The device a session measures on: "P:D" when named, else the first GPU, else the first device.
Expected<OpenClDevice> chooseDevice(const std::vector<OpenClDevice>& devices, const std::string& wanted) {
  if (!wanted.empty()) {
    for (const OpenClDevice& device : devices) {
      if (fmt::format("{}:{}", device.platformIndex, device.deviceIndex) == wanted) return device;
    }
    std::string listed;
    for (const OpenClDevice& device : devices) {
      listed += fmt::format("\n  {}:{} {} {}", device.platformIndex, device.deviceIndex, device.type, device.name);
    }
    return makeError(ErrorCode::kUsage, "--device {}: no such OpenCL device; this machine has:{}", wanted, listed);
  }
  for (const OpenClDevice& device : devices) {
    if (device.type == "GPU") return device;
  }
  return devices.front();
}

// What one measurement found, as an evaluation of the session reports it.
void takeOutcome(TuneEvaluation& evaluation, const MeasureResult& outcome) {
  evaluation.status = outcome.status;
  evaluation.message = outcome.message;
  evaluation.samples = outcome.samples;
  evaluation.median = outcome.median;
  evaluation.spread = outcome.spread;
}

std::string deviceLabel(const OpenClDevice& device) {
  return fmt::format("{}:{} {} {}", device.platformIndex, device.deviceIndex, device.type, device.name);
}



TuneEvaluation evaluationFromCache(const CacheRecord& record, const Configuration& configuration) {
  TuneEvaluation evaluation;
  evaluation.configuration = configuration;
  evaluation.fromCache = true;
  for (double ms : record.times) evaluation.samples.push_back(ms / 1e3);
  if (record.time) {
    evaluation.status = MeasureStatus::kOk;
    evaluation.median = *record.time / 1e3;
  } else {
    evaluation.status = record.failure == "CompilationFailedConfig" ? MeasureStatus::kBuildFailed
                                                                   : MeasureStatus::kRunFailed;
    evaluation.message = fmt::format("read back from the cache file: {}", record.failure);
  }
  evaluation.compileSeconds = record.compileTime / 1e3;
  evaluation.frameworkSeconds = record.frameworkTime / 1e3;
  evaluation.strategySeconds = record.strategyTime / 1e3;
  evaluation.validationSeconds = record.verificationTime / 1e3;
  return evaluation;
}


/// The buffers the default configuration left, as the reference every other configuration is checked against.
using Outputs = std::map<std::size_t, runner::HostArray>;

Expected<Outputs> readOutputs(const DeviceRunResult& device) {
  Outputs outputs;
  for (const auto& [index, file] : device.outputFiles) {
    runner::HostArray array;
    std::string error;
    if (!runner::readNpy(file.string(), array, error)) {
      return makeError(ErrorCode::kIo, "{}: the default configuration's output: {}", file.string(), error);
    }
    outputs.emplace(index, std::move(array));
  }
  return outputs;
}

/// Earlier tuning sessions of other kernels on this platform, with each kernel's embedding, for the transfer
/// strategy. Kernels whose source is gone or does not embed are left out (logged).
Expected<TransferData> loadTransferData(Database& database, std::int64_t platformId, const fs::path& kernelFile,
                                        const fs::path& encoder) {
  auto measurements = database.listMeasurements();
  if (!measurements) return measurements.error();
  std::map<std::int64_t, TransferSession> byWorkload;
  const std::set<std::string> deviceKeys = {"device", "device_type", "device_index"};
  std::map<std::int64_t, std::string> paths;
  for (const MeasurementRecord& record : *measurements) {
    if (record.task != "tune" || record.platformId != platformId || record.status != MeasureStatus::kOk ||
        !record.medianSeconds || !record.configuration.is_object()) {
      continue;
    }
    if (paths.find(record.workloadId) == paths.end()) {
      auto workload = database.getWorkload(record.workloadId);
      if (!workload) return workload.error();
      paths[record.workloadId] = *workload ? (*workload)->path : "";
    }
    const std::string& path = paths[record.workloadId];
    std::error_code same;
    if (path.empty() || fs::equivalent(path, kernelFile, same)) continue;
    TransferSession& session = byWorkload[record.workloadId];
    session.kernel = path;
    std::vector<std::string> names;
    std::vector<float> row;
    for (const auto& [key, value] : record.configuration.items()) {
      if (deviceKeys.count(key) != 0 || !(value.is_number() || value.is_boolean())) continue;
      names.push_back(key);
      row.push_back(value.is_boolean() ? (value.get<bool>() ? 1.0f : 0.0f) : value.get<float>());
    }
    if (session.parameterNames.empty()) session.parameterNames = names;
    if (names != session.parameterNames) continue;  // another spec of the same file: keep the first one's rows
    session.features.push_back(std::move(row));
    session.times.push_back(*record.medianSeconds);
  }
  TransferData data;
  if (byWorkload.empty()) return data;
  std::vector<fs::path> sources = {kernelFile};
  for (const auto& [id, session] : byWorkload) sources.push_back(session.kernel);
  auto embedded = SourceEmbeddings::embed(sources, encoder, database.path());
  if (!embedded) return embedded.error().withContext("embedding the kernels of the transfer strategy");
  auto vectorOf = [&](const std::string& file) { return embedded->find(file); };
  const std::vector<float>* own = vectorOf(kernelFile.string());
  if (own == nullptr) {
    return makeError(ErrorCode::kInvalidInput, "{}: the kernel does not embed, so the transfer strategy cannot "
                     "relate it to earlier sessions (use --strategy model)", kernelFile.string());
  }
  data.embedding = *own;
  for (auto& [id, session] : byWorkload) {
    const std::vector<float>* vector = vectorOf(session.kernel);
    if (vector == nullptr) {
      logWarn("transfer: {} does not embed; its earlier session is left out", session.kernel);
      continue;
    }
    session.embedding = *vector;
    data.sessions.push_back(std::move(session));
  }
  return data;
}

/// A spec's valid configurations as the strategies see them, each one's index by configuration hash, and the
/// default's index.
struct IndexedSpace {
  CandidateSet candidates;
  std::map<std::string, std::size_t> indexOfHash;
  std::size_t defaultIndex = 0;
};

Expected<IndexedSpace> indexSpace(const TuneSpec& spec) {
  IndexedSpace indexed;
  indexed.candidates = candidateSetFrom(spec.space);
  if (indexed.candidates.size() == 0) {
    return makeError(ErrorCode::kInvalidInput, "{}: no configuration satisfies the conditions", spec.file.string());
  }
  for (std::size_t i = 0; i < indexed.candidates.size(); ++i) {
    indexed.indexOfHash[configurationHash(indexed.candidates.configurations[i])] = i;
  }
  const Configuration defaultConfiguration = spec.space.defaultConfiguration();
  const auto found = indexed.indexOfHash.find(configurationHash(defaultConfiguration));
  if (found == indexed.indexOfHash.end()) {
    return makeError(ErrorCode::kInvalidInput, "{}: the default configuration {} violates the conditions",
                     spec.file.string(), defaultConfiguration.dump());
  }
  indexed.defaultIndex = found->second;
  return indexed;
}

/// The strategy of a session: its kind and seed, the budget clipped to the space (0 = all of it).
StrategyOptions strategyOptionsFor(const TuneSessionOptions& options, std::size_t spaceSize,
                                   const TransferData* transfer = nullptr) {
  StrategyOptions strategy;
  strategy.kind = options.strategy;
  strategy.seed = options.seed;
  strategy.budget = options.budget == 0 ? spaceSize : std::min(options.budget, spaceSize);
  strategy.transfer = transfer;
  return strategy;
}


nlohmann::json evaluationJson(const TuneEvaluation& evaluation) {
  nlohmann::json json = {{"configuration", evaluation.configuration},
                         {"status", measureStatusName(evaluation.status)},
                         {"timestamp", evaluation.timestamp},
                         {"from_cache", evaluation.fromCache}};
  if (evaluation.median) json["median_s"] = *evaluation.median;
  if (evaluation.spread) json["spread_s"] = *evaluation.spread;
  json["samples_s"] = evaluation.samples;
  if (!evaluation.message.empty()) json["message"] = evaluation.message;
  return json;
}

}  // namespace

std::string_view t4Invalidity(MeasureStatus status) {
  switch (status) {
    case MeasureStatus::kOk: return "correct";
    case MeasureStatus::kBuildFailed: return "compile";
    case MeasureStatus::kBuildTimeout:
    case MeasureStatus::kRunTimeout: return "timeout";
    case MeasureStatus::kRunFailed: return "runtime";
    case MeasureStatus::kWrongOutput: return "correctness";
  }
  return "runtime";
}

nlohmann::json t4Results(const TuneSessionResult& result) {
  nlohmann::json results = nlohmann::json::array();
  for (const TuneEvaluation& evaluation : result.evaluations) {
    nlohmann::json runtimes = nlohmann::json::array();
    for (double seconds : evaluation.samples) runtimes.push_back(seconds * 1e3);
    nlohmann::json measurements = nlohmann::json::array();
    if (evaluation.status == MeasureStatus::kOk && evaluation.median) {
      measurements.push_back({{"name", "time"}, {"value", *evaluation.median * 1e3}, {"unit", "ms"}});
      if (evaluation.spread) {
        measurements.push_back({{"name", "time_iqr"}, {"value", *evaluation.spread * 1e3}, {"unit", "ms"}});
      }
    }
    results.push_back({{"timestamp", evaluation.timestamp},
                       {"configuration", evaluation.configuration},
                       {"objectives", {"time"}},
                       {"times",
                        {{"compilation_time", evaluation.compileSeconds * 1e3},
                         {"runtimes", runtimes},
                         {"framework", evaluation.frameworkSeconds * 1e3},
                         {"search_algorithm", evaluation.strategySeconds * 1e3},
                         {"validation", evaluation.validationSeconds * 1e3}}},
                       {"invalidity", t4Invalidity(evaluation.status)},
                       {"correctness", evaluation.status == MeasureStatus::kWrongOutput ? 0 : 1},
                       {"measurements", measurements}});
  }
  return {{"schema_version", "1.0.0"}, {"results", results}};
}

nlohmann::json tuneSessionJson(const TuneSessionResult& result) {
  nlohmann::json json = {{"name", result.name},
                         {"device", result.device},
                         {"strategy", result.strategy},
                         {"space_size", result.spaceSize},
                         {"budget", result.budget},
                         {"evaluations", result.evaluations.size()},
                         {"reused", result.reused},
                         {"stopped_by", result.stoppedBy},
                         {"wall_seconds", result.wallSeconds},
                         {"session_id", result.sessionId}};
  if (!result.evaluations.empty()) json["default"] = evaluationJson(result.evaluations.front());
  if (result.best) {
    nlohmann::json best = evaluationJson(result.evaluations[*result.best]);
    if (result.bestAgainstDefault) {
      const Comparison& c = *result.bestAgainstDefault;
      best["against_default"] = {{"verdict", comparisonVerdictName(c.verdict)},
                                 {"speedup", c.speedup},
                                 {"interval", {c.low, c.high}},
                                 {"p_value", c.pValue}};
    }
    json["best"] = std::move(best);
  } else {
    json["best"] = nullptr;
  }
  nlohmann::json results = nlohmann::json::array();
  for (const TuneEvaluation& evaluation : result.evaluations) results.push_back(evaluationJson(evaluation));
  json["results"] = std::move(results);
  if (result.ingest) {
    json["ingest"] = {{"stored", result.ingest->stored},
                      {"already_stored", result.ingest->alreadyStored},
                      {"plan_folders", result.ingest->planFolders},
                      {"not_measured", result.ingest->notYet}};
  }
  return json;
}

std::string tuneSessionText(const TuneSessionResult& result) {
  std::map<std::string, std::size_t> statuses;
  for (const TuneEvaluation& evaluation : result.evaluations) ++statuses[std::string(measureStatusName(evaluation.status))];
  std::string counts;
  for (const auto& [status, count] : statuses) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, status);
  std::string text = fmt::format("{} on {}: {} of {} configurations evaluated ({}), strategy {}, stopped by {}\n",
                                 result.name, result.device, result.evaluations.size(), result.spaceSize, counts,
                                 result.strategy, result.stoppedBy);
  if (!result.evaluations.empty()) {
    const TuneEvaluation& first = result.evaluations.front();
    text += fmt::format("default: {}  {}\n", first.configuration.dump(),
                        first.median ? formatSeconds(*first.median) : std::string(measureStatusName(first.status)));
  }
  if (!result.best) {
    text += "best: no configuration ran correctly\n";
  } else {
    const TuneEvaluation& best = result.evaluations[*result.best];
    text += fmt::format("best:    {}  {}", best.configuration.dump(), formatSeconds(*best.median));
    if (result.bestAgainstDefault) text += "  " + comparisonText(*result.bestAgainstDefault);
    text += "\n";
  }
  if (result.ingest) text += ingestCountsText(result.ingested, *result.ingest) + "\n";
  return text;
}

// ----- application specs: a session, an export as process plan folders, and its ingest -----

namespace {

/// This machine (or the one that measured a plan folder) as an application session names its device.
std::string machineLabel(const std::string& cpuModel, std::int64_t cores) {
  return fmt::format("{} ({} cores)", cpuModel, cores);
}

/// The runner settings an application spec asks for.
MeasurementSettings applicationSettings(const TuneSpec& spec) {
  MeasurementSettings settings;
  settings.buildTimeoutSeconds = spec.settings.buildTimeoutSeconds.value_or(spec.settings.timeoutSeconds);
  settings.runTimeoutSeconds = spec.settings.timeoutSeconds;
  settings.warmup = spec.settings.warmup;
  settings.minTimeSeconds = spec.settings.minTimeSeconds;
  settings.minRepetitions = spec.settings.minRepetitions;
  settings.maxRepetitions = spec.settings.maxRepetitions;
  settings.relativeTimeout = spec.settings.relativeTimeout;
  return settings;
}

/// The process backend's request for an application spec: its commands, the files it copies into the work
/// folder, its settings and output check, and the session's identity (the hooks', else the spec and
/// strategy). Refers to `spec`, which must outlive it.
Expected<TuningRequest> applicationRequest(const TuneSpec& spec, const TuneSessionOptions& options,
                                           const ApplicationSessionHooks& hooks, std::size_t budget,
                                           const std::string& strategyName) {
  TuningRequest request;
  request.task = hooks.task;
  request.command = !hooks.command.empty()         ? hooks.command
                    : !options.commandLine.empty() ? options.commandLine
                                                   : std::string("tune");
  if (hooks.workload) {
    request.workload = *hooks.workload;
  } else {
    auto workload = sourceWorkload(spec.file);
    if (!workload) return workload.error();
    request.workload = std::move(*workload);
  }
  request.space = &spec.space;
  request.commands = [&spec](const Configuration& configuration) {
    return buildApplicationCommands(spec, configuration);
  };
  for (const ApplicationFile& file : spec.application->files) request.files[file.name] = file.content;
  request.settings = applicationSettings(spec);
  request.check = spec.application->check;
  request.seed = static_cast<std::int64_t>(options.seed);
  request.modelIds = hooks.modelIds;
  request.workDirectory = options.workDirectory;
  request.resume = options.resume;
  request.force = hooks.force;
  request.options = !hooks.identity.is_null() ? hooks.identity
                                              : nlohmann::json{{"spec", spec.file.string()},
                                                               {"strategy", strategyName},
                                                               {"budget", budget},
                                                               {"seed", options.seed},
                                                               {"settings", settingsJson(request.settings)}};
  request.showProgress = options.showProgress;
  return request;
}





Status exportOrIngestStrategy(StrategyKind strategy) {
  if (strategy != StrategyKind::kExhaustive && strategy != StrategyKind::kRandom) {
    return makeError(ErrorCode::kUsage,
                     "--export takes --strategy exhaustive or random: the {} strategy chooses "
                     "each configuration from the results before it",
                     tuneStrategyName(strategy));
  }
  return success();
}

/// What an exported application folder must match: the spec file and the files it copies into each plan
/// folder.
Expected<std::string> applicationDigest(const TuneSpec& spec) {
  auto text = readFile(spec.file);
  if (!text) return text.error();
  std::string all = *text;
  for (const ApplicationFile& file : spec.application->files) all += '\0' + file.name + '\0' + file.content;
  return sha256Hex(all);
}

bool namesSpecDirectory(const TuneSpec& spec) {
  auto names = [](const std::vector<std::string>& argv) {
    return std::any_of(argv.begin(), argv.end(), [](const std::string& element) {
      return element.find("@SPEC_DIR@") != std::string::npos;
    });
  };
  return names(spec.application->buildTemplate) || names(spec.application->runTemplate);
}

constexpr const char* kApplicationIndexFile = "tune.json";

}  // namespace

Expected<TuneSessionResult> runApplicationSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                                  const ApplicationSessionHooks& hooks) {
  const Clock::time_point started = Clock::now();
  if (!spec.application) {
    return makeError(ErrorCode::kUsage, "{}: tunes a kernel (KernelSpecification), not an application",
                     spec.file.string());
  }
  const bool ordered = static_cast<bool>(hooks.proposalOrder);
  if (!ordered && options.strategy == StrategyKind::kTransfer) {
    return makeError(ErrorCode::kUsage,
                     "{}: --strategy transfer relates kernels by their embedding and is for "
                     "kernel specs; an application takes model, random or exhaustive",
                     spec.file.string());
  }
  auto indexed = indexSpace(spec);
  if (!indexed) return indexed.error();
  const CandidateSet& candidates = indexed->candidates;
  const std::map<std::string, std::size_t>& indexOfHash = indexed->indexOfHash;
  const StrategyOptions strategyOptions = strategyOptionsFor(options, candidates.size());
  std::unique_ptr<SearchStrategy> strategy;
  if (!ordered) {
    auto made = makeStrategy(candidates, strategyOptions);
    if (!made) return made.error();
    strategy = std::move(*made);
  }
  const std::string strategyName =
      ordered ? hooks.strategyName : std::string(tuneStrategyName(options.strategy));

  auto database = Database::open(options.databasePath);
  if (!database) return database.error();
  Expected<Machine> machine =
      hooks.machine != nullptr ? Expected<Machine>(*hooks.machine) : probeMachine(*database);
  if (!machine) return machine.error();
  const std::string device = machineLabel(machine->info.cpuModel, machine->info.logicalCores);
  auto cache = sessionCache(options, spec, device);
  if (!cache) return cache.error();
  auto request = applicationRequest(spec, options, hooks, strategyOptions.budget, strategyName);
  if (!request) return request.error();

  TuneSessionResult result;
  result.name = spec.name;
  result.device = device;
  result.strategy = strategyName;
  result.spaceSize = candidates.size();
  result.budget = strategyOptions.budget;

  // Proposal costs and first-seen times by configuration (a resumed session's rounds do not line up by
  // index).
  std::map<std::string, double> proposalSeconds;
  std::map<std::string, std::string> timestamps;
  auto evaluationsOf = [&](const std::vector<TunedConfiguration>& done) {
    std::vector<TuneEvaluation> evaluations;
    for (const TunedConfiguration& tuned : done) {
      TuneEvaluation evaluation = evaluationOf(tuned);
      const std::string hash = configurationHash(tuned.configuration);
      auto stamped = timestamps.emplace(hash, utcTimestamp()).first;
      evaluation.timestamp = stamped->second;
      auto proposed = proposalSeconds.find(hash);
      if (proposed != proposalSeconds.end()) evaluation.strategySeconds = proposed->second;
      evaluations.push_back(std::move(evaluation));
    }
    return evaluations;
  };

  std::string stoppedBy = "budget";
  std::optional<std::vector<Configuration>> order;
  std::size_t nextInOrder = 0;
  request->planner =
      [&](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    // Called after every evaluation: the T4 and cache files follow the session, so an interruption leaves
    // both.
    result.evaluations = evaluationsOf(done);
    if (Status written = writeSessionFiles(result, options, *cache); !written) return written.error();
    if (done.size() >= strategyOptions.budget) return std::vector<Configuration>{};
    if (options.timeLimitSeconds > 0 && secondsSince(started) >= options.timeLimitSeconds) {
      stoppedBy = "time";
      return std::vector<Configuration>{};
    }
    const Clock::time_point proposeStart = Clock::now();
    std::optional<Configuration> next;
    if (ordered) {
      if (!order) {
        auto proposed = hooks.proposalOrder(done.front());
        if (!proposed) return proposed.error();
        order = std::move(*proposed);
      }
      std::set<std::string> measured;
      for (const TunedConfiguration& tuned : done) measured.insert(configurationHash(tuned.configuration));
      while (nextInOrder < order->size() && measured.count(configurationHash((*order)[nextInOrder])) != 0) {
        ++nextInOrder;
      }
      if (nextInOrder < order->size()) next = (*order)[nextInOrder++];
    } else {
      std::vector<Observation> history;
      for (const TunedConfiguration& tuned : done) {
        auto found = indexOfHash.find(configurationHash(tuned.configuration));
        if (found == indexOfHash.end()) continue;
        history.push_back({found->second, tuned.status == MeasureStatus::kOk ? tuned.median : std::nullopt});
      }
      auto proposal = strategy->propose(history, 1);
      if (!proposal) return proposal.error();
      if (proposal->empty()) {
        stoppedBy = "space";
      } else {
        next = candidates.configurations[proposal->front()];
      }
    }
    if (!next) return std::vector<Configuration>{};
    proposalSeconds[configurationHash(*next)] = secondsSince(proposeStart);
    return std::vector<Configuration>{*next};
  };
  auto session =
      runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request, options.runner);
  if (!session) return session.error();

  result.evaluations = evaluationsOf(session->results);
  result.sessionId = session->sessionId;
  result.reused = session->reusedResults;
  result.resumed = session->resumed;
  result.stoppedBy = session->results.size() >= candidates.size() ? "space" : stoppedBy;
  result.processSession = std::move(*session);
  chooseBest(result, options.seed);
  result.wallSeconds = secondsSince(started);
  if (Status written = writeSessionFiles(result, options, *cache); !written) return written.error();
  return result;
}

Expected<std::size_t> exportApplicationSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                               const fs::path& folder) {
  if (!spec.application) {
    return makeError(ErrorCode::kUsage, "{}: tunes a kernel, not an application", spec.file.string());
  }
  if (Status strategyOk = exportOrIngestStrategy(options.strategy); !strategyOk) return strategyOk.error();
  if (options.configurationsPerPlan == 0) {
    return makeError(ErrorCode::kUsage, "--per-plan must be at least 1");
  }
  std::error_code ec;
  if (fs::exists(folder, ec) && !(fs::is_directory(folder, ec) && fs::is_empty(folder, ec))) {
    return makeError(ErrorCode::kUsage, "--export {}: exists and is not an empty folder; name a new one",
                     folder.string());
  }
  auto indexed = indexSpace(spec);
  if (!indexed) return indexed.error();
  const StrategyOptions strategyOptions = strategyOptionsFor(options, indexed->candidates.size());
  auto strategy = makeStrategy(indexed->candidates, strategyOptions);
  if (!strategy) return strategy.error();
  auto more = (*strategy)->propose({{indexed->defaultIndex, std::nullopt}}, strategyOptions.budget - 1);
  if (!more) return more.error();
  const std::string strategyName(tuneStrategyName(options.strategy));
  auto request = applicationRequest(spec, options, {}, strategyOptions.budget, strategyName);
  if (!request) return request.error();
  auto digest = applicationDigest(spec);
  if (!digest) return digest.error();
  if (namesSpecDirectory(spec)) {
    logWarn(
        "{}: its commands name @SPEC_DIR@, which the plans hold as {}: they run only on machines where that "
        "path exists (list the files under mirtune.Application.Files to carry them in every plan folder)",
        spec.file.string(), spec.file.parent_path().string());
  }

  const Configuration& defaultConfiguration = indexed->candidates.configurations[indexed->defaultIndex];
  nlohmann::json items = nlohmann::json::array();
  const std::size_t perPlan = options.configurationsPerPlan;
  const std::size_t plans = std::max<std::size_t>(1, (more->size() + perPlan - 1) / perPlan);
  for (std::size_t plan = 0; plan < plans; ++plan) {
    std::vector<Configuration> batch = {defaultConfiguration};
    for (std::size_t i = plan * perPlan; i < std::min(more->size(), (plan + 1) * perPlan); ++i) {
      batch.push_back(indexed->candidates.configurations[(*more)[i]]);
    }
    const std::string name = std::to_string(plan + 1);
    if (Status written = exportTuningPlan(*request, batch, folder / name); !written) return written.error();
    items.push_back({{"folder", name}, {"configurations", batch}});
  }
  // Its identity keys what is ingested from it, so that ingesting it again stores nothing twice.
  if (auto identity = writeExportId(folder); !identity) return identity.error();
  const nlohmann::json index = {{"spec", spec.file.string()},
                                {"spec_sha256", *digest},
                                {"kind", "application"},
                                {"strategy", strategyName},
                                {"seed", options.seed},
                                {"configurations_per_plan", perPlan},
                                {"items", items}};
  if (Status written = writeFileAtomically(folder / kApplicationIndexFile, index.dump(2) + "\n"); !written) {
    return written.error();
  }
  const std::string ingest = fmt::format("mirtune tune {} --ingest {}", spec.file.string(), folder.string());
  if (Status written = writeFileAtomically(folder / "run-all.sh", exportRunAllScript(ingest, false));
      !written) {
    return written.error();
  }
  return 1 + more->size();
}

Expected<TuneSessionResult> ingestApplicationSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                                     const fs::path& folder) {
  const Clock::time_point started = Clock::now();
  if (!spec.application) {
    return makeError(ErrorCode::kUsage, "{}: tunes a kernel, not an application", spec.file.string());
  }
  const fs::path indexFile = folder / kApplicationIndexFile;
  auto index = readExportIndex(indexFile);
  if (!index) return index.error();
  auto exportedDigest = indexString(*index, "spec_sha256", indexFile, "spec_sha256");
  if (!exportedDigest) return exportedDigest.error();
  auto digest = applicationDigest(spec);
  if (!digest) return digest.error();
  if (*exportedDigest != *digest) {
    return makeError(ErrorCode::kInvalidInput, "{}: exported from another version of {} or of its files",
                     indexFile.string(), spec.file.string());
  }
  auto strategyName = indexString(*index, "strategy", indexFile, "strategy", "");
  if (!strategyName) return strategyName.error();
  auto indexed = indexSpace(spec);
  if (!indexed) return indexed.error();
  auto request = applicationRequest(spec, options, {}, 0, *strategyName);
  if (!request) return request.error();
  auto campaign = exportId(folder, indexFile);
  if (!campaign) return campaign.error();

  // Every plan folder is checked before anything is stored: a damaged one leaves nothing of the export
  // behind.
  struct Item {
    std::string name;
    fs::path folder;
    const PlatformRecord* platform = nullptr;
  };
  const nlohmann::json& list = (*index)["items"];
  ExportedMachines machines(folder);
  IngestCounts counts;
  counts.planFolders = list.size();
  std::vector<Item> items;
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("items[{}].folder", i);
    auto name = indexString(list[i], "folder", indexFile, where);
    if (!name) return name.error();
    auto itemFolder = pathInsideFolder(folder, *name, indexFile, where);
    if (!itemFolder) {
      logError("{}", itemFolder.error().message());
      ++rejected;
      continue;
    }
    if (Status checked = checkTuningResults(*request, *itemFolder); !checked) {
      if (checked.error().code() == ErrorCode::kNotFound) {
        logWarn("plan folder {}: {}", *name, checked.error().message());
        ++counts.notYet;
      } else {
        logError("plan folder {}: {}", *name, checked.error().message());
        ++rejected;
      }
      continue;
    }
    auto platform = machines.platformFor(*itemFolder);
    if (!platform) return platform.error();
    items.push_back({*name, *itemFolder, *platform});
  }
  if (rejected > 0) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: {} of {} plan folders failed the checks above; nothing was stored", folder.string(),
                     rejected, list.size());
  }

  TuneSessionResult result;
  result.name = spec.name;
  result.strategy = *strategyName;
  result.spaceSize = indexed->candidates.size();
  result.ingested = folder;
  result.device = "-";
  std::size_t exported = 1;
  for (const nlohmann::json& item : list) {
    if (item.is_object() && item.contains("configurations") && item["configurations"].is_array()) {
      exported += item["configurations"].empty() ? 0 : item["configurations"].size() - 1;
    }
  }
  result.budget = exported;
  result.stoppedBy = exported >= indexed->candidates.size() ? "space" : "budget";

  auto database = Database::open(options.databasePath);
  if (!database) return database.error();
  std::map<std::string, std::int64_t> platformIds;  // fingerprint -> id
  // The default's samples of each evaluation's plan folder: the best is compared with the default it ran
  // beside.
  std::vector<std::vector<double>> defaultSamples;
  for (const Item& item : items) {
    auto known = platformIds.find(item.platform->fingerprint);
    if (known == platformIds.end()) {
      auto platformId = database->upsertPlatform(*item.platform);
      if (!platformId) return platformId.error();
      known = platformIds.emplace(item.platform->fingerprint, *platformId).first;
    }
    auto ingested = ingestPlanFolder(*database, known->second, *request, item.folder,
                                     IngestIdentity{*campaign, item.name});
    if (!ingested) return ingested.error().withContext(fmt::format("plan folder {}", item.name));
    counts.stored += ingested->stored;
    counts.alreadyStored += ingested->alreadyStored;
    counts.missingConfigurations += ingested->missing;
    if (result.sessionId == 0) result.sessionId = ingested->tuning.sessionId;
    const std::vector<TunedConfiguration>& results = ingested->tuning.results;
    if (results.empty()) continue;
    const bool first = result.evaluations.empty();
    if (first) result.device = machineLabel(item.platform->cpuModel, item.platform->cores);
    const TunedConfiguration& itemDefault = results.front();
    std::vector<double> reference =
        itemDefault.status == MeasureStatus::kOk ? itemDefault.times : std::vector<double>{};
    for (std::size_t i = first ? 0 : 1; i < results.size(); ++i) {
      TuneEvaluation evaluation = evaluationOf(results[i]);
      evaluation.timestamp = utcTimestamp();
      result.evaluations.push_back(std::move(evaluation));
      defaultSamples.push_back(reference);
    }
  }
  result.ingest = counts;

  result.best.reset();
  for (std::size_t i = 0; i < result.evaluations.size(); ++i) {
    const TuneEvaluation& e = result.evaluations[i];
    if (e.status != MeasureStatus::kOk || !e.median) continue;
    if (!result.best || *e.median < *result.evaluations[*result.best].median) result.best = i;
  }
  if (result.best && *result.best != 0 && !defaultSamples[*result.best].empty()) {
    ComparisonSettings settings;
    settings.seed = options.seed;
    result.bestAgainstDefault =
        compareSamples(defaultSamples[*result.best], result.evaluations[*result.best].samples, settings);
  }
  if (!result.evaluations.empty()) {
    auto cache = sessionCache(options, spec, result.device);
    if (!cache) return cache.error();
    if (Status written = writeSessionFiles(result, options, *cache); !written) return written.error();
  }
  result.wallSeconds = secondsSince(started);
  return result;
}

namespace {

/// The spec, its candidates and where its default is: what export and ingest share.
struct KernelSession {
  TuneSpec spec;
  IndexedSpace space;
};

Expected<KernelSession> kernelSession(TuneSpec spec, const char* what) {
  if (!spec.kernel || spec.kernel->language != "OpenCL") {
    return makeError(ErrorCode::kUsage, "{}: {} takes an OpenCL kernel spec", spec.file.string(), what);
  }
  auto indexed = indexSpace(spec);
  if (!indexed) return indexed.error();
  return KernelSession{std::move(spec), std::move(*indexed)};
}

/// The measurement inputs of configurations (the default first), as export writes them and ingest reads them.
Expected<std::vector<MeasureInput>> exportInputs(const KernelSession& session,
                                                 const std::vector<std::size_t>& picks) {
  std::vector<MeasureInput> batch;
  for (std::size_t index : picks) {
    const Configuration& configuration = session.space.candidates.configurations[index];
    auto plan = buildRunPlan(session.spec, configuration);
    if (!plan) return plan.error();
    OpenClRunRequest request;
    request.plan = std::move(*plan);
    request.timeoutSeconds = session.spec.settings.timeoutSeconds;
    MeasureInput input;
    input.configuration = configuration;
    input.plan = std::move(request);
    input.workload = session.spec.kernel->kernelFile;
    batch.push_back(std::move(input));
  }
  return batch;
}


}  // namespace

Expected<std::size_t> exportTuneSession(const TuneSessionOptions& options, const fs::path& folder) {
  auto spec = readTuneSpec(options.specFile);
  if (!spec) return spec.error();
  if (spec->application) return exportApplicationSession(*spec, options, folder);
  if (spec->kernel->language == "CUDA") return exportCudaTuneSession(*spec, options, folder);
  if (options.strategy != StrategyKind::kExhaustive && options.strategy != StrategyKind::kRandom) {
    return makeError(ErrorCode::kUsage, "--export takes --strategy exhaustive or random: the {} strategy chooses "
                     "each configuration from the results before it", tuneStrategyName(options.strategy));
  }
  auto session = kernelSession(std::move(*spec), "--export");
  if (!session) return session.error();
  const StrategyOptions strategyOptions = strategyOptionsFor(options, session->space.candidates.size());
  auto strategy = makeStrategy(session->space.candidates, strategyOptions);
  if (!strategy) return strategy.error();
  std::vector<std::size_t> picks = {session->space.defaultIndex};
  auto more = (*strategy)->propose({{session->space.defaultIndex, std::nullopt}}, strategyOptions.budget - 1);
  if (!more) return more.error();
  picks.insert(picks.end(), more->begin(), more->end());
  auto batch = exportInputs(*session, picks);
  if (!batch) return batch.error();
  auto digest = specDigest(session->spec);
  if (!digest) return digest.error();

  OpenClRecorder unused;  // exporting records nothing
  OpenClMeasurerOptions measurerOptions;
  measurerOptions.runner = options.runner;
  measurerOptions.task = "tune";
  measurerOptions.basis = TimeBasis::kKernel;
  OpenClMeasurer measurer(unused, measurerOptions);
  if (Status written = measurer.exportBatch(*batch, folder); !written) return written.error();
  nlohmann::json configurations = nlohmann::json::array();
  for (const MeasureInput& input : *batch) configurations.push_back(input.configuration);
  const nlohmann::json index = {{"spec", session->spec.file.string()},
                                {"spec_sha256", *digest},
                                {"strategy", tuneStrategyName(options.strategy)},
                                {"seed", options.seed},
                                {"configurations", configurations}};
  if (Status written = writeFileAtomically(folder / "tune.json", index.dump(2) + "\n"); !written) {
    return written.error();
  }
  return picks.size();
}

Expected<TuneSessionResult> ingestTuneSession(const TuneSessionOptions& options, const fs::path& folder) {
  const Clock::time_point started = Clock::now();
  auto spec = readTuneSpec(options.specFile);
  if (!spec) return spec.error();
  if (spec->application) return ingestApplicationSession(*spec, options, folder);
  if (spec->kernel->language == "CUDA") return ingestCudaTuneSession(*spec, options, folder);
  auto session = kernelSession(std::move(*spec), "--ingest");
  if (!session) return session.error();
  const fs::path indexFile = folder / "tune.json";
  auto indexText = readFile(indexFile);
  if (!indexText) return indexText.error();
  const nlohmann::json index = nlohmann::json::parse(*indexText, nullptr, false);
  if (!index.is_object() || !index.contains("configurations") || !index["configurations"].is_array() ||
      !index.contains("spec_sha256") || !index["spec_sha256"].is_string()) {
    return makeError(ErrorCode::kInvalidInput, "{}: not a folder written by `mirtune tune --export`",
                     indexFile.string());
  }
  auto digest = specDigest(session->spec);
  if (!digest) return digest.error();
  if (index["spec_sha256"].get<std::string>() != *digest) {
    return makeError(ErrorCode::kInvalidInput, "{}: exported from another version of {} or its kernel",
                     indexFile.string(), session->spec.file.string());
  }
  std::vector<std::size_t> picks;
  for (std::size_t i = 0; i < index["configurations"].size(); ++i) {
    const nlohmann::json& configuration = index["configurations"][i];
    auto found = configuration.is_object() ? session->space.indexOfHash.find(configurationHash(configuration))
                                           : session->space.indexOfHash.end();
    if (found == session->space.indexOfHash.end()) {
      return makeError(ErrorCode::kInvalidInput, "{}: configurations[{}] is not in the space of {}",
                       indexFile.string(), i, session->spec.file.string());
    }
    if ((i == 0) != (found->second == session->space.defaultIndex) ||
        std::find(picks.begin(), picks.end(), found->second) != picks.end()) {
      return makeError(ErrorCode::kInvalidInput, "{}: configurations[{}]: the default must come first, and "
                       "nothing twice", indexFile.string(), i);
    }
    picks.push_back(found->second);
  }
  if (picks.empty()) return makeError(ErrorCode::kInvalidInput, "{}: no configurations", indexFile.string());
  auto batch = exportInputs(*session, picks);
  if (!batch) return batch.error();

  OpenClMeasurerOptions measurerOptions;
  measurerOptions.runner = options.runner;
  measurerOptions.task = "tune";
  measurerOptions.basis = TimeBasis::kKernel;
  measurerOptions.nameSources = true;
  OpenClRecorder recorder;
  // Every result read and checked before the database is opened: a damaged folder stores nothing.
  auto exported = OpenClMeasurer(recorder, measurerOptions).readExported(*batch, folder);
  if (!exported) return exported.error();

  TuneSessionResult result;
  result.name = session->spec.name;
  result.strategy = index.value("strategy", "");
  result.spaceSize = session->space.candidates.size();
  result.budget = picks.size();
  result.stoppedBy = picks.size() >= session->space.candidates.size() ? "space" : "budget";
  result.ingested = folder;
  IngestCounts counts;
  counts.planFolders = exported->items.size();
  counts.notYet = exported->notMeasured();
  const ExportedItem& defaultItem = exported->items.front();
  if (!defaultItem.machine) {
    logWarn(
        "{}: the default configuration's plan folder {} has no results yet; the others are checked against "
        "its outputs, so nothing is stored before it is measured",
        folder.string(), defaultItem.folder);
    result.device = "-";
    result.ingest = counts;
    result.wallSeconds = secondsSince(started);
    return result;
  }

  // The session's device in each plan folder: options.device, else the first GPU, else the first device of
  // the machine that measured it. Outputs are checked against the default's on its own session device.
  const auto devicesOf = [](const ExportedItem& item) {
    std::vector<OpenClDevice> devices;
    for (const DeviceRunResult& device : item.devices) devices.push_back(openClDeviceOf(device));
    return devices;
  };
  std::vector<std::optional<std::size_t>> columns(batch->size());
  std::optional<OpenClDevice> device;
  for (std::size_t i = 0; i < batch->size(); ++i) {
    const ExportedItem& item = exported->items[i];
    if (!item.machine) continue;
    const std::vector<OpenClDevice> devices = devicesOf(item);
    if (devices.empty()) {
      return makeError(ErrorCode::kInvalidInput, "{}: measured on no device",
                       (folder / item.folder).string());
    }
    auto chosen = chooseDevice(devices, options.device);
    if (!chosen) return chosen.error();
    std::size_t column = 0;
    while (column < devices.size() && (devices[column].platformIndex != chosen->platformIndex ||
                                       devices[column].deviceIndex != chosen->deviceIndex)) {
      ++column;
    }
    columns[i] = column;
    if (i == 0) device = *chosen;
  }

  const nlohmann::json sessionOptions = {{"spec", session->spec.file.string()},
                                         {"ingested", fs::absolute(folder).string()},
                                         {"strategy", index.value("strategy", "")}};
  if (Status opened = recorder.openForIngest(options.databasePath, options.commandLine, sessionOptions);
      !opened) {
    return opened.error();
  }
  OpenClMeasurer measurer(recorder, measurerOptions);
  result.device = deviceLabel(*device);
  std::optional<Outputs> reference;
  for (std::size_t i = 0; i < batch->size(); ++i) {
    const ExportedItem& item = exported->items[i];
    if (!columns[i]) continue;
    DeviceRunResult outcome = item.devices[*columns[i]];
    const Clock::time_point checkStart = Clock::now();
    if (i == 0 && outcome.status == MeasureStatus::kOk) {
      auto outputs = readOutputs(outcome);
      if (!outputs) {
        (void)recorder.end();
        return outputs.error();
      }
      reference = std::move(*outputs);
    } else if (outcome.status == MeasureStatus::kOk && reference) {
      checkDeviceOutputs(outcome, std::get<OpenClRunRequest>((*batch)[i].plan).plan, *reference,
                         session->spec.settings.tolerance, "the default configuration's output");
    }
    const double validation = secondsSince(checkStart);
    if (Status used = recorder.usePlatform(item.machine->platform); !used) {
      (void)recorder.end();
      return used.error();
    }
    recorder.setIngestPlace(exported->exportId, item.folder);
    MeasureResult stored = measurer.store(i, (*batch)[i], outcome);
    TuneEvaluation evaluation;
    evaluation.configuration = (*batch)[i].configuration;
    takeOutcome(evaluation, stored);
    evaluation.compileSeconds = outcome.buildSeconds;
    evaluation.validationSeconds = validation;
    evaluation.timestamp = utcTimestamp();
    result.evaluations.push_back(std::move(evaluation));
  }
  if (!recorder.end()) {
    return makeError(ErrorCode::kDatabase, "{}: some results could not be stored (see the log)",
                     options.databasePath.string());
  }
  // The session of the default's machine, else the first one this ingest began (0: nothing new was stored).
  for (const OpenClRecorder::PlatformSession& platform : recorder.platforms()) {
    if (platform.sessionId == 0) continue;
    if (result.sessionId == 0 || platform.fingerprint == defaultItem.machine->platform.fingerprint) {
      result.sessionId = platform.sessionId;
    }
  }
  counts.stored = recorder.storedNew();
  counts.alreadyStored = recorder.alreadyStored();
  result.ingest = counts;
  chooseBest(result, options.seed);
  if (!options.cacheFile.empty()) {
    auto cache = openCache(options.cacheFile, options.resume, session->spec, device->name);
    if (!cache) return cache.error();
    upsertCacheRecords(*cache, result.evaluations);
    if (Status written = writeKernelTunerCache(*cache, options.cacheFile); !written) return written.error();
  }
  if (!options.t4File.empty()) {
    if (Status written = writeFileAtomically(options.t4File, t4Results(result).dump(2) + "\n"); !written) {
      return written.error();
    }
  }
  result.wallSeconds = secondsSince(started);
  return result;
}

Expected<TuneSessionResult> runTuneSession(const TuneSessionOptions& options) {
  const Clock::time_point started = Clock::now();
  auto spec = readTuneSpec(options.specFile);
  if (!spec) return spec.error();
  if (spec->application) return runApplicationSession(*spec, options);
  if (spec->kernel->language == "CUDA") return runCudaTuneSession(*spec, options);
  auto indexed = indexSpace(*spec);
  if (!indexed) return indexed.error();
  const CandidateSet& candidates = indexed->candidates;
  const std::map<std::string, std::size_t>& indexOfHash = indexed->indexOfHash;
  const std::size_t defaultIndex = indexed->defaultIndex;

  auto devices = localOpenClDevices(options.runner);
  if (!devices) return devices.error();
  auto device = chooseDevice(*devices, options.device);
  if (!device) return device.error();

  auto cache = openCache(options.cacheFile, options.resume, *spec, device->name);
  if (!cache) return cache.error();

  const nlohmann::json sessionOptions = {{"spec", spec->file.string()},
                                         {"strategy", tuneStrategyName(options.strategy)},
                                         {"budget", options.budget},
                                         {"time_limit_s", options.timeLimitSeconds},
                                         {"seed", options.seed},
                                         {"device", fmt::format("{}:{}", device->platformIndex, device->deviceIndex)}};
  OpenClRecorder recorder;
  if (Status opened = recorder.open(options.databasePath, options.commandLine, sessionOptions, {}); !opened) {
    return opened.error();
  }
  auto workload = recorder.workload(spec->kernel->kernelFile);
  if (!workload) {
    (void)recorder.end();
    return makeError(ErrorCode::kDatabase, "{}: cannot record the kernel's workload", options.databasePath.string());
  }

  std::optional<TransferData> transfer;
  if (options.strategy == StrategyKind::kTransfer) {
    auto loaded = loadTransferData(recorder.database(), recorder.platformId(), spec->kernel->kernelFile,
                                   options.encoderModel);
    if (!loaded) {
      (void)recorder.end();
      return loaded.error();
    }
    if (loaded->sessions.empty()) {
      logWarn("transfer: no earlier session of another kernel on this platform; the search learns from this "
                 "session alone");
    }
    transfer = std::move(*loaded);
  }
  const StrategyOptions strategyOptions =
      strategyOptionsFor(options, candidates.size(), transfer ? &*transfer : nullptr);
  auto strategy = makeStrategy(candidates, strategyOptions);
  if (!strategy) {
    (void)recorder.end();
    return strategy.error();
  }

  const fs::path workDirectory =
      !options.workDirectory.empty()
          ? options.workDirectory
          : options.databasePath.parent_path() / "tune" /
                sha256Hex(fs::absolute(spec->file).string() + "\n" + deviceLabel(*device)).substr(0, 16);

  TuneSessionResult result;
  result.name = spec->name;
  result.device = deviceLabel(*device);
  result.strategy = std::string(tuneStrategyName(options.strategy));
  result.spaceSize = candidates.size();
  result.budget = strategyOptions.budget;
  result.sessionId = recorder.sessionId();

  OpenClMeasurerOptions measurerOptions;
  measurerOptions.runner = options.runner;
  measurerOptions.devices = {*device};
  measurerOptions.task = "tune";
  measurerOptions.basis = TimeBasis::kKernel;
  measurerOptions.nameSources = true;
  OpenClMeasurer measurer(recorder, measurerOptions);

  std::optional<Outputs> defaultOutputs;
  auto measureOne = [&](std::size_t index, double strategySeconds) -> Expected<TuneEvaluation> {
    TuneEvaluation evaluation;
    evaluation.configuration = candidates.configurations[index];
    evaluation.strategySeconds = strategySeconds;
    evaluation.timestamp = utcTimestamp();
    auto plan = buildRunPlan(*spec, evaluation.configuration);
    if (!plan) {
      // Not a measurement: the spec's own expressions reject this configuration.
      evaluation.status = MeasureStatus::kRunFailed;
      evaluation.message = plan.error().message();
      return evaluation;
    }
    OpenClRunRequest request;
    request.plan = std::move(*plan);
    request.timeoutSeconds = spec->settings.timeoutSeconds;
    request.tolerance = spec->settings.tolerance;
    const bool isDefault = index == defaultIndex;
    if (isDefault) {
      // Kept: the other configurations are checked against these buffers.
      request.workDirectory = workDirectory / "default";
    } else if (defaultOutputs) {
      request.referenceName = "the default configuration's output";
      request.reference = [&defaultOutputs](ReferenceArgs& args) -> Status {
        for (const auto& [i, array] : *defaultOutputs) {
          if (i < args.buffers.size()) args.buffers[i] = array;
        }
        return success();
      };
    }
    MeasureInput input;
    input.configuration = evaluation.configuration;
    input.plan = std::move(request);
    input.workload = spec->kernel->kernelFile;
    const Clock::time_point measureStart = Clock::now();
    auto measured = measurer.measure({input});
    if (!measured) return measured.error();
    if (measured->empty()) return makeError(ErrorCode::kInternal, "the OpenCL backend returned no result");
    MeasureResult& outcome = measured->front();
    takeOutcome(evaluation, outcome);
    const double wall = secondsSince(measureStart);
    if (const auto* deviceResult = std::get_if<DeviceRunResult>(&outcome.detail)) {
      evaluation.compileSeconds = deviceResult->buildSeconds;
      double measuredSeconds = 0;
      for (double s : deviceResult->totalSeconds) measuredSeconds += s;
      evaluation.frameworkSeconds = std::max(0.0, wall - deviceResult->buildSeconds - measuredSeconds);
      if (isDefault && outcome.status == MeasureStatus::kOk) {
        const Clock::time_point readStart = Clock::now();
        auto outputs = readOutputs(*deviceResult);
        if (!outputs) return outputs.error();
        defaultOutputs = std::move(*outputs);
        evaluation.validationSeconds = secondsSince(readStart);
      }
    }
    return evaluation;
  };

  std::vector<Observation> history;
  std::set<std::size_t> evaluated;
  auto keep = [&](std::size_t index, TuneEvaluation evaluation) -> Status {
    history.push_back({index, evaluation.status == MeasureStatus::kOk ? evaluation.median : std::nullopt});
    evaluated.insert(index);
    // The cache file and the T4 file are rewritten after every evaluation, so an interrupted session leaves both.
    if (!evaluation.fromCache) upsertCacheRecords(*cache, {evaluation});
    result.evaluations.push_back(std::move(evaluation));
    if (!options.cacheFile.empty() && !result.evaluations.back().fromCache) {
      if (Status written = writeKernelTunerCache(*cache, options.cacheFile); !written) return written;
    }
    if (!options.t4File.empty()) {
      if (Status written = writeFileAtomically(options.t4File, t4Results(result).dump(2) + "\n"); !written) {
        return written;
      }
    }
    return success();
  };

  const std::size_t budget = result.budget;
  ProgressOptions progressOptions;
  ProgressLine progress(fmt::format("tune {}", spec->name), budget, progressOptions);
  auto note = [&]() -> std::string {
    std::optional<double> best;
    for (const TuneEvaluation& e : result.evaluations) {
      if (e.status == MeasureStatus::kOk && e.median && (!best || *e.median < *best)) best = e.median;
    }
    return best ? "best " + formatSeconds(*best) : std::string("no correct run yet");
  };
  auto finish = [&](Status status) -> Expected<TuneSessionResult> {
    progress.finish();
    const bool stored = recorder.end();
    if (!status) return status.error();
    if (!stored) {
      return makeError(ErrorCode::kDatabase, "{}: some results could not be stored (see the log)",
                       options.databasePath.string());
    }
    result.wallSeconds = secondsSince(started);
    chooseBest(result, options.seed);
    return result;
  };

  // The default first, measured now even when the cache holds it: its outputs are every other run's reference.
  {
    auto evaluation = measureOne(defaultIndex, 0);
    if (!evaluation) return finish(evaluation.error());
    if (evaluation->status != MeasureStatus::kOk) {
      logWarn("{}: the default configuration did not run correctly ({}: {}); outputs are not checked",
                 spec->file.string(), measureStatusName(evaluation->status), evaluation->message);
    }
    if (Status kept = keep(defaultIndex, std::move(*evaluation)); !kept) return finish(kept);
    progress.advance(1, note());
  }
  // What an earlier run of this session measured.
  for (const CacheRecord& record : cache->records) {
    if (result.evaluations.size() >= budget) break;
    auto found = indexOfHash.find(configurationHash(record.configuration));
    if (found == indexOfHash.end() || evaluated.count(found->second) != 0) continue;
    if (Status kept = keep(found->second, evaluationFromCache(record, candidates.configurations[found->second]));
        !kept) {
      return finish(kept);
    }
    ++result.reused;
    progress.advance(1, note());
  }

  result.stoppedBy = "budget";
  while (result.evaluations.size() < budget) {
    if (options.timeLimitSeconds > 0 && secondsSince(started) >= options.timeLimitSeconds) {
      result.stoppedBy = "time";
      break;
    }
    const Clock::time_point proposeStart = Clock::now();
    auto proposal = (*strategy)->propose(history, 1);
    if (!proposal) return finish(proposal.error());
    const double strategySeconds = secondsSince(proposeStart);
    if (proposal->empty() || evaluated.count(proposal->front()) != 0) {
      result.stoppedBy = "space";
      break;
    }
    auto evaluation = measureOne(proposal->front(), strategySeconds);
    if (!evaluation) return finish(evaluation.error());
    if (Status kept = keep(proposal->front(), std::move(*evaluation)); !kept) return finish(kept);
    progress.advance(1, note());
  }
  if (result.evaluations.size() >= candidates.size()) result.stoppedBy = "space";
  return finish(success());
}

}  // namespace mirtune::tune
