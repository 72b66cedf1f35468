// CUDA programs measured at factor 1 and at every factor the transform accepts, through a tuning session:
// nvcc builds one binary per factor (the program launches the kernel its MIRTUNE_KERNEL/MIRTUNE_CF macros
// name, kernels/cuda/mirtune_cuda.h), the program's `mirtune-check` line judges each run and its
// `mirtune-region-seconds` line (CUDA events) times it. Here, exported, or ingested back.
#include "tasks/coarsen/CudaWorkflow.h"

#include "frontend/Coarsening.h"
#include "frontend/IrModule.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Subprocess.h"
#include "tasks/coarsen/CoarsenRuns.h"
#include "tasks/coarsen/LocalCoarsen.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/KernelSources.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"
#include "tuner/OpenClMeasurer.h"
#include "tuner/Strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>

namespace mirtune::coarsen {

namespace {

namespace fs = std::filesystem;

constexpr unsigned kCudaFactors[] = {1, 2, 4, 8, 16, 32};
constexpr const char* kIndexFile = "coarsen-cuda.json";

/// A CUDA program of the suite's form with every accepted factor's kernel added.
struct CudaProgram {
  fs::path file;
  std::string kernel;    ///< source name
  std::string irKernel;  ///< name in IR (mangled), for the embedding
  /// The program's IR, compiled once to find the kernel; the prediction embeds it (and may consume it).
  std::shared_ptr<IrModule> module;
  std::map<std::string, std::string> files;  ///< the session's files: the new source and its quoted headers
  std::vector<CudaFactor> factors;           ///< factor 1 first, then 2..32 (refused ones included)
};

std::vector<unsigned> acceptedFactors(const CudaProgram& program) {
  std::vector<unsigned> accepted;
  for (const CudaFactor& factor : program.factors) {
    if (factor.refusal.empty()) accepted.push_back(factor.factor);
  }
  return accepted;
}

/// The headers a source includes with quotes that lie beside it (and theirs), by the name it includes them.
void quotedHeaders(const fs::path& folder, const std::string& text,
                   std::map<std::string, std::string>& headers) {
  static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_search(line, match, include)) continue;
    const std::string name = match[1];
    if (headers.count(name) != 0 || fs::path(name).is_absolute()) continue;
    auto content = readFile(folder / name);
    if (!content) continue;  // a system or -I header: the build finds it where it runs
    headers[name] = *content;
    quotedHeaders((folder / name).parent_path(), *content, headers);
  }
}

/// The kernel to coarsen, --kernel (source or IR name) or else the file's only kernel: its source and IR
/// names.
Expected<std::pair<std::string, std::string>> pickKernel(const fs::path& file, const IrModule& module,
                                                         const std::string& wanted) {
  std::vector<std::string> names;
  for (const std::string& kernel : module.kernelNames()) {
    names.push_back(kernelSourceName(kernel));
    if (!wanted.empty() && (kernel == wanted || names.back() == wanted))
      return std::make_pair(names.back(), kernel);
  }
  if (names.empty())
    return makeError(ErrorCode::kInvalidInput, "{}: no __global__ kernel in this file", file.string());
  if (!wanted.empty()) {
    return makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})", file.string(), wanted,
                     fmt::join(names, ", "));
  }
  if (names.size() > 1) {
    return makeError(ErrorCode::kUsage, "{}: {} kernels ({}); name one with --kernel", file.string(),
                     names.size(), fmt::join(names, ", "));
  }
  return std::make_pair(names.front(), module.kernelNames().front());
}

