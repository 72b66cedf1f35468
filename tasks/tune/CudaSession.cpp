// Live, exported and ingested sessions of a CUDA spec: the harness's nvcc builds and runs as a tuning session
// of the process backend (tuner/TuningSession.h, tuner/ProcessMeasurer.h), with the strategies of
// tasks/tune/Search.h.
#include "tasks/tune/CudaSession.h"

#include "database/Database.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"
#include "tasks/tune/CudaDevices.h"
#include "tasks/tune/CudaHarness.h"
#include "tasks/tune/Search.h"
#include "tasks/tune/SessionResults.h"
#include "tuner/Comparison.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"
#include "tuner/OpenClRun.h"
#include "tuner/ProcessMeasurer.h"
#include "tuner/TuningSession.h"
#include "tuner/runner/ProcessPlan.h"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>

namespace mirtune::tune {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kIndexFile = "tune.json";
constexpr const char* kPlanFolder = "cuda";
constexpr const char* kBuildPlanFile = "build-plan.json";



/// nvcc: the one named, else on PATH, else the toolkit's default place; empty when there is none.
std::string findNvcc(const std::string& named) {
  if (!named.empty()) {
    if (named.find('/') != std::string::npos)
      return ::access(named.c_str(), X_OK) == 0 ? named : std::string();
    return findOnPath(named).empty() ? std::string() : findOnPath(named).string();
  }
  if (!findOnPath("nvcc").empty()) return findOnPath("nvcc").string();
  return ::access("/usr/local/cuda/bin/nvcc", X_OK) == 0 ? "/usr/local/cuda/bin/nvcc" : std::string();
}

/// A CUDA spec with its harness and its valid configurations as the strategies see them.
struct Prepared {
  TuneSpec spec;
  std::shared_ptr<const CudaHarness> harness;
  CandidateSet candidates;
  std::map<std::string, std::size_t> indexOfHash;
  std::size_t defaultIndex = 0;
};

Expected<Prepared> prepare(TuneSpec spec) {
  if (!spec.kernel || spec.kernel->language != "CUDA") {
    return makeError(ErrorCode::kUsage, "{}: not a CUDA kernel spec", spec.file.string());
  }
  auto harness = CudaHarness::generate(spec);
  if (!harness) return harness.error();
  Prepared prepared;
  prepared.harness = std::make_shared<const CudaHarness>(std::move(*harness));
  prepared.candidates = candidateSetFrom(spec.space);
  for (std::size_t i = 0; i < prepared.candidates.size(); ++i) {
    prepared.indexOfHash[configurationHash(prepared.candidates.configurations[i])] = i;
  }
  const auto found = prepared.indexOfHash.find(configurationHash(spec.space.defaultConfiguration()));
  if (found == prepared.indexOfHash.end()) {
    return makeError(ErrorCode::kInvalidInput, "{}: the default configuration violates the conditions",
                     spec.file.string());
  }
  prepared.defaultIndex = found->second;
  prepared.spec = std::move(spec);
  return prepared;
}

/// The session that builds and runs configurations of a prepared spec. Each run is a process of its own,
/// kCudaProcessRuns times (the harness warms up and repeats inside it, as the spec's settings say).
Expected<TuningRequest> cudaRequest(const Prepared& prepared, const CudaBuildOptions& build) {
  const TuneSpec& spec = prepared.spec;
  TuningRequest request;
  request.task = "tune";
  request.command = "tune";
  auto workload = sourceWorkload(spec.kernel->kernelFile);
  if (!workload) return workload.error();
  request.workload = std::move(*workload);
  request.files = prepared.harness->files();
  request.space = &prepared.spec.space;
  std::shared_ptr<const CudaHarness> harness = prepared.harness;
  request.commands = [harness, build](const Configuration& configuration) -> Expected<CandidateCommands> {
    return harness->commands(configuration, build);
  };
  MeasurementSettings settings;
  settings.buildTimeoutSeconds = spec.settings.timeoutSeconds;
  settings.runTimeoutSeconds = spec.settings.timeoutSeconds;
  settings.warmup = 0;
  settings.minTimeSeconds = 0;
  settings.minRepetitions = kCudaProcessRuns;
  settings.maxRepetitions = kCudaProcessRuns;
  settings.timer = "region";
  request.settings = settings;
  request.check = OutputCheck::kSelfCheckOrDigest;
  request.options = {{"spec", spec.file.string()}, {"language", "CUDA"},
                     {"nvcc", build.nvcc},         {"cuda_arch", build.arch},
                     {"device", build.device},     {"settings", settingsJson(settings)}};
  return request;
}





/// Carries out the builds of an exported plan folder here, into its bin/ and results-1.jsonl (the runner on
/// the GPU machine resumes after them). Returns how many builds failed.
Expected<std::size_t> buildHere(const fs::path& item, const fs::path& runner) {
  auto planText = readFile(item / "plan-1.json");
  if (!planText) return planText.error();
  nlohmann::json plan = nlohmann::json::parse(*planText, nullptr, false);
  if (!plan.is_object())
    return makeError(ErrorCode::kInternal, "{}: not a plan", (item / "plan-1.json").string());
  plan["runs"] = nlohmann::json::array();
  const fs::path buildPlan = item / kBuildPlanFile;
  if (Status written = writeFileAtomically(buildPlan, plan.dump(2) + "\n"); !written) return written.error();
  SubprocessOptions build;
  build.argv = {runner.string(),    "process",   "--plan",
                buildPlan.string(), "--results", (item / "results-1.jsonl").string()};
  auto outcome = runSubprocess(build);
  std::error_code ignored;
  fs::remove(buildPlan, ignored);
  if (!outcome) return outcome.error();
  // 0: every build is ok, 1: some failed (recorded), anything else: the runner could not work.
  if (outcome->exitCode != 0 && outcome->exitCode != 1) {
    return makeError(ErrorCode::kInternal, "{} process (builds of {}): {}: {}", runner.string(),
                     item.string(), outcome->describe(), outcome->standardError);
  }
  std::vector<runner::ProcessResult> lines;
  std::string error;
  if (!runner::readProcessResults((item / "results-1.jsonl").string(), lines, error)) {
    return makeError(ErrorCode::kInternal, "{}", error);
  }
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [](const runner::ProcessResult& line) {
        return line.kind == runner::ProcessItemKind::kBuild && line.status != MeasureStatus::kOk;
      }));
}

