// `mirtune tune`: a user's own tuning problem (a kernel or an application: live, exported or ingested), or
// the replay of a brute-forced Kernel Tuner cache (tasks/tune/Replay.h) with any search strategy.
#include "cli/Commands.h"

#include "cli/EncoderOption.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Platform.h"
#include "tasks/tune/ConvergencePlot.h"
#include "tasks/tune/KernelTunerCache.h"
#include "tasks/tune/Replay.h"
#include "tasks/tune/Search.h"
#include "tasks/tune/TransferHistory.h"
#include "tasks/tune/TuneWorkflow.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace mirtune::cli {

namespace {

/// Every option of `mirtune tune`; each mode reads the ones it needs.
struct TuneOptions {
  std::string spec;                  ///< positional T1 file (live mode)
  std::string replayCache;           ///< --replay: a brute-forced Kernel Tuner cache
  std::vector<std::string> history;  ///< --history: earlier sessions' caches (transfer), CACHE[=KERNEL]
  std::string kernel;                ///< --kernel: the replayed space's kernel source
  std::string strategy = "model";
  std::size_t budget = 50;
  std::size_t repeats = 20;
  std::uint64_t seed = 0;
  bool json = false;
  std::string output;  ///< -o: replay: the report ("" or "-" is stdout); live: the T4 results file
  double timeLimit = 0;     ///< --time: seconds, 0 = none
  std::string cacheFile;    ///< --cache: Kernel Tuner cache file
  bool resume = false;      ///< --resume
  std::string exportFolder;  ///< --export DIR
  std::string ingestFolder;  ///< --ingest DIR
  std::string device;       ///< --device P:D
  std::string workDirectory;
  std::string encoder;      ///< --encoder (transfer)
  std::string nvcc;         ///< --nvcc (CUDA specs)
  std::string cudaArch;     ///< --cuda-arch (CUDA specs)
  std::size_t perPlan = 8;  ///< --per-plan: an application export's configurations per plan folder
  bool budgetGiven = false;
  std::string commandLine;
};

/// `mirtune tune plot`: the inputs to draw and where.
struct TunePlotOptions {
  std::vector<std::string> inputs;  ///< T4 files or session ids
  std::string output;
  std::string title;
};

/// The earlier sessions of --history as transfer data; a cache carries no kernel embedding, so every session
/// (and the kernel being tuned) has none and only the parameters carry over.
int runReplay(const TuneOptions& options, const GlobalOptions& global) {
  auto strategy = tune::parseTuneStrategy(options.strategy);
  if (!strategy) return reportError(strategy.error());
  if (options.budget == 0) return reportError(Error(ErrorCode::kUsage, "--budget must be at least 1"));
  if (options.repeats == 0) return reportError(Error(ErrorCode::kUsage, "--repeats must be at least 1"));
  if (!options.history.empty() && *strategy != tune::StrategyKind::kTransfer) {
    return reportError(Error(ErrorCode::kUsage, "--history is read by --strategy transfer only"));
  }
  if (*strategy == tune::StrategyKind::kTransfer && options.history.empty()) {
    return reportError(
        Error(ErrorCode::kUsage, "--strategy transfer needs at least one --history CACHE.json"));
  }
  auto cache = tune::readKernelTunerCache(options.replayCache);
  if (!cache) return reportError(cache.error());
  tune::TransferData transfer;
  if (!options.history.empty()) {
    std::vector<tune::HistoryCache> history;
    for (const std::string& item : options.history) history.push_back(tune::parseHistoryArgument(item));
    auto read = tune::transferDataFromCaches(history, options.kernel, options.encoder, resolveDatabasePath(global));
    if (!read) return reportError(read.error());
    transfer = std::move(*read);
  }
  tune::ReplayRequest request;
  request.strategy = *strategy;
  request.budget = options.budget;
  request.repeats = options.repeats;
  request.seed = options.seed;
  request.transfer = *strategy == tune::StrategyKind::kTransfer ? &transfer : nullptr;
  auto report = tune::replay(*cache, request);
  if (!report) return reportError(report.error().withContext(options.replayCache));
  if (options.json) return writeOutput(options.output, tune::replayReportJson(*report).dump(2) + "\n");
  return writeOutput(options.output, tune::replayReportText(*report));
}

int runLive(const TuneOptions& options, const GlobalOptions& global) {
  auto strategy = tune::parseTuneStrategy(options.strategy);
  if (!strategy) return reportError(strategy.error());
  if (!options.history.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--history is for --replay; a live transfer session reads the "
                                                "earlier sessions of this platform from the database"));
  }
  tune::TuneSessionOptions session;
  session.specFile = options.spec;
  session.strategy = *strategy;
  // A live session's default budget is 100 evaluations (replay's is 50); 0 = the whole space.
  session.budget = options.budgetGiven ? options.budget : 100;
  session.timeLimitSeconds = options.timeLimit;
  session.seed = options.seed;
  session.databasePath = resolveDatabasePath(global);
  session.runner = runnerExecutablePath();
  session.device = options.device;
  session.t4File = options.output == "-" ? std::string() : options.output;
  session.cacheFile = options.cacheFile;
  session.resume = options.resume;
  session.workDirectory = options.workDirectory;
  session.encoderModel = options.encoder;
  session.nvcc = options.nvcc;
  session.cudaArch = options.cudaArch;
  session.commandLine = "tune";
  session.showProgress = !global.quiet;
  session.configurationsPerPlan = options.perPlan;
  if (!options.exportFolder.empty() && !options.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest are two steps: give one of them"));
  }
  if (!options.exportFolder.empty()) {
    auto exported = tune::exportTuneSession(session, options.exportFolder);
    if (!exported) return reportError(exported.error());
    return writeOutput(
        "", fmt::format("{}: {} configurations exported; on the measuring machine run `sh {}/run-all.sh "
                        "path/to/mirtune-run [P:D]` (or `mirtune campaign submit {}`), then here "
                        "`mirtune tune {} --ingest {}`\n",
                        options.exportFolder, *exported, options.exportFolder, options.exportFolder,
                        options.spec, options.exportFolder));
  }
  auto result = options.ingestFolder.empty() ? tune::runTuneSession(session)
                                             : tune::ingestTuneSession(session, options.ingestFolder);
  if (!result) return reportError(result.error());
  const int written = writeOutput(
      "", options.json ? tune::tuneSessionJson(*result).dump(2) + "\n" : tune::tuneSessionText(*result));
  // An ingest of a folder not measured to its end stores what there is and says so by its exit status.
  if (written == 0 && result->ingest && !result->ingest->complete()) return 1;
  return written;
}