/// Applies the transform for each factor 2..32 in turn, each to the previous output, so one source holds the
/// original kernel and every accepted factor's. Deterministic: --ingest rebuilds the same program.
Expected<CudaProgram> prepareProgram(const fs::path& file, const CudaRunRequest& options,
                                     const CompileOptions& compile, const fs::path& scratch) {
  auto module = compileFile(file, compile);
  if (!module) return module.error();
  auto kernel = pickKernel(file, *module, options.kernel);
  if (!kernel) return kernel.error();
  CudaProgram program;
  program.file = file;
  program.kernel = kernel->first;
  program.irKernel = kernel->second;
  program.module = std::make_shared<IrModule>(std::move(*module));
  auto text = readFile(file);
  if (!text) return text.error();
  // Each build names the kernel to launch through these macros; a program that ignores them would measure the
  // original kernel under every factor.
  if (text->find("MIRTUNE_KERNEL") == std::string::npos ||
      (text->find("mirtuneCoarsenLaunch") == std::string::npos &&
       text->find("MIRTUNE_CF") == std::string::npos)) {
    return makeError(
        ErrorCode::kInvalidInput,
        "{}: the host code must launch MIRTUNE_KERNEL on a launch shrunk by mirtuneCoarsenLaunch (or by "
        "MIRTUNE_CF itself), as the programs of kernels/cuda do; otherwise every factor would run the "
        "original kernel",
        file.string());
  }
  quotedHeaders(file.parent_path(), *text, program.files);
  program.factors.push_back({1, program.kernel, false, {}, {}});

  CoarsenOptions coarsen;
  coarsen.dimension = options.dimension;
  coarsen.mode = *parseCoarsenMode(options.mode);
  coarsen.buildOptions =
      fmt::format("-I{} {}", fs::absolute(file).parent_path().string(), runnerBuildOptions(compile.defines, compile.includeDirectories));
  std::string current = *text;
  for (unsigned factor : kCudaFactors) {
    if (factor == 1) continue;
    const fs::path input = scratch / fmt::format("f{}-{}", factor, file.filename().string());
    if (Status written = writeFileAtomically(input, current); !written) return written.error();
    coarsen.factor = factor;
    auto result = coarsenKernel(input, program.kernel, coarsen);
    if (!result) return result.error().withContext(file.string());
    if (result->refused()) {
      std::string message = result->refusalMessage;
      // The scratch copy's name means nothing to the user: name the file itself.
      if (auto at = message.find(input.string()); at != std::string::npos)
        message.replace(at, input.string().size(), file.string());
      program.factors.push_back(
          {factor, {}, false, std::string(coarsenRefusalName(*result->refusal)), message});
      continue;
    }
    current = result->text;
    program.factors.push_back(
        {factor, result->kernelName, result->scheme == WorkGroupScheme::kSplitWorkGroup, {}, {}});
  }
  program.files[file.filename().string()] = current;
  return program;
}

SearchSpace cudaSpace(const CudaProgram& program) {
  SearchSpace space;
  TunableParameter factor;
  factor.name = "factor";
  for (unsigned value : acceptedFactors(program)) factor.values.push_back(value);
  factor.defaultValue = 1;
  factor.help = "work-items of the original kernel per work-item of the coarsened one";
  (void)space.addParameter(std::move(factor));
  return space;
}

/// nvcc: --nvcc, else on PATH, else the CUDA toolkit's default place (where the platform probe looks too);
/// empty when none is found.
std::string findNvcc(const std::string& option) {
  if (!option.empty()) return option;
  if (!findOnPath("nvcc").empty()) return "nvcc";
  return ::access("/usr/local/cuda/bin/nvcc", X_OK) == 0 ? "/usr/local/cuda/bin/nvcc" : std::string();
}

