// What a user does with device mapping, as library calls: predict the device of kernels and record the
// predictions, run kernels on this machine's OpenCL devices to check a prediction, collect measurements of a
// kernel suite, and train heads (on the published data set or on this machine's measurements).
#pragma once

#include "embeddings/Encoder.h"
#include "frontend/Frontend.h"
#include "support/Error.h"
#include "support/Progress.h"
#include "tasks/devmap/DevmapModel.h"
#include "tasks/devmap/Predict.h"
#include "tuner/OpenClRun.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::devmap {

/// The encoder, heads and database a prediction uses.
struct PredictSetup {
  std::string platform = "amd";  ///< amd, nvidia or local (heads trained on `devmap collect` data)
  std::string encoder;           ///< encoder folder; empty: the shipped encoder
  std::string heads;             ///< heads folder; empty: defaultHeadsDirectory(platform)
  std::string databasePath;      ///< the embedding cache and the prediction log
  bool noCache = false;          ///< neither read nor write the cache, nor log predictions
  int threads = 2;
};

/// The heads a platform uses by default: the shipped ones, or defaultLocalModelDirectory() for local.
std::filesystem::path defaultHeadsDirectory(const std::string& platform);

/// An encoder with the heads of one platform.
struct Predictor {
  Encoder encoder;
  DevmapModel model;
  std::string modelId;  ///< "<heads folder name>/<platform>", as predictions record it
};

/// Loads the encoder and the heads; kUsage when the heads have no head for the platform (naming those they
/// have, and with `suggestLocal` how to make a local one).
Expected<std::unique_ptr<Predictor>> openPredictor(const PredictSetup& setup, bool suggestLocal);

/// The probability of the device a prediction chose.
double chosenProbability(const KernelPrediction& prediction);

/// One prediction command: the kernels asked, how to compile them and what the log's session records.
struct PredictRun {
  std::vector<KernelQuery> queries;
  CompileOptions compile;
  std::string command = "devmap";                          ///< the session's command
  nlohmann::json recordedOptions = nlohmann::json::object();  ///< the session's options
  ProgressLine* progress = nullptr;                        ///< advanced per distinct file
};

struct PredictOutcome {
  std::vector<KernelPrediction> predictions;  ///< failed ones carry their error
  std::string modelId;
  /// Database errors met (the embedding cache's, then the prediction log's): the caller must fail.
  std::vector<Error> databaseErrors;
};

/// Predicts every query and records a session with one prediction per answer in the database (a failed one
/// too, with its error and no score, when its file can be named by content). Fails only when the encoder or
/// heads cannot be loaded or the encoder itself fails.
Expected<PredictOutcome> predictAndRecord(const PredictSetup& setup, const PredictRun& run);

/// `devmap train`: heads of the data set's platforms (amd, nvidia or all), or of this machine's `devmap
/// collect` measurements (platform local).
struct TrainRequest {
  std::string platform = "all";
  std::string ir = "source";      ///< data set rows: source or dataset (IrSource)
  std::string headKind = "auto";  ///< auto, xgboost or mlp
  std::string data;               ///< devmap data folder; empty: defaultDevmapDirectory()
  std::string encoder;            ///< empty: the shipped encoder
  /// Heads folder to write; empty: userModelDirectory("devmap", kShippedDevmapName), or for local
  /// defaultLocalModelDirectory() (never the source tree).
  std::string out;
  std::string databasePath;  ///< the embedding cache; for local also the measurements
  bool noCache = false;
  int threads = 2;
  unsigned seed = 204;
  std::string command;  ///< the command line, recorded in the manifest
};

/// Trains and saves the heads; returns the folder written.
Expected<std::filesystem::path> trainHeads(const TrainRequest& request);

/// `devmap FILE --run`: each kernel predicted and run on every OpenCL device, outputs compared.
struct RunRequest {
  PredictSetup setup;
  std::vector<std::string> files;
  std::string kernel;  ///< empty: every kernel of each file
  double transfer = -1;  ///< bytes per launch for the prediction; < 0: the plan's (or the default)
  double wgsize = -1;    ///< work-group size for the prediction; < 0: the plan's (or the default)
  CompileOptions compile;
  std::vector<std::uint64_t> globalSize;  ///< 1 to 3 values, required
  std::vector<std::uint64_t> localSize;   ///< empty: the driver's choice
  std::vector<std::string> args;          ///< scalar arguments NAME=VALUE
  double timeout = 60;                    ///< seconds per device
  double minTime = 0.2;                   ///< seconds of measured repetitions per device
};

/// One kernel of one file: its plan, prediction and per-device outcome.
struct KernelRun {
  std::string file;
  std::string kernel;
  std::optional<runner::RunPlan> plan;
  std::optional<Error> error;  ///< the file does not build, the plan cannot be made or run at all
  bool buildFailed = false;
  std::optional<KernelPrediction> prediction;
  double transferBytes = 0;  ///< moved per launch (in + out)
  double wgsize = 0;         ///< as given to the prediction
  std::vector<DeviceRunResult> devices;

  bool anyOk() const;
};

/// What the measurements say about the prediction.
struct Verdict {
  std::optional<Device> measuredBest;
  std::optional<bool> correct;
  std::optional<bool> outputsAgree;  ///< null when fewer than two devices produced output
  std::string outputs;               ///< one line about the outputs
  std::string check;                 ///< one line about the prediction
};

struct RunReport {
  std::vector<KernelRun> runs;
  std::vector<Verdict> verdicts;  ///< lines up with runs
  std::string modelId;            ///< empty without heads
  std::string modelError;         ///< why there is no prediction at all
  std::map<std::string, std::string> scalars;  ///< the --arg values
  bool recorded = true;  ///< false when the database did not store everything (logged)
  /// 0 when every kernel ran ok somewhere and nothing failed, else 1.
  int exitStatus() const;
};

/// Plans each kernel, predicts it, runs it on every device and records workloads, measurements and the
/// predictions with whether they were right. kUsage for a launch that cannot be (no --global, mismatched
/// --local); every per-kernel failure is in the report.
Expected<RunReport> runKernels(const RunRequest& request);

/// The plan's scalar arguments as NAME=VALUE.
std::vector<std::string> scalarArguments(const runner::RunPlan& plan);

/// `devmap collect`: a kernel suite measured at its sizes on this machine's devices.
struct CollectRequest {
  std::string kernels;        ///< folder of kernel manifests; empty: kernelSuiteDirectory()
  std::string sizes = "all";  ///< "all" or comma-separated indices into each manifest's sizes
  double timeout = 60;
  double minTime = 0.2;
  std::string databasePath;
};

struct CollectRow {
  std::string kernel;  ///< the manifest's name
  std::int64_t n = 0;
  std::vector<DeviceRunResult> devices;
};

struct CollectReport {
  std::vector<OpenClDevice> devices;
  std::vector<CollectRow> rows;
  std::size_t ok = 0, total = 0;  ///< measurements
  std::string databasePath;
  std::int64_t sessionId = 0;
  bool recorded = true;
};

/// Measures every (manifest, size) on every device, recording each outcome (task kCollectTask).
Expected<CollectReport> collect(const CollectRequest& request);

}  // namespace mirtune::devmap
