// `mirtune tune`: a user's own tuning problem; here the replay of a brute-forced Kernel Tuner cache
// (tasks/tune/Replay.h) with any search strategy.
#include "cli/Commands.h"

#include "tasks/tune/KernelTunerCache.h"
#include "tasks/tune/Replay.h"
#include "tasks/tune/Search.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

namespace mirtune::cli {

namespace {

/// Every option of `mirtune tune`; each mode reads the ones it needs.
struct TuneOptions {
  std::string spec;                  ///< positional T1 file (live mode)
  std::string replayCache;           ///< --replay: a brute-forced Kernel Tuner cache
  std::vector<std::string> history;  ///< --history: earlier sessions' caches (transfer)
  std::string strategy = "model";
  std::size_t budget = 50;
  std::size_t repeats = 20;
  std::uint64_t seed = 0;
  bool json = false;
  std::string output;  ///< -o: "" or "-" is stdout
};

/// The earlier sessions of --history as transfer data; a cache carries no kernel embedding, so every session
/// (and the kernel being tuned) has none and only the parameters carry over.
Expected<tune::TransferData> historyFromCaches(const std::vector<std::string>& files) {
  tune::TransferData transfer;
  for (const auto& file : files) {
    auto cache = tune::readKernelTunerCache(file);
    if (!cache) return cache.error();
    transfer.sessions.push_back(tune::transferSessionFromCache(*cache));
    if (transfer.sessions.back().kernel.empty()) transfer.sessions.back().kernel = file;
  }
  return transfer;
}

int runReplay(const TuneOptions& options) {
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
    auto read = historyFromCaches(options.history);
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

int runLive(const TuneOptions& options) {
  return reportError(makeError(
      ErrorCode::kUsage, "tuning {} live is not available in this build; --replay CACHE.json is required",
      options.spec));
}

}  // namespace

void addTuneCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  (void)global;
  CLI::App* tune = app.add_subcommand("tune",
                                      "Tune a kernel's own parameters (T1 file), or replay a brute-forced "
                                      "Kernel Tuner cache to compare search strategies");
  auto options = std::make_shared<TuneOptions>();
  tune->add_option("spec", options->spec, "T1 tuning problem (JSON)");
  tune->add_option("--replay", options->replayCache,
                   "Replay this Kernel Tuner cache file (a brute-forced space) instead of measuring");
  tune->add_option("--history", options->history,
                   "An earlier session's Kernel Tuner cache for --strategy transfer (repeatable)");
  tune->add_option("--strategy", options->strategy, "exhaustive, random, model or transfer")
      ->capture_default_str();
  tune->add_option("--budget", options->budget, "Evaluations per search")->capture_default_str();
  tune->add_option("--repeats", options->repeats, "Replay: seeded repeats (repeat r uses seed + r)")
      ->capture_default_str();
  tune->add_option("--seed", options->seed, "Seed of the strategy")->capture_default_str();
  tune->add_flag("--json", options->json, "Print JSON");
  tune->add_option("-o,--output", options->output, "Write the report here (default: stdout)");

  tune->callback([options, &action]() {
    if (!options->replayCache.empty() && !options->spec.empty()) {
      action = [] {
        return reportError(
            Error(ErrorCode::kUsage, "tune takes either a SPEC file or --replay CACHE.json, not both"));
      };
    } else if (!options->replayCache.empty()) {
      action = [options]() { return runReplay(*options); };
    } else if (!options->spec.empty()) {
      action = [options]() { return runLive(*options); };
    } else {
      action = [] {
        return reportError(
            Error(ErrorCode::kUsage, "tune needs --replay CACHE.json (see mirtune tune --help)"));
      };
    }
  });
}

}  // namespace mirtune::cli