/// The session that measures `program` (the candidates come from the planner, or from the export's list).
Expected<TuningRequest> cudaRequest(const CudaProgram& program, const SearchSpace& space,
                                    const CudaRunRequest& options, const std::string& nvcc) {
  auto settings = measurementSettings(300, options.timeout, options.minTime, 3, 10);
  if (!settings) return settings.error();
  TuningRequest request;
  request.task = "coarsen";
  request.command = "coarsen --run";
  request.options = {{"kernel", program.kernel},
                     {"dimension", options.dimension},
                     {"mode", options.mode},
                     {"nvcc", nvcc},
                     {"cuda_arch", options.cudaArch},
                     {"defines", options.compile.defines},
                     {"settings", settingsJson(*settings)}};
  auto workload = sourceWorkload(program.file);
  if (!workload) return workload.error();
  request.workload = std::move(*workload);
  request.files = program.files;
  request.space = &space;
  request.settings = *settings;
  request.check = OutputCheck::kSelfCheckOrDigest;
  const std::string source = program.file.filename().string();
  request.commands = [program, options, nvcc,
                      source](const Configuration& configuration) -> Expected<CandidateCommands> {
    const unsigned factor = configuration.at("factor").get<unsigned>();
    auto chosen = std::find_if(program.factors.begin(), program.factors.end(),
                               [&](const CudaFactor& f) { return f.factor == factor && f.refusal.empty(); });
    if (chosen == program.factors.end())
      return makeError(ErrorCode::kInvalidInput, "factor {} was refused", factor);
    CandidateCommands commands;
    commands.buildKey = fmt::format("cf{}", factor);
    commands.buildArgv = {nvcc, "-O2"};
    if (!options.cudaArch.empty()) commands.buildArgv.push_back("-arch=" + options.cudaArch);
    commands.buildArgv.push_back("-I.");
    for (const std::string& define : options.compile.defines) commands.buildArgv.push_back("-D" + define);
    for (const std::string& folder : options.compile.includeDirectories)
      commands.buildArgv.push_back("-I" + folder);
    for (const std::string& define :
         {fmt::format("MIRTUNE_KERNEL={}", chosen->kernel), fmt::format("MIRTUNE_CF={}", factor),
          fmt::format("MIRTUNE_CF_DIM={}", options.dimension),
          fmt::format("MIRTUNE_CF_SPLIT={}", chosen->split ? 1 : 0)}) {
      commands.buildArgv.push_back("-D" + define);
    }
    commands.buildArgv.insert(commands.buildArgv.end(), {"-o", kBinaryPlaceholder, source});
    commands.runArgv = {kBinaryPlaceholder};
    // Modules load when the context starts, not inside the first timed launch.
    commands.runEnvironment["CUDA_MODULE_LOADING"] = "EAGER";
    return commands;
  };
  return request;
}

/// Factor 1, then the predicted factor, then the other accepted ones in order; `budget` besides factor 1.
std::vector<Configuration> plannedOrder(const CudaProgram& program, std::optional<unsigned> predicted,
                                        int budget) {
  std::vector<unsigned> order;
  const std::vector<unsigned> accepted = acceptedFactors(program);
  if (predicted && *predicted != 1 && std::count(accepted.begin(), accepted.end(), *predicted) != 0)
    order.push_back(*predicted);
  for (unsigned factor : accepted) {
    if (factor != 1 && std::find(order.begin(), order.end(), factor) == order.end()) order.push_back(factor);
  }
  if (order.size() > static_cast<std::size_t>(budget)) order.resize(static_cast<std::size_t>(budget));
  std::vector<Configuration> configurations = {Configuration{{"factor", 1}}};
  for (unsigned factor : order) configurations.push_back(Configuration{{"factor", factor}});
  return configurations;
}

/// The predicted factor of each program's kernel (nullopt where there is none), with the heads' id.
struct Predictions {
  std::vector<std::optional<FactorChoice>> choices;
  std::string modelId;
  std::string platform;
};

Predictions predictFactors(const std::vector<CudaProgram>& programs, const CudaRunRequest& options) {
  Predictions predictions;
  predictions.choices.resize(programs.size());
  if (options.platform == kLocalCoarsenPlatform) {
    logWarn("no prediction: local heads are trained for OpenCL devices; measuring the factors in order");
    return predictions;
  }
  CudaRunRequest shipped = options;
  if (shipped.platform == "all") shipped.platform = "kepler";  // the newest NVIDIA GPU of the PACT'14 data
  auto predictor = openPredictor(shipped.platform, shipped.encoder, shipped.heads, shipped.threads);
  if (!predictor) {
    logWarn("no prediction: {}", predictor.error().message());
    return predictions;
  }
  predictions.modelId = (*predictor)->modelId;
  predictions.platform = shipped.platform;
  std::vector<EmbedSource> sources;
  for (const CudaProgram& program : programs) {
    sources.push_back(
        kernelEmbedSource(program.module.get(), program.file.string(), program.irKernel));
  }
  CacheHandle cache;
  if (auto opened = openCache(cache, options.noCache, options.databasePath); !opened)
    logWarn("{}", opened.error().message());
  BatchEmbedOptions batch;
  batch.modalities = {Modality::kFused};
  batch.threads = static_cast<unsigned>(options.threads);
  batch.cache = cache.get();
  auto embedded = embedBatch(*(*predictor)->encoder, sources, batch);
  if (!embedded) {
    logWarn("no prediction: {}", embedded.error().message());
    return predictions;
  }
  for (std::size_t i = 0; i < programs.size(); ++i) {
    const EmbedResult& result = (*embedded)[i];
    if (result.error) {
      logWarn("no prediction for {}: {}", programs[i].file.string(), result.error->message());
      continue;
    }
    if (auto choice = (*predictor)->model.choose(result.vectors.front(), (*predictor)->platform))
      predictions.choices[i] = *choice;
  }
  return predictions;
}

