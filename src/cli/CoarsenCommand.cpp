// `mirtune coarsen`: the thread-coarsening factor for OpenCL kernels. Registration, `train` and prediction.
#include "cli/CoarsenOptions.h"
#include "cli/EncoderOption.h"
#include "support/Log.h"
#include "tasks/coarsen/LocalCoarsen.h"
#include "tasks/coarsen/Reports.h"

#include <algorithm>
#include <filesystem>
#include <memory>

namespace mirtune::cli {

namespace {

using namespace mirtune::coarsen;

constexpr const char* kCurveMethodHelp =
    "classifier: the heads of --form/--pooling/--head-kind; prior: per GPU the factor with the best mean "
    "training "
    "speedup; knn: nearest training kernels by cosine similarity; regression: XGBoost regression of log "
    "speedup; "
    "factor-head: per-factor near-best XGBoost heads; auto: all of these, chosen by inner cross-validation "
    "(default: prior, the best of experiments/coarsen/table.md; a --candidates list of xgboost/mlp heads "
    "means "
    "classifier)";

int runCoarsenTrain(const CoarsenTrainOptions& options, const GlobalOptions& global) {
  CoarsenTrainOptions request = options;
  request.databasePath = resolveDatabasePath(global);
  auto out = trainHeads(request);
  if (!out) return reportError(out.error());
  fmt::print("{}\n", out->string());
  return 0;
}

int runCoarsenPredict(const CoarsenPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  if (options.platform == kLocalCoarsenPlatform) {
    return reportError(Error(ErrorCode::kUsage,
                             "--platform local predicts for a device of this machine: use it with "
                             "--run (and --global)"));
  }
  PredictRequest request;
  request.files = options.files;
  request.kernel = options.kernel;
  request.platform = options.platform;
  request.encoder = options.encoder;
  request.heads = options.heads;
  request.compile = *compile;
  request.databasePath = resolveDatabasePath(global);
  request.noCache = options.noCache;
  request.threads = options.threads;
  auto outcome = predictAndRecord(request);
  if (!outcome) return reportError(outcome.error());
  int status = 0;
  for (const Error& failure : outcome->failures) status = reportError(failure);
  for (const Error& error : outcome->databaseErrors) {
    logError("{}", error.message());
    status = 1;
  }

  int written =
      writeOutput(options.output, options.json ? toJson(*outcome).dump(2) + "\n" : textReport(*outcome));
  return written != 0 ? written : status;
}

}  // namespace

void addCoarsenCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action, int argc,
                       char** argv) {
  CLI::App* coarsen = app.add_subcommand(
      "coarsen",
      "Thread-coarsening factor (1-32) for each OpenCL kernel of a file, per GPU of the PACT'14 data set");
  const std::vector<std::string> platformNames = {"cypress", "tahiti", "fermi", "kepler"};
  std::vector<std::string> platformsOrAll = platformNames;
  platformsOrAll.push_back("all");
  std::vector<std::string> predictPlatforms = platformsOrAll;
  predictPlatforms.push_back(kLocalCoarsenPlatform);

  auto predict = std::make_shared<CoarsenPredictOptions>();
  coarsen->add_option("files", predict->files,
                      "OpenCL files (.cl, or .ll/.bc); with --run also CUDA programs (.cu) of "
                      "the form of kernels/cuda");
  coarsen->add_option("--kernel", predict->kernel, "Only this kernel (default: every kernel in the file)");
  coarsen
      ->add_option(
          "--platform", predict->platform,
          "GPU the factor is for: cypress (AMD Radeon HD 5900), tahiti (AMD Tahiti 7970), fermi (NVIDIA "
          "GTX 480), kepler (NVIDIA Tesla K20c) or all (default; with --run: the pooled head's first "
          "platform); with --run also local (heads from `coarsen train --platform local`)")
      ->check(CLI::IsMember(predictPlatforms));
  coarsen->add_option("--heads", predict->heads,
                      "Heads folder, e.g. one `coarsen train` printed (default: the shipped coarsen-1.0)");
  addEncoderOption(*coarsen, predict->encoder);
  coarsen->add_option("-o,--output", predict->output, "Write here instead of stdout");
  coarsen->add_flag("--json", predict->json,
                    "JSON list of {file, kernel, platform, hardware, factor, probability}");
  coarsen->add_flag("--no-cache", predict->noCache,
                    "Neither read nor write the embedding cache nor log predictions");
  coarsen->add_option("--threads", predict->threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  addCompileFlags(*coarsen, predict->compile);
  coarsen->add_flag(
      "--run", predict->run,
      "Measure factor 1 and the factors 2-32 the transform accepts (the predicted first) on every OpenCL "
      "device, checking each coarsened kernel's outputs against the original's");
  coarsen
      ->add_option("--global", predict->globalSize,
                   "With --run: the original global work size, 1 to 3 values")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(CLI::PositiveNumber);
  coarsen
      ->add_option("--local", predict->localSize,
                   "With --run: the original local work size (default: the driver's "
                   "choice; kernels with barriers or local memory need one)")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(CLI::PositiveNumber);
  coarsen->add_option("--arg", predict->args, "With --run: a scalar argument NAME=VALUE (repeatable)");
  coarsen
      ->add_option("--budget", predict->budget,
                   "With --run: coarsened factors measured at most (default 5: all)")
      ->check(CLI::Range(0, 5));
  coarsen->add_option("--dim", predict->dimension, "With --run: the NDRange dimension to coarsen (default 0)")
      ->check(CLI::Range(0, 2));
  coarsen
      ->add_option("--mode", predict->mode,
                   "With --run: consecutive (default) or strided work-items per new one")
      ->check(CLI::IsMember({"consecutive", "strided"}));
  coarsen
      ->add_option("--timeout", predict->timeout,
                   "With --run: seconds per device and factor before the run is "
                   "killed (default 60)")
      ->check(CLI::PositiveNumber);
  coarsen
      ->add_option("--min-time", predict->minTime,
                   "With --run: seconds of timed repetitions per device and "
                   "factor (default 0.2)")
      ->check(CLI::NonNegativeNumber);
  coarsen->add_option("--nvcc", predict->nvcc,
                      "With --run on .cu programs: the nvcc to build with (default: nvcc on "
                      "PATH, else /usr/local/cuda/bin/nvcc)");
  coarsen->add_option("--cuda-arch", predict->cudaArch,
                      "With --run on .cu programs: nvcc -arch, e.g. sm_90 "
                      "(default: nvcc's)");
  coarsen->add_option(
      "--export", predict->exportFolder,
      "With --run on .cu programs: write the sessions and run-all.sh here for a GPU machine that has "
      "mirtune-run and nvcc, instead of measuring");
  coarsen->add_option("--ingest", predict->ingestFolder,
                      "Store what run-all.sh measured in a folder of `coarsen FILE.cu --run --export`");
  coarsen->add_flag("--resume", predict->resume,
                    "With --run on .cu programs: continue an interrupted session");

  auto collect = std::make_shared<CoarsenCollectOptions>();
  CLI::App* collectCommand = coarsen->add_subcommand(
      "collect",
      "Measure every factor of the kernel suite's kernels on every local OpenCL device into the database "
      "(for `coarsen train --platform local`), or export the plans for another machine's runner");
  collectCommand->add_option("--kernels", collect->kernels,
                             "Folder of kernel manifests (default: kernels/opencl)");
  collectCommand->add_option("--sizes", collect->sizes,
                             "all (default) or comma-separated indices into each "
                             "manifest's sizes, e.g. 0,1");
  collectCommand->add_option("--dim", collect->dimension, "NDRange dimension to coarsen (default 0)")
      ->check(CLI::Range(0, 2));
  collectCommand->add_option("--mode", collect->mode, "consecutive (default) or strided")
      ->check(CLI::IsMember({"consecutive", "strided"}));
  collectCommand
      ->add_option("--timeout", collect->timeout, "Seconds per run before it is killed (default 60)")
      ->check(CLI::PositiveNumber);
  collectCommand
      ->add_option("--min-time", collect->minTime, "Seconds of timed repetitions per run (default 0.2)")
      ->check(CLI::NonNegativeNumber);
  collectCommand->add_option(
      "--export", collect->exportFolder,
      "Write the coarsened sources, runner plans and run-all.sh here instead of measuring");
  collectCommand->add_option("--ingest", collect->ingestFolder,
                             "Store the results of an exported folder after run-all.sh ran in it");

  auto addHeadOptions = [](CLI::App* command, std::string& form, std::string& pooling, std::string& ir,
                           std::string& heads, int& innerFolds) {
    command
        ->add_option("--form", form,
                     "factor: one row per factor, the most probable near-best factor wins "
                     "(default); class: the head's classes are the factors")
        ->check(CLI::IsMember({"class", "factor"}));
    command
        ->add_option("--pooling", pooling,
                     "pooled: one head over all four GPUs' rows (default); per-platform: a "
                     "head per GPU")
        ->check(CLI::IsMember({"pooled", "per-platform"}));
    command
        ->add_option("--ir", ir,
                     "source: compile the data set's OpenCL (its .ll where Clang 14 cannot; default); "
                     "dataset: NCC's .ll files")
        ->check(CLI::IsMember({"source", "dataset"}));
    command->add_option("--head-kind", heads, "auto (XGBoost and MLP candidates, default), xgboost or mlp")
        ->check(CLI::IsMember({"auto", "xgboost", "mlp"}));
    command
        ->add_option("--inner-folds", innerFolds,
                     "Inner cross-validation folds of training kernels (default 4)")
        ->check(CLI::Range(2, 16));
  };

  auto eval = std::make_shared<CoarsenEvalOptions>();
  CLI::App* evalCommand = coarsen->add_subcommand(
      "eval", "Leave-one-kernel-out over the 17 kernels of the PACT'14 data, beside the published results");
  evalCommand->add_option("--platform", eval->platform, "cypress, tahiti, fermi, kepler or all (default)")
      ->check(CLI::IsMember(platformsOrAll));
  evalCommand
      ->add_option(
          "--features", eval->features,
          "Embedding modality: fused (default), tokens or graph; or ir2vec (IR2Vec symbolic vectors from the "
          "seed vocabulary)")
      ->check(CLI::IsMember({"fused", "tokens", "graph", "ir2vec"}));
  evalCommand->add_option("--ir2vec-vocabulary", eval->ir2vecVocabulary,
                          "With --features ir2vec: the seed vocabulary file, or a folder with "
                          "seedEmbeddingVocab300D.txt (default: $MIRTUNE_DATA/ir2vec-vocabulary)");
  addHeadOptions(evalCommand, eval->form, eval->pooling, eval->ir, eval->headKind, eval->innerFolds);
  evalCommand->add_option("--method", eval->method, kCurveMethodHelp)
      ->check(CLI::IsMember({"classifier", "prior", "knn", "regression", "factor-head", "auto"}));
  evalCommand->add_flag(
      "--magni", eval->magni,
      "Append Magni et al.'s PCA1..PCA7 (from the data set) to the embedding: not embedding-only");
  evalCommand->add_option(
      "--candidates", eval->candidates,
      "JSON file listing head candidates [{kind, params}] to choose from instead of --head-kind");
  evalCommand->add_option("--data", eval->data,
                          "tcoarsening data folder (default: $MIRTUNE_DATA/tcoarsening)");
  addEncoderOption(*evalCommand, eval->encoder);
  evalCommand->add_option("--predictions", eval->predictions,
                          "Write every (platform, kernel) prediction to this CSV");
  evalCommand->add_option("-o,--output", eval->output, "Write the result here instead of stdout");
  evalCommand->add_flag("--json", eval->json,
                        "JSON: per-platform speedups, per-kernel predictions, per-fold heads");
  evalCommand->add_flag("--no-cache", eval->noCache, "Neither read nor write the embedding cache");
  evalCommand->add_option("--threads", eval->threads, "Threads (default 2; outer folds run in parallel)")
      ->check(CLI::Range(1, 512));
  evalCommand->add_option("--seed", eval->seed, "Seed of the heads (default 204)");

  auto train = std::make_shared<CoarsenTrainOptions>();
  train->command = "mirtune";
  for (int i = 1; i < argc; ++i) train->command += std::string(" ") + argv[i];
  CLI::App* trainCommand = coarsen->add_subcommand("train", "Train the coarsening heads on all 17 kernels");
  addHeadOptions(trainCommand, train->form, train->pooling, train->ir, train->headKind, train->innerFolds);
  trainCommand->add_option("--method", train->method, kCurveMethodHelp)
      ->check(CLI::IsMember({"classifier", "prior", "knn", "regression", "factor-head", "auto"}));
  trainCommand->add_option("--data", train->data,
                           "tcoarsening data folder (default: $MIRTUNE_DATA/tcoarsening)");
  addEncoderOption(*trainCommand, train->encoder);
  trainCommand->add_option("--out", train->out,
                           "Heads folder to write (default: the user's models/coarsen/coarsen-1.0, or "
                           "models/coarsen/coarsen-local for --platform local, under ~/.local/share/mirtune)");
  trainCommand->add_flag("--no-cache", train->noCache, "Neither read nor write the embedding cache");
  trainCommand->add_option("--threads", train->threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  trainCommand->add_option("--seed", train->seed, "Seed (default 204)");
  trainCommand
      ->add_option("--platform", train->platform,
                   "local: one head from this machine's `coarsen collect` "
                   "measurements")
      ->check(CLI::IsMember({kLocalCoarsenPlatform}));
  trainCommand->add_option("--fingerprint", train->fingerprint,
                           "With --platform local: the platform whose "
                           "measurements to use (default: this machine; an "
                           "ingested collection prints its own)");

  coarsen->callback([predict, eval, train, collect, evalCommand, trainCommand, collectCommand, &global,
                     &action] {
    if ((evalCommand->parsed() || trainCommand->parsed()) && !predict->heads.empty()) {
      // An option a subcommand lacks falls through to `coarsen`, whose --heads is a folder for prediction.
      action = [] {
        return reportError(Error(ErrorCode::kUsage, "coarsen train and eval choose head kinds with --head-kind "
                                                    "auto|xgboost|mlp; --heads DIR selects heads for prediction"));
      };
    } else if (evalCommand->parsed()) {
      action = [eval, &global] { return runCoarsenEval(*eval, global); };
    } else if (collectCommand->parsed()) {
      action = [collect, &global] { return runCoarsenCollect(*collect, global); };
    } else if (trainCommand->parsed()) {
      action = [train, &global] { return runCoarsenTrain(*train, global); };
    } else if (!predict->ingestFolder.empty()) {
      action = [predict, &global] {
        if (!predict->files.empty()) return reportError(Error(ErrorCode::kUsage, "--ingest takes no FILE"));
        return runCoarsenCudaIngest(*predict, global);
      };
    } else if (!predict->files.empty() && predict->run) {
      action = [predict, &global] {
        const std::size_t cuda = static_cast<std::size_t>(
            std::count_if(predict->files.begin(), predict->files.end(), [&](const std::string& file) {
              return predict->compile.language == "cuda" || std::filesystem::path(file).extension() == ".cu";
            }));
        if (cuda == 0 && (!predict->exportFolder.empty() || predict->resume)) {
          return reportError(Error(ErrorCode::kUsage,
                                   "--export and --resume are for CUDA programs (.cu); OpenCL "
                                   "kernels are measured here on every device"));
        }
        if (cuda == predict->files.size()) return runCoarsenCuda(*predict, global);
        if (cuda != 0)
          return reportError(Error(ErrorCode::kUsage, "--run takes OpenCL or CUDA files, not both"));
        return runCoarsenRun(*predict, global);
      };
    } else if (!predict->files.empty()) {
      action = [predict, &global] { return runCoarsenPredict(*predict, global); };
    } else {
      action = [] {
        return reportError(Error(ErrorCode::kUsage,
                                 "coarsen needs a FILE.cl (or FILE.cu), --ingest DIR or one of: collect, "
                                 "eval, train (see mirtune coarsen --help)"));
      };
    }
  });
}

}  // namespace mirtune::cli
