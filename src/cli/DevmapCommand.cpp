// `mirtune devmap`: CPU or GPU for OpenCL kernels. Registration, `train`, single-file and batch prediction.
#include "cli/DevmapCommand.h"

#include "cli/DevmapOptions.h"
#include "cli/EncoderOption.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "tasks/devmap/DevmapModel.h"
#include "tasks/devmap/Features.h"
#include "tasks/devmap/Predict.h"
#include "tasks/devmap/Reports.h"
#include "tasks/devmap/SafeDecisionReports.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mirtune::cli {

using namespace mirtune::devmap;

int runDevmapTrain(const DevmapTrainOptions& options, const GlobalOptions& global) {
  DevmapTrainOptions request = options;
  request.databasePath = resolveDatabasePath(global);
  auto out = trainHeads(request);
  if (!out) return reportError(out.error());
  fmt::print("{}\n", out->string());
  return 0;
}

namespace {

// The setup of a prediction command: the database path from the global options.
PredictSetup predictSetup(const DevmapPredictOptions& options, const GlobalOptions& global) {
  PredictSetup setup = options.request.setup;
  setup.databasePath = resolveDatabasePath(global);
  return setup;
}

// Logs the database errors of a prediction command; 1 when there was one.
int databaseFailures(const PredictOutcome& outcome) {
  for (const Error& error : outcome.databaseErrors) logError("{}", error.message());
  return outcome.databaseErrors.empty() ? 0 : 1;
}

}  // namespace

int runDevmapPredict(const DevmapPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  const RunRequest& given = options.request;
  bool defaultTransfer = given.transfer < 0, defaultWgsize = given.wgsize < 0;
  double transfer = defaultTransfer ? kDefaultTransferBytes : given.transfer;
  double wgsize = defaultWgsize ? kDefaultWgsize : given.wgsize;
  PredictRun run;
  for (const std::string& file : given.files) run.queries.push_back({file, given.kernel, transfer, wgsize});
  run.compile = *compile;
  run.command = "devmap";
  run.recordedOptions = {{"platform", given.setup.platform}, {"transfer", transfer}, {"wgsize", wgsize}};
  auto outcome = predictAndRecord(predictSetup(options, global), run);
  if (!outcome) return reportError(outcome.error());

  int status = databaseFailures(*outcome);
  for (const KernelPrediction& prediction : outcome->predictions) {
    if (prediction.error) {
      logError("{}", prediction.error->message());
      status = 1;
    }
  }
  const auto& predictions = outcome->predictions;
  const bool anyAnswer = std::any_of(predictions.begin(), predictions.end(),
                                     [](const KernelPrediction& prediction) { return !prediction.error; });
  if (!anyAnswer) return 1;  // every input failed: no output at all rather than an empty one
  int written = 0;
  if (options.json) {
    written =
        writeOutput(options.output, safePredictionsJson(predictions, given.setup.platform).dump(2) + "\n");
  } else {
    // What the answers assume is a header for the reader, not data: stderr, so stdout holds the answers alone.
    if (!global.quiet) {
      fmt::print(stderr, "{}",
                 predictionAssumptions(given.setup.platform, transfer, defaultTransfer, wgsize, defaultWgsize));
    }
    written = writeOutput(options.output, safePredictionsText(predictions));
  }
  return written != 0 ? written : status;
}