struct Prepared {
  std::vector<CudaProgram> programs;
  std::vector<SearchSpace> spaces;  ///< one per program (requests point at them)
};

Expected<Prepared> prepareAll(const std::vector<std::string>& files, const CudaRunRequest& options,
                              const CompileOptions& compile) {
  char pattern[] = "/tmp/mirtune-coarsen-cuda-XXXXXX";
  const char* made = ::mkdtemp(pattern);
  if (made == nullptr) return Error(ErrorCode::kIo, "cannot make a scratch folder under /tmp");
  const fs::path scratch = made;
  Prepared prepared;
  Status status;
  for (const std::string& file : files) {
    auto program = prepareProgram(file, options, compile, scratch);
    if (!program) {
      status = program.error();
      break;
    }
    prepared.programs.push_back(std::move(*program));
  }
  std::error_code ignored;
  fs::remove_all(scratch, ignored);
  if (!status) return status.error();
  prepared.spaces.reserve(prepared.programs.size());
  for (const CudaProgram& program : prepared.programs) prepared.spaces.push_back(cudaSpace(program));
  return prepared;
}

/// nvcc as the request names it (an export's default is plain "nvcc", found where it runs); kNotFound here.
Expected<std::string> requestNvcc(const CudaRunRequest& request) {
  const std::string nvcc = request.exportFolder.empty() ? findNvcc(request.nvcc)
                                                        : (request.nvcc.empty() ? "nvcc" : request.nvcc);
  if (nvcc.empty()) {
    return Error(ErrorCode::kNotFound,
                 "no nvcc here (not on PATH nor in /usr/local/cuda/bin; --nvcc names one): measure on a GPU "
                 "machine with --export DIR, its run-all.sh and --ingest DIR");
  }
  return nvcc;
}

CudaProgramRun programRun(const CudaProgram& program, const std::optional<FactorChoice>& predicted,
                          TuningResult result) {
  return {program.file, program.kernel, program.factors, predicted, std::move(result)};
}

void recordPrediction(Database& database, const TuningRequest& request, const TuningResult& result,
                      const Predictions& predictions, const FactorChoice& choice) {
  auto workloadId = database.upsertWorkload(request.workload);
  if (!workloadId) return;
  PredictionRecord record;
  record.sessionId = result.sessionId;
  record.workloadId = *workloadId;
  record.task = "coarsen";
  record.modelId = predictions.modelId;
  record.configuration = {{"kernel", request.options.value("kernel", "")},
                          {"platform", predictions.platform},
                          {"factor", choice.factor}};
  record.score = choice.probability;
  if (auto stored = database.insertPrediction(record); !stored)
    logWarn("database: {}", stored.error().message());
}

/// Logs a failure where it happens and keeps it; the exit status a command gives for it.
int keepFailure(std::vector<Error>& failures, Error error) {
  logError("{}", error.message());
  const int status = error.code() == ErrorCode::kUsage ? 2 : 1;
  failures.push_back(std::move(error));
  return status;
}

}  // namespace