/// How long each configuration's build took, by its output folder (the run's first argument), from the plans
/// and results of a session's or an export's folder; configurations without a build line are left out.
std::map<std::string, double> buildSeconds(const fs::path& folder) {
  std::map<std::string, double> seconds;
  for (int round = 1;; ++round) {
    runner::ProcessPlan plan;
    std::vector<runner::ProcessResult> lines;
    std::string error;
    if (!runner::readProcessPlan((folder / fmt::format("plan-{}.json", round)).string(), plan, error) ||
        !runner::readProcessResults((folder / fmt::format("results-{}.jsonl", round)).string(), lines,
                                    error)) {
      return seconds;
    }
    std::map<std::string, double> byBuild;
    for (const runner::ProcessResult& line : lines) {
      if (line.kind == runner::ProcessItemKind::kBuild) byBuild[line.id] = line.seconds;
    }
    for (const runner::ProcessRun& run : plan.runs) {
      const auto found = byBuild.find(run.build);
      if (found != byBuild.end() && run.argv.size() >= 2) seconds[run.argv[1]] = found->second;
    }
  }
}

void addBuildSeconds(TuneSessionResult& result, const fs::path& folder) {
  const std::map<std::string, double> seconds = buildSeconds(folder);
  for (TuneEvaluation& evaluation : result.evaluations) {
    const auto found = seconds.find(CudaHarness::outputFolder(evaluation.configuration));
    if (found != seconds.end()) evaluation.compileSeconds = found->second;
  }
}

