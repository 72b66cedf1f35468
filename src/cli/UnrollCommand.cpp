// `mirtune unroll` (a FILE's loops: predict, --apply, --run; collect, train, eval): options in, one call of
// tasks/unroll/UnrollWorkflow.h, its report (tasks/unroll/Reports.h) out.
#include "cli/UnrollCommand.h"

#include "support/Log.h"
#include "tasks/unroll/Reports.h"
#include "tasks/unroll/UnrollWorkflow.h"

#include <fmt/format.h>

#include <memory>

namespace mirtune::cli {
using namespace mirtune::unroll;

namespace {

struct FileCommand {
  UnrollFileOptions options;
  std::vector<std::string> defines, includes;  ///< -D NAME[=VALUE], -I DIR
  std::string legacyModel;            ///< --model, the deprecated name of --heads
  bool json = false;
};

struct LearnCommand {
  UnrollLearnOptions options;
  std::string output;
  bool json = false;
};

int runUnrollFile(FileCommand command, const GlobalOptions& global) {
  UnrollFileOptions& options = command.options;
  for (const auto& define : command.defines) options.flags.push_back("-D" + define);
  for (const auto& include : command.includes) options.flags.push_back("-I" + include);
  if (!command.legacyModel.empty()) {
    logWarn("--model is deprecated here; use --heads");
    if (options.heads.empty()) options.heads = command.legacyModel;
  }
  auto report = tuneUnrollFile(options, resolveDatabasePath(global));
  if (!report) return reportError(report.error());
  writeOutput("-", command.json ? toJson(*report, options).dump(2) + "\n" : textReport(*report, options));
  return everyMeasuredLoopChose(*report) ? 0 : 1;
}

struct CollectCommand {
  UnrollCollectOptions options;
  std::string exportFolder;
  std::string ingestFolder;
};

int runUnrollCollect(const CollectCommand& command, const GlobalOptions& global) {
  const UnrollCollectOptions& options = command.options;
  if (!command.exportFolder.empty() && !command.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  if (!command.ingestFolder.empty()) {
    auto report = ingestUnrollCollection(options, command.ingestFolder, resolveDatabasePath(global));
    if (!report) return reportError(report.error());
    fmt::print("{}\n", report->output.string());
    fmt::print(stderr, "{}\n", ingestCountsText(command.ingestFolder, report->counts));
    // What came back is stored and written; anything that did not fails the command.
    return report->counts.complete() ? 0 : 1;
  }
  if (!command.exportFolder.empty()) {
    auto report = exportUnrollCollection(options, command.exportFolder, resolveDatabasePath(global));
    if (!report) return reportError(report.error());
    fmt::print("{}", textReport(*report, command.exportFolder));
    return 0;
  }
  auto report = collectUnroll(options, resolveDatabasePath(global));
  if (!report) return reportError(report.error());
  fmt::print("{}\n", report->output.string());
  logInfo("{} loops of {} programs measured ({} programs without a tunable loop)", report->loops,
          report->programs, report->skippedPrograms);
  if (report->failed > 0) {
    logError("{} loops could not be measured (see above); --resume continues them", report->failed);
    return 1;
  }
  return 0;
}

int runUnrollTrain(const LearnCommand& command, const GlobalOptions& global) {
  auto out = trainUnrollHead(command.options, resolveDatabasePath(global));
  if (!out) return reportError(out.error());
  fmt::print("{}\n", out->string());
  return 0;
}

int runUnrollEval(const LearnCommand& command, const GlobalOptions& global) {
  auto knob = parseKnob(command.options.knob);
  if (!knob) return reportError(knob.error());
  auto result = evaluateUnroll(command.options, resolveDatabasePath(global));
  if (!result) return reportError(result.error());
  if (command.json) return writeOutput(command.output, result->toJson(*knob).dump(2) + "\n");
  return writeOutput(command.output,
                     textReport(*result, *knob, static_cast<std::size_t>(std::max(1, command.options.topK)),
                               command.options.group));
}

void addMeasureOptions(CLI::App* command, UnrollMeasureOptions& options) {
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
  auto file = std::make_shared<FileCommand>();
  unroll->add_option("file", file->options.file, "C/C++ source whose innermost loops get factors");
  unroll->add_option("--loop", file->options.loop, "Only the loop starting on this line");
  unroll->add_option("--knob", file->options.knob, "unroll (count) or vectorize (width x interleave)")
      ->capture_default_str();
  unroll->add_option("-D", file->defines, "Define NAME[=VALUE] for the file's compile, repeatable");
  unroll->add_option("-I", file->includes, "Include folder for the file's compile, repeatable");
  unroll->add_option("--flag", file->options.flags, "Other compiler flag, repeatable (e.g. -march=native)");
  unroll->add_option("--heads", file->options.heads,
                     "Unroll head folder, e.g. the one `unroll train` printed (default: the shipped heads)");
  unroll->add_option("--model", file->legacyModel, "Deprecated: --heads")->group("");
  unroll->add_option("--encoder", file->options.encoder, "Encoder model folder (default: the shipped one)");
  unroll->add_flag("--json", file->json, "Print JSON");
  unroll->add_flag("--apply", file->options.apply, "Write the source with the predicted pragmas to -o");
  unroll->add_option("-o,--output", file->options.output, "With --apply: the rewritten source");
  unroll->add_flag("--run", file->options.run,
                   "Build and measure the default and the strategy's picks for each loop");
  unroll->add_option("--args", file->options.args, "With --run: the program's arguments, as one string");
  unroll->add_option("--strategy", file->options.strategy, "With --run: predict, topk, exhaustive or random")
      ->capture_default_str();
  unroll
      ->add_option("--budget", file->options.budget,
                   "With --run: configurations measured besides the default (topk, random)")
      ->capture_default_str();
  unroll->add_option("--seed", file->options.seed, "Seed of the random strategy")->capture_default_str();
  unroll->add_option("--work-dir", file->options.workDirectory,
                     "Folder for plans, results and binaries, one sub-folder per loop (default: next to the "
                     "database); each sub-folder must be new, empty or made by mirtune");
  unroll->add_flag("--no-cache", file->options.noCache, "Do not use the embedding cache");
  addMeasureOptions(unroll, file->options.measure);

  auto collectCommandState = std::make_shared<CollectCommand>();
  UnrollCollectOptions* collect = &collectCommandState->options;
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
  collectCommand->add_option("--export", collectCommandState->exportFolder,
                             "Write the plans to this folder for another machine or `mirtune campaign submit` "
                             "instead of measuring here (corpus programs are calibrated here)");
  collectCommand->add_option("--ingest", collectCommandState->ingestFolder,
                             "Store the results of an exported folder (each plan folder's platform.json, else "
                             "the folder's) and write the data CSV; again later for folders that were not done");

  auto train = std::make_shared<LearnCommand>();
  CLI::App* trainCommand = unroll->add_subcommand("train", "Train the head of one knob on collected data");
  addLearnOptions(trainCommand, train->options);
  trainCommand->add_option("--out", train->options.out,
                           "Model folder (default: unroll-1.0 in the user's model folder, "
                           "~/.local/share/mirtune/models/unroll)");
  train->options.command = "mirtune";
  for (int i = 1; i < argc; ++i) train->options.command += std::string(" ") + argv[i];

  auto eval = std::make_shared<LearnCommand>();
  CLI::App* evalCommand =
      unroll->add_subcommand("eval",
                             "5-fold cross-validation by program (or by program family): predicted "
                             "factors vs oracle, compiler default and random");
  addLearnOptions(evalCommand, eval->options);
  evalCommand
      ->add_option("--folds", eval->options.folds,
                   "Folds (programs or families are dealt round-robin after a seeded shuffle)")
      ->capture_default_str();
  evalCommand
      ->add_option("--group", eval->options.group,
                   "What a fold holds: program (each program held out alone; variants of its "
                   "kernel may train the head) or family (whole kernel families held out)")
      ->capture_default_str();
  evalCommand->add_option("--topk", eval->options.topK, "k of the top-k strategy (and the random budget)")
      ->capture_default_str();
  evalCommand->add_option("--seed", eval->options.seed, "Seed of the fold assignment and random draws")
      ->capture_default_str();
  evalCommand->add_option("-o,--output", eval->output, "Write the table (or JSON) here");
  evalCommand->add_flag("--json", eval->json, "Print JSON");

  unroll->callback(
      [collectCommand, trainCommand, evalCommand, file, collectCommandState, train, eval, &global, &action]() {
        if (collectCommand->parsed()) {
          action = [collectCommandState, &global]() { return runUnrollCollect(*collectCommandState, global); };
        } else if (trainCommand->parsed()) {
          action = [train, &global]() { return runUnrollTrain(*train, global); };
        } else if (evalCommand->parsed()) {
          action = [eval, &global]() { return runUnrollEval(*eval, global); };
        } else if (!file->options.file.empty()) {
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