Expected<CudaExportSummary> exportCudaPrograms(const CudaRunRequest& options) {
  auto prepared = prepareAll(options.files, options, options.compile);
  if (!prepared) return prepared.error();
  auto nvcc = requestNvcc(options);
  if (!nvcc) return nvcc.error();
  Predictions predictions = predictFactors(prepared->programs, options);
  const fs::path folder = options.exportFolder;
  nlohmann::json index = {{"nvcc", *nvcc},
                          {"cuda_arch", options.cudaArch},
                          {"dimension", options.dimension},
                          {"mode", options.mode},
                          {"budget", options.budget},
                          {"timeout", options.timeout},
                          {"min_time", options.minTime},
                          {"defines", options.compile.defines},
                          {"include_directories", options.compile.includeDirectories},
                          {"items", nlohmann::json::array()}};
  CudaExportSummary summary;
  summary.folder = folder;
  summary.programs = prepared->programs.size();
  for (std::size_t i = 0; i < prepared->programs.size(); ++i) {
    const CudaProgram& program = prepared->programs[i];
    auto request = cudaRequest(program, prepared->spaces[i], options, *nvcc);
    if (!request) return request.error();
    std::optional<unsigned> predicted;
    if (predictions.choices[i]) predicted = static_cast<unsigned>(predictions.choices[i]->factor);
    const std::vector<Configuration> candidates = plannedOrder(program, predicted, options.budget);
    const std::string name = fmt::format("{}-{}", program.file.stem().string(), program.kernel);
    if (Status written = exportTuningPlan(*request, candidates, folder / name); !written) return written.error();
    nlohmann::json item = {{"folder", name},
                           {"file", fs::absolute(program.file).lexically_normal().string()},
                           {"kernel", program.kernel}};
    if (predicted) item["predicted"] = *predicted;
    index["items"].push_back(std::move(item));
    summary.measurements += candidates.size();
  }
  // Its identity keys what is ingested from it, so that ingesting it again stores nothing twice.
  if (auto identity = writeExportId(folder); !identity) return identity.error();
  if (Status written = writeFileAtomically(folder / kIndexFile, index.dump(2) + "\n"); !written)
    return written.error();
  if (Status written =
          writeFileAtomically(folder / "run-all.sh", exportRunAllScript("mirtune coarsen --ingest", true));
      !written) {
    return written.error();
  }
  return summary;
}

Expected<CudaRunReport> runCudaPrograms(const CudaRunRequest& options) {
  auto prepared = prepareAll(options.files, options, options.compile);
  if (!prepared) return prepared.error();
  auto nvcc = requestNvcc(options);
  if (!nvcc) return nvcc.error();
  Predictions predictions = predictFactors(prepared->programs, options);

  if (!fs::exists("/dev/nvidia0")) logWarn("no NVIDIA GPU here (/dev/nvidia0): the CUDA runs will fail");
  auto database = Database::open(options.databasePath);
  if (!database) return database.error();
  auto machine = probeMachine(*database);
  if (!machine) return machine.error();
  CudaRunReport report;
  for (std::size_t i = 0; i < prepared->programs.size(); ++i) {
    const CudaProgram& program = prepared->programs[i];
    auto request = cudaRequest(program, prepared->spaces[i], options, *nvcc);
    if (!request) return request.error();
    std::optional<unsigned> predicted;
    if (predictions.choices[i]) predicted = static_cast<unsigned>(predictions.choices[i]->factor);
    request->options["budget"] = options.budget;
    request->options["predicted"] = predicted ? nlohmann::json(*predicted) : nlohmann::json();
    if (!predictions.modelId.empty()) request->modelIds = {predictions.modelId};
    request->resume = options.resume;
    const std::vector<Configuration> order = plannedOrder(program, predicted, options.budget);
    request->planner =
        [order,
         &program](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
      if (done.size() > 1) return std::vector<Configuration>{};
      if (done.front().status != MeasureStatus::kOk) {
        // Without the original's time and check there is nothing to compare a coarsened build with.
        logWarn("{}: factor 1 did not run correctly ({}); the coarsened factors are not measured",
                program.file.string(), measureStatusName(done.front().status));
        return std::vector<Configuration>{};
      }
      return std::vector<Configuration>(order.begin() + 1, order.end());
    };
    auto result = runTuningSession(*database, machine->platformId, machine->info.fingerprint, *request,
                                   runnerExecutablePath());
    if (!result) {
      report.exitStatus =
          keepFailure(report.failures, result.error().withContext(program.file.string()));
      continue;
    }
    if (predictions.choices[i])
      recordPrediction(*database, *request, *result, predictions, *predictions.choices[i]);
    if (!result->best) report.exitStatus = 1;
    report.programs.push_back(programRun(program, predictions.choices[i], std::move(*result)));
  }
  return report;
}