/// Compares again, here, the outputs of every run its harness judged correct with the default's files.
Status verifyOutputs(const fs::path& item, const Prepared& prepared) {
  runner::ProcessPlan plan;
  std::string error;
  if (!runner::readProcessPlan((item / "plan-1.json").string(), plan, error)) {
    return Error(ErrorCode::kInvalidInput, error);
  }
  std::map<std::string, std::vector<std::string>> argvOf;
  for (const runner::ProcessRun& run : plan.runs) argvOf[run.id] = run.argv;
  std::vector<runner::ProcessResult> lines;
  if (!runner::readProcessResults((item / "results-1.jsonl").string(), lines, error)) {
    return Error(ErrorCode::kInvalidInput, error);
  }
  const std::string defaultFolder =
      CudaHarness::outputFolder(prepared.candidates.configurations[prepared.defaultIndex]);
  const auto readArray = [&](const std::string& folder, const std::string& file,
                             runner::HostArray& array) -> Status {
    const fs::path path = item / folder / file;
    std::string why;
    if (!runner::readNpy(path.string(), array, why)) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: {} (bring the plan folder back whole, with its {} folder); nothing was stored",
                       path.string(), why, kCudaOutputsFolder);
    }
    return success();
  };
  for (const runner::ProcessResult& line : lines) {
    if (line.kind != runner::ProcessItemKind::kRun || line.status != MeasureStatus::kOk) continue;
    const auto argv = argvOf.find(line.id);
    if (argv == argvOf.end() || argv->second.size() < 2) continue;
    const std::string& own = argv->second[1];
    const bool isDefault = own == defaultFolder;
    if (!isDefault && line.selfCheck != runner::SelfCheck::kOk) continue;
    for (const std::string& file : prepared.harness->outputFiles()) {
      runner::HostArray actual;
      if (Status read = readArray(own, file, actual); !read) return read;
      if (isDefault) continue;
      runner::HostArray expected;
      if (Status read = readArray(defaultFolder, file, expected); !read) return read;
      if (auto differs = compareBuffers(actual, expected, prepared.spec.settings.tolerance, file)) {
        return makeError(ErrorCode::kInvalidInput,
                         "{}: the run '{}' was judged correct where it ran, but its output differs from the "
                         "default's here: {}; nothing was stored",
                         (item / own / file).string(), line.id, *differs);
      }
    }
  }
  return success();
}

}  // namespace

