// Coarsened kernels measured against their original on this machine's OpenCL devices: the variants of one
// launch (factor 1 and every factor the transform accepts), their measurement with factor 1's outputs as the
// expected ones, the speedups, and `coarsen FILE --run` as one library call (plan, predict, measure, record).
#pragma once

#include "embeddings/Encoder.h"
#include "frontend/Coarsening.h"
#include "frontend/Frontend.h"
#include "support/Error.h"
#include "tasks/coarsen/CoarsenEvaluate.h"
#include "tasks/coarsen/CoarsenModel.h"
#include "tuner/OpenClMeasurer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::coarsen {

/// One factor of one kernel launch: the coarsened kernel and its launch, or why there is none.
struct Variant {
  int factor = 1;
  std::string kernel;                  ///< the kernel that runs (the original's name at factor 1)
  std::optional<std::string> refusal;  ///< set: not measured, with the transform's or the NDRange's reason
  std::string refusalCode;             ///< a CoarsenRefusal name, "ndrange" or "error"
  bool overBudget = false;             ///< accepted but left out by the budget
  std::optional<runner::RunPlan> plan;
  std::string text;                      ///< the coarsened source (empty at factor 1)
  std::vector<DeviceRunResult> devices;  ///< lines up with the devices; empty when not measured
  std::vector<bool> measured;            ///< per device: false when factor 1 did not run ok there

  bool runnable() const { return plan && !refusal && !overBudget; }
};

/// The factors to try after 1: `first` (the predicted ones, in order) and then the rest of kFactors.
std::vector<int> factorOrder(const std::vector<int>& first);

/// Factor 1 and every factor of `order` for one launch of `kernel` in `source` (plan `original`), coarsened
/// sources written under `folder`; the first `budget` accepted ones are to be measured.
Expected<std::vector<Variant>> makeVariants(const std::filesystem::path& source, const std::string& kernel,
                                            const runner::RunPlan& original, const std::vector<int>& order,
                                            unsigned dimension, CoarsenMode mode, int budget,
                                            const std::filesystem::path& folder);

/// The out/inout buffers `device` left (relative paths under `base`), read back for comparison; kIo naming
/// the file otherwise.
Status loadOutputs(const runner::RunPlan& plan, const DeviceRunResult& device, const std::filesystem::path& base,
                   ReferenceArgs& args);

/// Measures factor 1 on every device (outputs kept under work/f1), then each runnable variant on each device
/// where factor 1 ran ok, with that device's factor-1 outputs as the expected ones.
void measureVariants(std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                     const OpenClRunRequest& base, const std::filesystem::path& work,
                     const std::filesystem::path& runner);

/// Factor -> speedup of its median kernel time over factor 1 on device d, for the ok ones.
std::map<int, double> speedups(const std::vector<Variant>& variants, std::size_t d);
/// The factor of the highest speedup; nullopt without any.
std::optional<int> bestFactor(const std::map<int, double>& speedup);

/// Stores every measured (variant, device) of one launch (kernel times), the launch's configuration with the
/// factor, dimension, mode and coarsened kernel added.
void recordVariants(OpenClRecorder& recorder, std::int64_t workloadId, const std::string& task,
                    const nlohmann::json& launch, const std::vector<Variant>& variants, unsigned dimension,
                    CoarsenMode mode);

/// --mode consecutive|strided; kUsage otherwise.
Expected<CoarsenMode> parseModeOption(const std::string& name);

/// A scratch folder made fresh by mkdtemp (so never one that already existed) and removed with everything in
/// it at scope exit; `path` is empty when none could be made.
struct ScratchFolder {
  std::filesystem::path path;
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
};

/// The heads that predict the factor to try first, and how devices map onto their platform inputs.
struct Predictor {
  std::unique_ptr<Encoder> encoder;
  CoarsenModel model;
  std::string modelId;
  bool local = false;
  std::size_t platform = 0;  ///< shipped heads: the kPlatforms index
  nlohmann::json headData;   ///< local heads: the manifest entry naming the device slots
};

/// The encoder and the heads of `platform` (a PACT'14 GPU, "all" for the first, or local) from `heads` (empty:
/// the shipped heads, or defaultLocalCoarsenModelDirectory() for local).
Expected<std::unique_ptr<Predictor>> openPredictor(const std::string& platform, const std::string& encoder,
                                                   const std::string& heads, int threads);

/// `coarsen FILE --run`.
struct RunRequest {
  std::vector<std::string> files;
  std::string kernel;
  std::string platform = "all";
  std::string encoder;
  std::string heads;
  CompileOptions compile;
  std::vector<std::uint64_t> globalSize;  ///< the original launch, 1 to 3 values
  std::vector<std::uint64_t> localSize;   ///< empty: the driver's choice
  std::vector<std::string> args;          ///< scalar arguments NAME=VALUE
  int budget = 5;                         ///< coarsened variants measured at most (the predicted one first)
  unsigned dimension = 0;
  std::string mode = "consecutive";
  double timeout = 60;   ///< seconds per device and variant
  double minTime = 0.2;  ///< seconds of measured repetitions per device and variant
  std::string databasePath;
  bool noCache = false;
  int threads = 2;
};

/// One kernel of one file with its plan, variants and predictions.
struct KernelRun {
  std::string file;
  std::string kernel;
  std::optional<runner::RunPlan> plan;
  std::optional<Error> error;
  std::string irSha256;
  std::vector<std::optional<FactorChoice>> predicted;  ///< per device
  std::vector<Variant> variants;
};

struct RunReport {
  std::vector<OpenClDevice> devices;
  std::vector<KernelRun> runs;
  CoarsenMode mode = CoarsenMode::kConsecutive;
  unsigned dimension = 0;       ///< the NDRange dimension coarsened
  std::string modelId;          ///< empty without heads
  std::vector<Error> failures;  ///< files that could not be planned at all (their kernels are not in runs)
  bool recorded = true;         ///< false when the database did not store everything (logged)
  /// 0 when every file was planned, every kernel ran and something ran ok; else 1.
  int exitStatus() const;
};

/// Plans every kernel of the files, predicts its factor per device, measures factor 1 and the accepted
/// factors (the predicted first, `budget` at most) on every device, and records the measurements and the
/// predictions with whether they were the best. kUsage for a launch that cannot be; kNotFound without a
/// device; when no kernel could be planned at all, the first failure.
Expected<RunReport> runKernels(const RunRequest& request);

}  // namespace mirtune::coarsen