namespace {

// A string list of the export index ("defines", ...); kInvalidInput naming the file and key otherwise.
Expected<std::vector<std::string>> indexStrings(const nlohmann::json& index, const char* key,
                                                const fs::path& file) {
  std::vector<std::string> values;
  if (!index.contains(key) || index[key].is_null()) return values;
  if (!index[key].is_array())
    return makeError(ErrorCode::kInvalidInput, "{}: '{}' must be an array of strings", file.string(), key);
  for (std::size_t i = 0; i < index[key].size(); ++i) {
    if (!index[key][i].is_string())
      return makeError(ErrorCode::kInvalidInput, "{}: '{}[{}]' must be a string", file.string(), key, i);
    values.push_back(index[key][i].get<std::string>());
  }
  return values;
}

// The options an export was made with, read back from its index: each ingested session is the exported one.
Expected<CudaRunRequest> exportedOptions(const CudaRunRequest& options, const nlohmann::json& index,
                                         const fs::path& file) {
  CudaRunRequest exported = options;
  auto dimension = indexInteger(index, "dimension", file, "dimension", 0, 2, 0);
  if (!dimension) return dimension.error();
  auto mode = indexString(index, "mode", file, "mode", "consecutive");
  if (!mode) return mode.error();
  if (!parseCoarsenMode(*mode))
    return makeError(ErrorCode::kInvalidInput, "{}: 'mode' '{}' is not a coarsening mode", file.string(),
                     *mode);
  auto budget =
      indexInteger(index, "budget", file, "budget", 0, static_cast<std::int64_t>(std::size(kCudaFactors)), 5);
  if (!budget) return budget.error();
  auto arch = indexString(index, "cuda_arch", file, "cuda_arch", "");
  if (!arch) return arch.error();
  for (const char* key : {"timeout", "min_time"}) {
    if (index.contains(key) && !(index[key].is_number() && std::isfinite(index[key].get<double>()) &&
                                 index[key].get<double>() >= 0)) {
      return makeError(ErrorCode::kInvalidInput, "{}: '{}' must be a number of seconds >= 0", file.string(),
                       key);
    }
  }
  auto defines = indexStrings(index, "defines", file);
  if (!defines) return defines.error();
  auto includes = indexStrings(index, "include_directories", file);
  if (!includes) return includes.error();
  exported.dimension = static_cast<unsigned>(*dimension);
  exported.mode = *mode;
  exported.budget = static_cast<int>(*budget);
  exported.timeout = index.value("timeout", 60.0);
  exported.minTime = index.value("min_time", 0.2);
  exported.cudaArch = *arch;
  exported.compile.defines = std::move(*defines);
  exported.compile.includeDirectories = std::move(*includes);
  return exported;
}

}  // namespace