Expected<TuneSessionResult> runCudaTuneSession(const TuneSpec& specIn, const TuneSessionOptions& options) {
  const Clock::time_point started = Clock::now();
  if (options.strategy == StrategyKind::kTransfer) {
    return makeError(ErrorCode::kUsage,
                     "{}: --strategy transfer is for OpenCL kernel specs (it reads earlier sessions' embedded "
                     "OpenCL kernels)",
                     specIn.file.string());
  }
  auto devices = localCudaDevices();
  if (!devices) {
    return makeError(
        ErrorCode::kNotFound,
        "{}: no CUDA device here ({}); measure it on a GPU machine: `mirtune "
        "tune {} --export DIR` here, `sh DIR/run-all.sh mirtune-run` there, then `--ingest DIR` here",
        specIn.file.string(), devices.error().message(), specIn.file.string());
  }
  std::size_t chosen = 0;
  if (!options.device.empty()) {
    const bool digits = std::all_of(options.device.begin(), options.device.end(), ::isdigit);
    if (!digits || options.device.size() > 6 || std::stoul(options.device) >= devices->size()) {
      return makeError(ErrorCode::kUsage,
                       "--device {}: a CUDA spec takes the ordinal of one of this machine's {} "
                       "CUDA devices (0 to {})",
                       options.device, devices->size(), devices->size() - 1);
    }
    chosen = std::stoul(options.device);
  }
  const CudaDevice& device = (*devices)[chosen];
  const std::string nvcc = findNvcc(options.nvcc);
  if (nvcc.empty()) {
    return makeError(ErrorCode::kNotFound, "{}: no nvcc here ({}); name one with --nvcc",
                     specIn.file.string(),
                     options.nvcc.empty() ? "not on PATH nor in /usr/local/cuda/bin" : options.nvcc);
  }
  auto prepared = prepare(specIn);
  if (!prepared) return prepared.error();
  const TuneSpec& spec = prepared->spec;
  CudaBuildOptions build;
  build.nvcc = nvcc;
  build.arch = options.cudaArch.empty() ? device.arch() : options.cudaArch;
  build.device = options.device;

  StrategyOptions strategyOptions;
  strategyOptions.kind = options.strategy;
  strategyOptions.seed = options.seed;
  const std::size_t spaceSize = prepared->candidates.size();
  strategyOptions.budget = options.budget == 0 ? spaceSize : std::min(options.budget, spaceSize);
  auto strategy = makeStrategy(prepared->candidates, strategyOptions);
  if (!strategy) return strategy.error();

  auto database = Database::open(options.databasePath);
  if (!database) return database.error();
  auto machine = probeMachine(*database);
  if (!machine) return machine.error();

  auto request = cudaRequest(*prepared, build);
  if (!request) return request.error();
  request->command = options.commandLine.empty() ? "tune" : options.commandLine;
  request->options["strategy"] = tuneStrategyName(options.strategy);
  request->options["budget"] = strategyOptions.budget;
  request->options["seed"] = options.seed;
  request->seed = static_cast<std::int64_t>(options.seed);
  request->workDirectory = options.workDirectory;
  request->resume = options.resume;
  request->showProgress = options.showProgress;
  std::string stoppedBy = "budget";
  std::vector<double> strategySeconds;
  request->planner =
      [&](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    if (done.size() >= strategyOptions.budget) return std::vector<Configuration>{};
    if (options.timeLimitSeconds > 0 && secondsSince(started) >= options.timeLimitSeconds) {
      stoppedBy = "time";
      return std::vector<Configuration>{};
    }
    std::vector<Observation> history;
    for (const TunedConfiguration& tuned : done) {
      auto found = prepared->indexOfHash.find(configurationHash(tuned.configuration));
      if (found == prepared->indexOfHash.end()) continue;
      history.push_back({found->second, tuned.status == MeasureStatus::kOk ? tuned.median : std::nullopt});
    }
    const Clock::time_point proposeStart = Clock::now();
    auto proposal = (*strategy)->propose(history, 1);
    if (!proposal) return proposal.error();
    strategySeconds.push_back(secondsSince(proposeStart));
    if (proposal->empty()) {
      stoppedBy = "space";
      return std::vector<Configuration>{};
    }
    return std::vector<Configuration>{prepared->candidates.configurations[proposal->front()]};
  };
  auto session =
      runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request, options.runner);
  if (!session) return session.error();

  TuneSessionResult result;
  result.name = spec.name;
  result.device = fmt::format("CUDA {} {} ({})", device.index, device.name, build.arch);
  result.strategy = std::string(tuneStrategyName(options.strategy));
  result.spaceSize = spaceSize;
  result.budget = strategyOptions.budget;
  result.sessionId = session->sessionId;
  result.reused = session->reusedResults;
  result.stoppedBy = session->results.size() >= spaceSize ? "space" : stoppedBy;
  for (std::size_t i = 0; i < session->results.size(); ++i) {
    TuneEvaluation evaluation = evaluationOf(session->results[i]);
    evaluation.timestamp = utcTimestamp();
    if (i > 0 && i - 1 < strategySeconds.size()) evaluation.strategySeconds = strategySeconds[i - 1];
    result.evaluations.push_back(std::move(evaluation));
  }
  addBuildSeconds(result, session->workDirectory);
  chooseBest(result, options.seed);
  result.wallSeconds = secondsSince(started);
  // T4 and, with --cache, Kernel Tuner's cache file (a resume continues it from the database's results).
  auto cache = sessionCache(options, spec, result.device);
  if (!cache) return cache.error();
  if (Status written = writeSessionFiles(result, options, *cache); !written) return written.error();
  return result;
}