int runDevmapBatchPredict(const DevmapPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto queries = readKernelQueries(options.input);
  if (!queries) return reportError(queries.error());
  PredictRun run;
  run.queries = std::move(*queries);
  std::set<std::string> distinctFiles;
  for (const KernelQuery& query : run.queries) distinctFiles.insert(query.file);
  ProgressLine progress("devmap predict", distinctFiles.size());
  run.compile = *compile;
  run.command = "devmap predict";
  run.recordedOptions = {{"platform", options.request.setup.platform}, {"input", options.input}};
  run.progress = &progress;
  auto outcome = predictAndRecord(predictSetup(options, global), run);
  progress.finish();
  if (!outcome) return reportError(outcome.error());
  const auto& predictions = outcome->predictions;
  const auto failed = std::count_if(predictions.begin(), predictions.end(),
                                    [](const KernelPrediction& prediction) { return prediction.error.has_value(); });
  if (failed > 0) logError("{} of {} predictions failed (see the error column)", failed, predictions.size());
  const int written = writeOutput(options.output, predictionsCsv(predictions));
  const int database = databaseFailures(*outcome);
  return written != 0 ? written : (failed > 0 || database != 0 ? 1 : 0);
}

void addDevmapCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc, char** argv) {
  CLI::App* devmap = app.add_subcommand(
      "devmap", "CPU or GPU? Predict the faster OpenCL device for each kernel of a file (and run it with --run)");
  auto predict = std::make_shared<DevmapPredictOptions>();
  auto addPredictOptions = [](CLI::App* command, DevmapPredictOptions& options) {
    PredictSetup& setup = options.request.setup;
    command->add_option("--platform", setup.platform,
                        "Which hardware the answer is for: amd (Intel i7-3820 vs AMD Tahiti 7970, the default), "
                        "nvidia (vs NVIDIA GTX 970) or local (heads trained on `devmap collect` data)");
    addEncoderOption(*command, setup.encoder);
    command->add_option("--heads", setup.heads,
                        "Device-mapping heads folder, e.g. one `devmap train` printed (default: the shipped "
                        "devmap-1.0; for --platform local the one `train --platform local` writes)");
    command->add_option("-o,--output", options.output, "Write here instead of stdout");
    command->add_flag("--no-cache", setup.noCache, "Neither read nor write the embedding cache nor log predictions");
    command->add_option("--threads", setup.threads, "Threads (default 2)")->check(CLI::Range(1, 512));
    addCompileFlags(*command, options.compile);
  };
  devmap->add_option("files", predict->request.files, "OpenCL files (.cl, or .ll/.bc)");
  devmap->add_option("--kernel", predict->request.kernel, "Only this kernel (default: every kernel in the file)");
  devmap->add_option("--transfer", predict->request.transfer,
                     fmt::format("Bytes moved between host and device (default {:.0f}, the data set's median)",
                                 kDefaultTransferBytes))
      ->check(finiteNonNegative());
  devmap->add_option("--wgsize", predict->request.wgsize, fmt::format("Work-items per work-group (default {:.0f})", kDefaultWgsize))
      ->check(finiteNonNegative());
  devmap->add_flag(
      "--json", predict->json,
      "JSON list of {kernel, device, probability (calibrated), novelty (percentile among the training "
      "kernels), expected_speedup, fallback, policy, ...}");
  addPredictOptions(devmap, *predict);
  devmap->add_flag("--run", predict->run, "Also run the kernel on every OpenCL device, check outputs, and record it");
  devmap->add_option("--global", predict->request.globalSize, "With --run: global work size, 1 to 3 values")
      ->delimiter(',')->expected(1, 3)->check(CLI::PositiveNumber);
  devmap->add_option("--local", predict->request.localSize, "With --run: local work size (default: the driver's choice)")
      ->delimiter(',')->expected(1, 3)->check(CLI::PositiveNumber);
  devmap->add_option("--arg", predict->request.args, "With --run: a scalar argument NAME=VALUE (repeatable)");
  devmap->add_option("--timeout", predict->request.timeout, "With --run: seconds per device before the run is killed (default 60)")
      ->check(CLI::PositiveNumber);
  devmap->add_option("--min-time", predict->request.minTime, "With --run: seconds of timed repetitions per device (default 0.2)")
      ->check(CLI::NonNegativeNumber);

  auto batch = std::make_shared<DevmapPredictOptions>();
  CLI::App* batchCommand = devmap->add_subcommand("predict", "Batch prediction: CSV rows file,kernel,transfer,wgsize in, "
                                                             "the same rows with device,probability out");
  batchCommand->add_option("--input", batch->input, "CSV with columns file,kernel,transfer,wgsize (kernel empty = every "
                                                    "kernel; empty transfer/wgsize = defaults)")->required();
  addPredictOptions(batchCommand, *batch);

  auto eval = std::make_shared<DevmapEvalOptions>();
  CLI::App* evalCommand = devmap->add_subcommand("eval",
                                                 "Reproduce the published device-mapping table (10-fold "
                                                 "cross-validation over the fixed folds) or evaluate with "
                                                 "kernels or suites held out");
  evalCommand->add_option("--platform", eval->request.platform, "amd, nvidia or all (default)")
      ->check(CLI::IsMember({"amd", "nvidia", "all"}));
  evalCommand->add_option("--rows", eval->request.rows, "680 (all rows, default) or 669 (IR2Vec's rows)")
      ->check(CLI::IsMember({"680", "669"}));
  evalCommand
      ->add_option(
          "--features", eval->request.features,
          "fused (default), tokens, graph, ir2vec (IR2Vec symbolic vectors from the seed vocabulary), "
          "or aux (no program features)")
      ->check(CLI::IsMember({"fused", "tokens", "graph", "ir2vec", "aux"}));
  evalCommand->add_option(
      "--split", eval->request.split,
      "Outer folds: published (the data set's 10 folds, default), kernel (10 folds, every input of "
      "a kernel in one), suite (leave one benchmark suite out), or a list such as "
      "published,kernel,suite shown side by side; inner folds are grouped the same way");
  evalCommand->add_option("--ir2vec-vocabulary", eval->request.ir2vecVocabulary,
                          "With --features ir2vec: the seed vocabulary file, or a folder with "
                          "seedEmbeddingVocab300D.txt (default: $MIRTUNE_DATA/ir2vec-vocabulary)");
  evalCommand->add_flag(
      "--no-aux-reference", eval->noAuxReference,
      "Skip the reference heads on the auxiliary inputs alone (always CPU/GPU are still shown)");
  evalCommand->add_option("--ir", eval->request.ir, "source: compile the data set's OpenCL (its .ll where Clang 14 cannot; "
                                            "default); dataset: NCC's .ll files")
      ->check(CLI::IsMember({"source", "dataset"}));
  evalCommand->add_option("--head-kind", eval->request.headKind, "auto (XGBoost and MLP candidates, default), xgboost or mlp")
      ->check(CLI::IsMember({"auto", "xgboost", "mlp"}));
  evalCommand->add_option("--candidates", eval->request.candidates,
                           "JSON file listing head candidates [{kind, params}] to choose from instead of --head-kind");
  evalCommand->add_option("--data", eval->request.data, "devmap data folder (default: $MIRTUNE_DATA/devmap)");
  addEncoderOption(*evalCommand, eval->request.encoder);
  evalCommand->add_option("--predictions", eval->predictions, "Write every row's prediction to this CSV");
  evalCommand->add_option("-o,--output", eval->output, "Write the result here instead of stdout");
  evalCommand->add_flag(
      "--json", eval->json,
      "JSON: {rows, features, splits, SPLIT: {amd: {accuracy, speedup, oracle_fraction, ...}, "
      "nvidia: {...}, references: {always_cpu, always_gpu, best_fixed, aux}}} per split");
  evalCommand->add_flag("--no-cache", eval->request.noCache, "Neither read nor write the embedding cache");
  evalCommand->add_option("--threads", eval->request.threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  evalCommand->add_option("--seed", eval->request.seed, "Seed of the inner folds and the heads (default 204)");

  auto train = std::make_shared<DevmapTrainOptions>();
  train->command = "mirtune";
  for (int i = 1; i < argc; ++i) train->command += std::string(" ") + argv[i];
  CLI::App* trainCommand = devmap->add_subcommand("train", "Train the device-mapping heads on all 680 rows");
  trainCommand->add_option("--platform", train->platform,
                            "amd, nvidia, all (default: both data set platforms) or local (from `devmap collect`)")
      ->check(CLI::IsMember({"amd", "nvidia", "all", "local"}));
  trainCommand->add_option("--ir", train->ir, "source (default) or dataset, as for eval")
      ->check(CLI::IsMember({"source", "dataset"}));
  trainCommand->add_option("--head-kind", train->headKind, "auto (default), xgboost or mlp")
      ->check(CLI::IsMember({"auto", "xgboost", "mlp"}));
  trainCommand->add_option("--data", train->data, "devmap data folder (default: $MIRTUNE_DATA/devmap)");
  addEncoderOption(*trainCommand, train->encoder);
  trainCommand->add_option("--out", train->out,
                           "Heads folder to write (default: the user's models/devmap/devmap-1.0, or "
                           "models/devmap/devmap-local for --platform local, under ~/.local/share/mirtune)");
  trainCommand->add_flag("--no-cache", train->noCache, "Neither read nor write the embedding cache");
  trainCommand->add_option("--threads", train->threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  trainCommand->add_option("--seed", train->seed, "Seed (default 204)");

  auto collect = std::make_shared<DevmapCollectOptions>();
  CLI::App* collectCommand = devmap->add_subcommand(
      "collect", "Measure a folder of kernels (manifests) at their sizes on the local OpenCL devices, for "
                 "`train --platform local`");
  collectCommand->add_option("--kernels", collect->kernels, "Folder of kernel manifests (default: kernels/opencl)");
  collectCommand->add_option("--sizes", collect->sizes, "all (default) or indices into each manifest's sizes, e.g. 0,2");
  collectCommand->add_option("--timeout", collect->timeout, "Seconds per run before it is killed (default 60)")
      ->check(CLI::PositiveNumber);
  collectCommand->add_option("--min-time", collect->minTime, "Seconds of timed repetitions per run (default 0.2)")
      ->check(CLI::NonNegativeNumber);
  collectCommand->add_flag("--json", collect->json, "JSON: {devices, rows: [{kernel, n, devices}], ok, total, ...}");

  devmap->callback([devmap, predict, batch, eval, train, collect, batchCommand, evalCommand, trainCommand,
                    collectCommand, &global, &action] {
    if ((evalCommand->parsed() || trainCommand->parsed()) && !predict->request.setup.heads.empty()) {
      // An option a subcommand lacks falls through to `devmap`, whose --heads is a folder for prediction.
      action = [] {
        return reportError(Error(ErrorCode::kUsage, "devmap train and eval choose head kinds with --head-kind "
                                                    "auto|xgboost|mlp; --heads DIR selects heads for prediction"));
      };
    } else if (collectCommand->parsed()) {
      action = [collect, &global] { return runDevmapCollect(*collect, global); };
    } else if (!predict->request.files.empty() && predict->run) {
      action = [predict, &global] { return runDevmapRun(*predict, global); };
    } else if (batchCommand->parsed()) {
      action = [batch, &global] { return runDevmapBatchPredict(*batch, global); };
    } else if (evalCommand->parsed()) {
      action = [eval, &global] { return runDevmapEval(*eval, global); };
    } else if (trainCommand->parsed()) {
      action = [train, &global] { return runDevmapTrain(*train, global); };
    } else if (!predict->request.files.empty()) {
      action = [predict, &global] { return runDevmapPredict(*predict, global); };
    } else {
      action = [] { return reportError(Error(ErrorCode::kUsage, "devmap needs a FILE.cl or one of: predict, eval, train (see mirtune devmap --help)")); };
    }
  });
  (void)devmap;
}

}  // namespace mirtune::cli
