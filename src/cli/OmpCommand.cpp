// `mirtune omp` (tune an app, collect, train, eval): options in, tasks/omp/OmpWorkflow.h, Reports.h out.
#include "cli/OmpCommand.h"

#include "support/Log.h"
#include "tasks/omp/OmpWorkflow.h"
#include "tasks/omp/Reports.h"

#include <fmt/format.h>

#include <memory>

namespace mirtune::cli {
using namespace mirtune::omp;

namespace {

/// Source compile options (-D, -I), passed to the compiler after --flag's.
struct CompilerOptions {
  std::vector<std::string> defines, includes;
  void appendTo(std::vector<std::string>& flags) const {
    for (const auto& define : defines) flags.push_back("-D" + define);
    for (const auto& include : includes) flags.push_back("-I" + include);
  }
};

struct TuneCommand {
  OmpTuneOptions options;
  CompilerOptions compiler;
  std::string legacyModel;
  bool json = false;
};

struct CollectCommand {
  OmpCollectOptions options;
  CompilerOptions compiler;
  std::string exportFolder;
  std::string ingestFolder;
};

struct LearnCommand {
  OmpLearnOptions options;
  std::string output;
  bool json = false;
};

int runOmpTune(TuneCommand command, const GlobalOptions& global) {
  OmpTuneOptions& options = command.options;
  command.compiler.appendTo(options.measure.flags);
  if (!command.legacyModel.empty()) {
    logWarn("--model is deprecated here; use --heads");
    if (options.heads.empty()) options.heads = command.legacyModel;
  }
  auto report = tuneOmpApp(options, resolveDatabasePath(global));
  if (!report) return reportError(report.error());
  if (!report->writtenSpec.empty()) {
    return writeOutput(
        "-", fmt::format("{}: the application spec of {} (its rewritten source beside it); "
                         "`mirtune tune {}` measures it\n",
                         report->writtenSpec.string(), options.app.string(), report->writtenSpec.string()));
  }
  if (command.json) return writeOutput("-", toJson(*report, options).dump(2) + "\n");
  writeOutput("-", textReport(*report, options));
  return report->session.best ? 0 : 1;
}

int runOmpCollect(CollectCommand command, const GlobalOptions& global) {
  OmpCollectOptions& options = command.options;
  command.compiler.appendTo(options.measure.flags);
  if (!command.exportFolder.empty() && !command.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  if (!command.ingestFolder.empty()) {
    auto report = ingestOmpCollection(options, command.ingestFolder, resolveDatabasePath(global));
    if (!report) return reportError(report.error());
    fmt::print("{}\n", report->output.string());
    fmt::print(stderr, "{}", ingestText(*report, command.ingestFolder));
    // What came back is stored and written; anything that did not fails the command.
    if (report->missing > 0) logWarn("{} configurations (or app-sizes) had no result", report->missing);
    return report->missing > 0 ? 1 : 0;
  }
  if (!command.exportFolder.empty()) {
    auto report = exportOmpCollection(options, command.exportFolder);
    if (!report) return reportError(report.error());
    fmt::print("{}", textReport(*report, command.exportFolder));
    return 0;
  }
  auto report = collectOmp(options, resolveDatabasePath(global));
  if (!report) return reportError(report.error());
  fmt::print("{}\n", report->output.string());
  if (report->failed > 0) {
    logError("{} app-sizes could not be measured (see above); --resume continues them", report->failed);
    return 1;
  }
  return 0;
}

int runOmpTrain(const LearnCommand& command, const GlobalOptions& global) {
  auto out = trainOmpHead(command.options, resolveDatabasePath(global));
  if (!out) return reportError(out.error());
  fmt::print("{}\n", out->string());
  return 0;
}

int runOmpEval(const LearnCommand& command, const GlobalOptions& global) {
  auto result = evaluateOmp(command.options, resolveDatabasePath(global));
  if (!result) return reportError(result.error());
  if (command.json) return writeOutput(command.output, result->toJson().dump(2) + "\n");
  return writeOutput(command.output,
                     textReport(*result, static_cast<std::size_t>(std::max(1, command.options.topK))));
}

void addMeasureOptions(CLI::App* command, OmpMeasureOptions& options, CompilerOptions& compiler) {
  command->add_option("--space", options.space, "Configuration space: full or small")->capture_default_str();
  command->add_option("--compiler", options.compiler, "clang (clang-14) or gcc")->capture_default_str();
  command->add_option("-D", compiler.defines, "Define NAME[=VALUE] for the app's compile, repeatable");
  command->add_option("-I", compiler.includes, "Include folder for the app's compile, repeatable");
  command->add_option("--flag", options.flags, "Other compiler flag, repeatable (e.g. -march=native)");
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
  auto tune = std::make_shared<TuneCommand>();
  omp->add_option("--app", tune->options.app, "C/C++ OpenMP source to tune");
  omp->add_option("--args", tune->options.args, "Arguments of the app, as one string");
  omp->add_option(
         "--strategy", tune->options.strategy,
         "predict or topk (the head's ranking), exhaustive, random or model (the generic tuner's search, "
         "as mirtune tune)")
      ->capture_default_str();
  omp->add_option("--budget", tune->options.budget,
                  "Configurations measured besides the default (topk, random, model)")
      ->capture_default_str();
  omp->add_option("--seed", tune->options.seed, "Seed of the random and model strategies")
      ->capture_default_str();
  omp->add_option("-o,--output", tune->options.t4File,
                  "Also write the results in T4 format here (rewritten after every measurement)");
  omp->add_option(
      "--cache", tune->options.cacheFile,
      "Also write the results to this Kernel Tuner cache file (an existing one only with --resume)");
  omp->add_option(
      "--write-spec", tune->options.writeSpec,
      "Write the app's tuning problem as a T1 application spec (and its rewritten source beside it) for "
      "mirtune tune, measuring nothing");
  omp->add_option("--heads", tune->options.heads,
                  "OpenMP head folder, e.g. the one `omp train` printed (default: the shipped heads)");
  omp->add_option("--model", tune->legacyModel, "Deprecated: --heads")->group("");
  omp->add_option("--encoder", tune->options.encoder, "Encoder model folder (default: the shipped one)");
  omp->add_option("--check", tune->options.check,
                  "Output check: auto (the app's `mirtune-check:` line, else equal output), digest or none")
      ->capture_default_str();
  omp->add_option("--work-dir", tune->options.workDirectory,
                  "Folder for plans, results and binaries (default: next to the database): a new or empty folder, "
                  "or one mirtune made; a folder holding other files is refused, never cleaned");
  omp->add_flag("--json", tune->json, "Print JSON");
  addMeasureOptions(omp, tune->options.measure, tune->compiler);

  auto collect = std::make_shared<CollectCommand>();
  CLI::App* collectCommand =
      omp->add_subcommand("collect", "Measure every configuration of the suite's apps on this machine");
  collectCommand->add_option("--apps", collect->options.apps, "Folder of app manifests (default: kernels/openmp)");
  collectCommand->add_option("--sizes", collect->options.sizes, "Manifest sizes to measure")
      ->delimiter(',')
      ->capture_default_str();
  collectCommand->add_option("--only", collect->options.only, "Only these apps")->delimiter(',');
  collectCommand->add_option("-o,--output", collect->options.output, "Data CSV (default: omp-<platform>.csv)");
  collectCommand->add_option(
      "--export", collect->exportFolder,
      "Write self-contained plans (and run-all.sh) for mirtune-run on another machine instead");
  collectCommand->add_option("--cores", collect->options.cores,
                             "With --export: the other machine's logical cores");
  collectCommand->add_option("--ingest", collect->ingestFolder,
                             "Store the results of an exported folder (its platform.json "
                             "names the machine)");
  addMeasureOptions(collectCommand, collect->options.measure, collect->compiler);
  collect->options.measure.minTime = 0.3;

  auto train = std::make_shared<LearnCommand>();
  CLI::App* trainCommand = omp->add_subcommand("train", "Train the OpenMP head on collected data");
  addLearnOptions(trainCommand, train->options);
  trainCommand->add_option("--out", train->options.out,
                           "Model folder (default: omp-1.0 in the user's model folder, "
                           "~/.local/share/mirtune/models/omp)");
  train->options.command = "mirtune";
  for (int i = 1; i < argc; ++i) train->options.command += std::string(" ") + argv[i];

  auto eval = std::make_shared<LearnCommand>();
  CLI::App* evalCommand =
      omp->add_subcommand("eval", "Leave-one-app-out evaluation: predict, top-k, random, oracle");
  addLearnOptions(evalCommand, eval->options);
  evalCommand->add_option("--topk", eval->options.topK, "k of the top-k strategy (and the random budget)")
      ->capture_default_str();
  evalCommand->add_flag(
      "--plain-topk", eval->options.plainTopK,
      "Top-k takes the k best-scored configurations as they come, not one per thread count and schedule");
  evalCommand->add_option("-o,--output", eval->output, "Write the table (or JSON) here");
  evalCommand->add_flag("--json", eval->json, "Print JSON");

  omp->callback([collectCommand, trainCommand, evalCommand, tune, collect, train, eval, &global, &action]() {
    if (collectCommand->parsed()) {
      action = [collect, &global]() { return runOmpCollect(*collect, global); };
    } else if (trainCommand->parsed()) {
      action = [train, &global]() { return runOmpTrain(*train, global); };
    } else if (evalCommand->parsed()) {
      action = [eval, &global]() { return runOmpEval(*eval, global); };
    } else if (!tune->options.app.empty()) {
      action = [tune, &global]() { return runOmpTune(*tune, global); };
    } else {
      action = [] {
        return reportError(Error(ErrorCode::kUsage,
                                 "omp needs --app FILE or one of: collect, train, eval (see mirtune omp --help)"));
      };
    }
  });
}

}  // namespace mirtune::cli