Expected<std::size_t> exportCudaTuneSession(const TuneSpec& specIn, const TuneSessionOptions& options,
                                            const fs::path& folder) {
  if (options.strategy != StrategyKind::kExhaustive && options.strategy != StrategyKind::kRandom) {
    return makeError(ErrorCode::kUsage,
                     "--export takes --strategy exhaustive or random: the {} strategy chooses "
                     "each configuration from the results before it",
                     tuneStrategyName(options.strategy));
  }
  std::error_code error;
  if (fs::exists(folder, error) && !fs::is_empty(folder, error)) {
    return makeError(ErrorCode::kUsage, "--export {}: the folder exists and is not empty; name a new one",
                     folder.string());
  }
  auto prepared = prepare(specIn);
  if (!prepared) return prepared.error();
  StrategyOptions strategyOptions;
  strategyOptions.kind = options.strategy;
  strategyOptions.seed = options.seed;
  const std::size_t spaceSize = prepared->candidates.size();
  strategyOptions.budget = options.budget == 0 ? spaceSize : std::min(options.budget, spaceSize);
  auto strategy = makeStrategy(prepared->candidates, strategyOptions);
  if (!strategy) return strategy.error();
  std::vector<std::size_t> picks = {prepared->defaultIndex};
  auto more = (*strategy)->propose({{prepared->defaultIndex, std::nullopt}}, strategyOptions.budget - 1);
  if (!more) return more.error();
  picks.insert(picks.end(), more->begin(), more->end());
  std::vector<Configuration> candidates;
  for (std::size_t index : picks) candidates.push_back(prepared->candidates.configurations[index]);

  // Built here when nvcc is: compile failures are known before the GPU machine is used, and it only runs.
  const std::string nvccHere = findNvcc(options.nvcc);
  const bool builtHere = !nvccHere.empty();
  CudaBuildOptions build;
  build.nvcc = builtHere ? nvccHere : (options.nvcc.empty() ? "nvcc" : options.nvcc);
  build.arch = options.cudaArch.empty() ? kDefaultCudaExportArch : options.cudaArch;
  auto request = cudaRequest(*prepared, build);
  if (!request) return request.error();
  const fs::path item = folder / kPlanFolder;
  if (Status written = exportTuningPlan(*request, candidates, item); !written) return written.error();
  std::size_t failedBuilds = 0;
  if (builtHere) {
    logInfo("{}: building {} configurations with {} for {}", item.string(), candidates.size(), nvccHere,
            build.arch);
    auto failed = buildHere(item, options.runner);
    if (!failed) return failed.error();
    failedBuilds = *failed;
    if (failedBuilds > 0) {
      logWarn("{}: {} of {} configurations do not compile (recorded; see {}/results-1.jsonl)", item.string(),
              failedBuilds, candidates.size(), item.string());
    }
  } else {
    logWarn("no nvcc here: {} keeps the sources and nvcc commands, and the GPU machine builds them",
            item.string());
  }
  auto digest = specDigest(prepared->spec);
  if (!digest) return digest.error();
  nlohmann::json configurations = nlohmann::json::array();
  for (const Configuration& configuration : candidates) configurations.push_back(configuration);
  const nlohmann::json index = {{"spec", prepared->spec.file.string()},
                                {"spec_sha256", *digest},
                                {"language", "CUDA"},
                                {"strategy", tuneStrategyName(options.strategy)},
                                {"seed", options.seed},
                                {"nvcc", build.nvcc},
                                {"cuda_arch", build.arch},
                                {"built_here", builtHere},
                                {"failed_builds", failedBuilds},
                                {"configurations", configurations},
                                {"items", nlohmann::json::array({nlohmann::json{{"folder", kPlanFolder}}})}};
  if (auto identity = writeExportId(folder); !identity) return identity.error();
  if (Status written = writeFileAtomically(folder / kIndexFile, index.dump(2) + "\n"); !written) {
    return written.error();
  }
  const std::string ingest = fmt::format("mirtune tune {} --ingest", prepared->spec.file.string());
  if (Status written = writeFileAtomically(folder / "run-all.sh", exportRunAllScript(ingest, true));
      !written) {
    return written.error();
  }
  return picks.size();
}