Expected<CudaIngestReport> ingestCudaPrograms(const fs::path& folder, const CudaRunRequest& base) {
  const fs::path indexFile = folder / kIndexFile;
  auto index = readExportIndex(indexFile);
  if (!index) {
    return index.error().code() == ErrorCode::kNotFound
               ? index.error().withContext("not a folder of `coarsen FILE.cu --run --export`")
               : index.error();
  }
  const nlohmann::json& list = (*index)["items"];
  // Each program's machine is its folder's own platform.json (written by a campaign node) or else the
  // export's (written by run-all.sh); with neither anywhere, nothing was run yet.
  ExportedMachines machines(folder);
  auto recorded = machines.firstRecorded(exportedPlanFolders(folder, list));
  if (!recorded) return recorded.error();
  auto campaign = exportId(folder, indexFile);
  if (!campaign) return campaign.error();
  auto exported = exportedOptions(base, *index, indexFile);
  if (!exported) return exported.error();
  auto nvcc = indexString(*index, "nvcc", indexFile, "nvcc", "nvcc");
  if (!nvcc) return nvcc.error();

  // Every program is checked before anything is stored, so a damaged item leaves nothing behind.
  struct Item {
    std::unique_ptr<Prepared> prepared;  // the request points into it
    TuningRequest request;
    fs::path folder;
    std::string folderName;
    std::optional<FactorChoice> predicted;
    const PlatformRecord* platform;
  };
  std::vector<Item> items;
  CudaIngestReport report;
  report.folder = folder;
  report.counts.planFolders = list.size();
  std::vector<Error> failures;
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("items[{}]", i);
    auto kernel = indexString(list[i], "kernel", indexFile, where + ".kernel");
    if (!kernel) return kernel.error();
    auto file = indexString(list[i], "file", indexFile, where + ".file");
    if (!file) return file.error();
    auto folderName = indexString(list[i], "folder", indexFile, where + ".folder");
    if (!folderName) return folderName.error();
    std::optional<FactorChoice> predicted;
    if (list[i].contains("predicted")) {
      auto factor = indexInteger(list[i], "predicted", indexFile, where + ".predicted", 1,
                                 static_cast<std::int64_t>(kCudaFactors[std::size(kCudaFactors) - 1]));
      if (!factor) return factor.error();
      predicted.emplace();
      predicted->factor = static_cast<int>(*factor);
    }
    auto itemFolder = pathInsideFolder(folder, *folderName, indexFile, where + ".folder");
    if (!itemFolder) {
      logError("{}", itemFolder.error().message());
      ++rejected;
      continue;
    }
    CudaRunRequest itemOptions = *exported;
    itemOptions.kernel = *kernel;
    auto prepared = prepareAll({*file}, itemOptions, itemOptions.compile);
    if (!prepared) {
      report.exitStatus = keepFailure(failures, prepared.error());
      continue;
    }
    auto held = std::make_unique<Prepared>(std::move(*prepared));
    auto request = cudaRequest(held->programs.front(), held->spaces.front(), itemOptions, *nvcc);
    if (!request) return request.error();
    if (Status checked = checkTuningResults(*request, *itemFolder); !checked) {
      logError("{}: {}", held->programs.front().file.string(), checked.error().message());
      if (checked.error().code() == ErrorCode::kNotFound) {
        report.exitStatus = 1;
        ++report.counts.notYet;
      } else {
        ++rejected;
      }
      continue;
    }
    auto platform = machines.platformFor(*itemFolder);
    if (!platform) return platform.error();
    items.push_back({std::move(held), std::move(*request), *itemFolder, *folderName, predicted, *platform});
  }
  if (rejected > 0) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: {} of {} items failed the checks above; nothing was stored", folder.string(),
                             rejected, list.size()));
  }

  auto database = Database::open(base.databasePath);
  if (!database) return database.error();
  std::map<std::string, std::int64_t> platformIds;  // fingerprint -> id
  // Ingest key -> session of what earlier ingests stored, read when a program has nothing new.
  std::optional<std::map<std::string, std::int64_t>> earlierSessions;
  for (const Item& item : items) {
    const CudaProgram& program = item.prepared->programs.front();
    auto known = platformIds.find(item.platform->fingerprint);
    if (known == platformIds.end()) {
      auto platformId = database->upsertPlatform(*item.platform);
      if (!platformId) return platformId.error();
      known = platformIds.emplace(item.platform->fingerprint, *platformId).first;
      report.platforms.push_back(*item.platform);
    }
    const IngestIdentity identity{*campaign, item.folderName};
    auto ingested = ingestPlanFolder(*database, known->second, item.request, item.folder, identity);
    if (!ingested) {
      report.exitStatus = keepFailure(failures, ingested.error().withContext(program.file.string()));
      continue;
    }
    report.counts.stored += ingested->stored;
    report.counts.alreadyStored += ingested->alreadyStored;
    report.counts.missingConfigurations += ingested->missing;
    if (ingested->missing > 0) {
      logWarn("{}: {} factors have no result", program.file.string(), ingested->missing);
      report.exitStatus = std::max(report.exitStatus, 1);
    }
    // Stored by an earlier ingest: the report names the session that stored factor 1 then.
    if (ingested->tuning.sessionId == 0 && !ingested->tuning.results.empty()) {
      if (!earlierSessions) {
        auto stored = database->listMeasurements();
        if (!stored) return stored.error();
        earlierSessions.emplace();
        for (const MeasurementRecord& record : *stored) {
          if (record.ingestKey) earlierSessions->emplace(*record.ingestKey, record.sessionId);
        }
      }
      auto earlier =
          earlierSessions->find(processIngestKey(identity, ingested->tuning.results.front().configuration));
      if (earlier != earlierSessions->end()) ingested->tuning.sessionId = earlier->second;
    }
    report.programs.push_back(programRun(program, item.predicted, std::move(ingested->tuning)));
  }
  if (report.platforms.empty()) report.platforms.push_back(**recorded);
  return report;
}

}  // namespace mirtune::coarsen