int runPlot(const TunePlotOptions& options, const GlobalOptions& global) {
  Status written = tune::writeConvergencePlot(options.inputs, resolveDatabasePath(global), options.output,
                                              options.title);
  return written ? 0 : reportError(written.error());
}

}  // namespace

void addTuneCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  CLI::App* tune = app.add_subcommand("tune", "Tune a kernel's own parameters (T1 file), or replay a brute-forced "
                                               "Kernel Tuner cache to compare search strategies");
  auto options = std::make_shared<TuneOptions>();
  tune->add_option("spec", options->spec, "T1 tuning problem (JSON)");
  tune->add_option("--replay", options->replayCache,
                   "Replay this Kernel Tuner cache file (a brute-forced space) instead of measuring");
  tune->add_option("--history", options->history,
                   "Replay: an earlier session for --strategy transfer, CACHE.json or CACHE.json=KERNEL.cl (its "
                   "kernel, embedded to relate it to --kernel); repeatable");
  tune->add_option("--kernel", options->kernel,
                   "Replay: the source of the replayed space's kernel (transfer with embeddings)");
  tune->add_option("--strategy", options->strategy, "exhaustive, random, model or transfer")->capture_default_str();
  tune->add_option("--budget", options->budget,
                   "Evaluations per search, the default's included (replay: 50; live: 100, 0 = the whole space)")
      ->each([options](const std::string&) { options->budgetGiven = true; });
  tune->add_option("--repeats", options->repeats, "Replay: seeded repeats (repeat r uses seed + r)")
      ->capture_default_str();
  tune->add_option("--seed", options->seed, "Seed of the strategy")->capture_default_str();
  tune->add_flag("--json", options->json, "Print JSON");
  tune->add_option("-o,--output", options->output,
                   "Live: write the results here in T4 format; replay: write the report here (default: stdout)");
  tune->add_option("--time", options->timeLimit, "Live: stop proposing after this many seconds (0 = no limit)")
      ->check(finiteNonNegative());
  tune->add_option("--cache", options->cacheFile,
                   "Live: also write the results to this Kernel Tuner cache file, after every evaluation");
  tune->add_flag(
      "--resume", options->resume,
      "Live: continue the interrupted session (a kernel's from its --cache file, a program's from the "
      "database, continuing its --cache file); without it an existing --cache file is refused");
  tune->add_option("--device", options->device,
                   "Live: OpenCL device P:D (default: the first GPU, else device 0:0); a CUDA spec's device N");
  tune->add_option("--work-dir", options->workDirectory,
                   "Live: where plans and the default's outputs go (default: beside the database)");
  tune->add_option(
      "--export", options->exportFolder,
      "Live: write the configurations (exhaustive or random) as plans for mirtune-run on another "
      "machine (a kernel's as OpenCL plans, an application's as process plan folders), measuring "
      "nothing here");
  tune->add_option(
          "--per-plan", options->perPlan,
          "Live, --export of an application spec: configurations per plan folder besides the default "
          "(each plan folder measures the default first)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tune->add_option(
      "--ingest", options->ingestFolder,
      "Live: store what an --export folder measured (checked, outputs against the default's), as that "
      "machine's session");
  tune->add_option("--nvcc", options->nvcc,
                   "CUDA specs: the nvcc to build with (default: on PATH, else /usr/local/cuda/bin)");
  tune->add_option("--cuda-arch", options->cudaArch,
                   "CUDA specs: nvcc -arch (default: the device's own; sm_90 for --export)");
  addEncoderOption(*tune, options->encoder);

  CLI::App* plot = tune->add_subcommand("plot", "Draw the convergence of tuning sessions (T4 files or session ids) "
                                                "as a PNG");
  auto plotOptions = std::make_shared<TunePlotOptions>();
  plot->add_option("inputs", plotOptions->inputs, "T4 results files or session ids of the database")->required();
  plot->add_option("-o,--output", plotOptions->output, "PNG file to write")->required();
  plot->add_option("--title", plotOptions->title, "Title of the plot");
  plot->callback([plotOptions, &global, &action]() {
    action = [plotOptions, &global]() { return runPlot(*plotOptions, global); };
  });

  tune->callback([options, tune, &global, &action]() {
    if (tune->got_subcommand("plot")) return;
    if (!options->replayCache.empty() && !options->spec.empty()) {
      action = [] {
        return reportError(
            Error(ErrorCode::kUsage, "tune takes either a SPEC file or --replay CACHE.json, not both"));
      };
    } else if (!options->replayCache.empty()) {
      action = [options, &global]() { return runReplay(*options, global); };
    } else if (!options->spec.empty()) {
      action = [options, &global]() { return runLive(*options, global); };
    } else {
      action = [] {
        return reportError(Error(ErrorCode::kUsage, "tune needs a SPEC file (T1) or --replay CACHE.json (see mirtune tune --help)"));
      };
    }
  });
}

}  // namespace mirtune::cli