Expected<TuneSessionResult> ingestCudaTuneSession(const TuneSpec& specIn, const TuneSessionOptions& options,
                                                  const fs::path& folder) {
  const Clock::time_point started = Clock::now();
  auto prepared = prepare(specIn);
  if (!prepared) return prepared.error();
  const fs::path indexFile = folder / kIndexFile;
  auto index = readExportIndex(indexFile);
  if (!index) return index.error();
  if (index->value("language", "") != "CUDA") {
    return makeError(ErrorCode::kInvalidInput, "{}: not a folder of `mirtune tune CUDA_SPEC --export`",
                     indexFile.string());
  }
  auto digest = specDigest(prepared->spec);
  if (!digest) return digest.error();
  if (index->value("spec_sha256", "") != *digest) {
    return makeError(ErrorCode::kInvalidInput, "{}: exported from another version of {} or its kernel",
                     indexFile.string(), prepared->spec.file.string());
  }
  CudaBuildOptions build;
  auto nvcc = indexString(*index, "nvcc", indexFile, "nvcc");
  if (!nvcc) return nvcc.error();
  auto arch = indexString(*index, "cuda_arch", indexFile, "cuda_arch");
  if (!arch) return arch.error();
  build.nvcc = *nvcc;
  build.arch = *arch;
  auto request = cudaRequest(*prepared, build);
  if (!request) return request.error();
  const nlohmann::json& items = (*index)["items"];
  if (items.size() != 1) {
    return makeError(ErrorCode::kInvalidInput, "{}: 'items' must name the one plan folder",
                     indexFile.string());
  }
  auto folderName = indexString(items[0], "folder", indexFile, "items[0].folder");
  if (!folderName) return folderName.error();
  auto item = pathInsideFolder(folder, *folderName, indexFile, "items[0].folder");
  if (!item) return item.error();
  auto campaign = exportId(folder, indexFile);
  if (!campaign) return campaign.error();

  TuneSessionResult result;
  result.name = prepared->spec.name;
  result.strategy = index->value("strategy", "");
  result.spaceSize = prepared->candidates.size();
  result.ingested = folder;
  IngestCounts counts;
  counts.planFolders = 1;
  if (Status checked = checkTuningResults(*request, *item); !checked) {
    if (checked.error().code() != ErrorCode::kNotFound) return checked.error();
    logWarn("{}", checked.error().message());
    counts.notYet = 1;
    result.device = "-";
    result.ingest = counts;
    result.wallSeconds = secondsSince(started);
    return result;
  }
  if (Status verified = verifyOutputs(*item, *prepared); !verified) return verified.error();
  ExportedMachines machines(folder);
  auto platform = machines.platformFor(*item);
  if (!platform) return platform.error();
  auto database = Database::open(options.databasePath);
  if (!database) return database.error();
  auto platformId = database->upsertPlatform(**platform);
  if (!platformId) return platformId.error();
  auto ingested = ingestPlanFolder(*database, *platformId, *request, *item, {*campaign, *folderName});
  if (!ingested) return ingested.error();
  counts.stored = ingested->stored;
  counts.alreadyStored = ingested->alreadyStored;
  counts.missingConfigurations = ingested->missing;
  result.ingest = counts;
  result.sessionId = ingested->tuning.sessionId;
  const nlohmann::json& gpus = (*platform)->gpu;
  result.device = gpus.is_array() && !gpus.empty() && gpus[0].is_object()
                      ? fmt::format("CUDA {} ({})", gpus[0].value("name", "?"), *arch)
                      : fmt::format("CUDA on {} ({})", (*platform)->cpuModel, *arch);
  for (const TunedConfiguration& tuned : ingested->tuning.results) {
    result.evaluations.push_back(evaluationOf(tuned));
    result.evaluations.back().timestamp = utcTimestamp();
  }
  result.budget = result.evaluations.size();
  result.stoppedBy = result.evaluations.size() >= result.spaceSize ? "space" : "budget";
  addBuildSeconds(result, *item);
  chooseBest(result, options.seed);
  result.wallSeconds = secondsSince(started);
  // T4 and, with --cache, Kernel Tuner's cache file (a resume continues it from the database's results).
  auto cache = sessionCache(options, prepared->spec, result.device);
  if (!cache) return cache.error();
  if (Status written = writeSessionFiles(result, options, *cache); !written) return written.error();
  return result;
}

}  // namespace mirtune::tune
