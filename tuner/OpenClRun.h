// Runs one OpenCL kernel on every OpenCL device, one mirtune-run child process per device, and checks
// outputs.
#pragma once

#include "database/MeasureStatus.h"
#include "tuner/runner/RunPlan.h"
#include "support/Error.h"
#include "tuner/ReferenceArgs.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// When two floating-point outputs agree: |actual - expected| <= absolute + relative * |expected|.
/// Integer outputs must be equal.
struct Tolerance {
  double relative = 1e-3;
  double absolute = 1e-5;
};

/// An OpenCL device as `mirtune-run probe --json` lists it.
struct OpenClDevice {
  int platformIndex = 0;
  int deviceIndex = 0;
  std::string platformName;
  std::string name;
  std::string type;  ///< "CPU", "GPU", "ACCEL", ...
};

struct OpenClRunRequest {
  /// What to run; its outputDirectory is set per device by runOnAllDevices.
  runner::RunPlan plan;
  /// Wall-clock limit of one device's runner process (build + warm-up + repetitions), seconds; it becomes the
  /// plan's timeout_s, which the runner enforces itself (this process kills it only some seconds later, as a
  /// backstop). <= 0 keeps the plan's own timeout_s.
  double timeoutSeconds = 60;
  /// Expected outputs computed on the host from the same generated inputs; empty = compare devices only.
  ReferenceFunction reference;
  std::string referenceName;  ///< for messages
  Tolerance tolerance;
  /// Devices to run on; empty = every device the probe lists.
  std::vector<OpenClDevice> devices;
  /// Where plans, results and output buffers go (kept); empty = a temporary folder removed afterwards.
  std::filesystem::path workDirectory;
  /// Extra environment of the runner processes (e.g. POCL_CACHE_DIR).
  std::map<std::string, std::string> environment;
};

/// One device's outcome; runOnAllDevices returns one per device, in probe (or request) order.
struct DeviceRunResult {
  int platformIndex = 0;
  int deviceIndex = 0;
  std::string platformName;
  std::string name;
  std::string type;  ///< "CPU", "GPU", ...
  std::string vendor;
  std::string driverVersion;
  MeasureStatus status = MeasureStatus::kRunFailed;
  /// Empty when ok; otherwise what went wrong (the OpenCL error name, the timeout, the differing buffer and
  /// index, the runner's stderr excerpt).
  std::string message;
  std::string buildLog;               ///< the compiler's log when status is kBuildFailed
  std::string standardError;          ///< the last few KB the runner wrote to stderr
  std::vector<double> kernelSeconds;  ///< raw samples: kernel event START->END per repetition, seconds
  std::vector<double> totalSeconds;   ///< raw samples: writes + kernel + reads, wall clock, seconds
  double medianKernelSeconds = 0;
  double iqrKernelSeconds = 0;  ///< spread: interquartile range of kernelSeconds, seconds
  double medianTotalSeconds = 0;
  double iqrTotalSeconds = 0;
  /// Output buffers (.npy) by argument index; the files remain only when the request named a workDirectory.
  std::map<std::size_t, std::filesystem::path> outputFiles;
  double wallSeconds = 0;  ///< the runner process's wall time, seconds
  double buildSeconds = 0;  ///< clBuildProgram's wall time, seconds (0 when the runner did not get that far)
};

/// A result for `device`: its identity filled in, nothing measured yet.
DeviceRunResult deviceRunResultFor(const OpenClDevice& device);
/// The device a result was measured on (the inverse of deviceRunResultFor).
OpenClDevice openClDeviceOf(const DeviceRunResult& result);

struct OpenClRunResult {
  std::vector<DeviceRunResult> devices;
};

/// Lists the devices through `runnerExecutable probe --json`. An empty list (no ICD, no platform) is not an
/// error; a runner that cannot start or crashes is. Every runner these functions start ends when this
/// process ends (`--parent-pid`), and enforces its limit itself.
Expected<std::vector<OpenClDevice>> probeOpenClDevices(const std::filesystem::path& runnerExecutable,
                                                       double timeoutSeconds = 60);

/// Runs the request's kernel on each device in its own `mirtune-run opencl` process (so a crash or hang costs
/// one device: past the timeout the runner ends itself with kRunTimeout, or kBuildTimeout while the driver
/// compiles, a crash or exit without a result gives kRunFailed), then checks the ok devices' out/inout
/// buffers against the reference (when there is one) and against the first ok device; a difference makes that
/// device kWrongOutput naming the buffer and the first differing index. Errors: kNotFound when there is no
/// OpenCL device, kInvalidInput when every device reports that the plan does not fit the kernel (wrong
/// arguments, image arguments, unknown kernel name), kInternal when the reference itself fails.
Expected<OpenClRunResult> runOnAllDevices(const OpenClRunRequest& request,
                                          const std::filesystem::path& runnerExecutable);

/// A device's outcome from the JSON `mirtune-run opencl` writes (times, status, message, build log, output
/// files as the runner named them) with `device`'s identity where the JSON has none; "build_timeout" and
/// "run_timeout" read as kBuildTimeout and kRunTimeout, "invalid_plan" and every other failure as kRunFailed.
DeviceRunResult deviceResultFromJson(const nlohmann::json& json, const OpenClDevice& device);

/// Reads the out/inout buffers of `plan` that an ok `device` left (its output files) and compares each with
/// `expected` (by argument index; a buffer without an entry is only read). A missing or unreadable file makes the
/// device kRunFailed, a difference kWrongOutput, the message naming the buffer and ending in "(`against`)".
/// Returns the buffers read.
std::map<std::size_t, runner::HostArray> checkDeviceOutputs(DeviceRunResult& device, const runner::RunPlan& plan,
                                                            const std::map<std::size_t, runner::HostArray>& expected,
                                                            const Tolerance& tolerance, const std::string& against);

/// nullopt when `actual` matches `expected` within `tolerance` (exactly for integers), else a message naming
/// `bufferName`, the first differing index and both values.
std::optional<std::string> compareBuffers(const runner::HostArray& actual, const runner::HostArray& expected,
                                          const Tolerance& tolerance, const std::string& bufferName);

/// Each kernel's arguments as `mirtune-run opencl-args --source F.cl` reports them (see OpenClExecute.h).
Expected<nlohmann::json> listKernelArgs(const std::filesystem::path& runnerExecutable,
                                        const std::filesystem::path& source,
                                        const std::string& buildOptions = "", double timeoutSeconds = 60);

/// Checks --global/--local as the run commands take them (globalSize non-empty, checked by the caller with its
/// own wording): --local, when given, has as many dimensions as --global and divides it in each. kUsage naming the
/// options otherwise.
Status checkLaunchGeometry(const std::vector<std::uint64_t>& globalSize, const std::vector<std::uint64_t>& localSize);

/// How buildDefaultPlan sizes an arbitrary kernel's arguments.
struct DefaultPlanOptions {
  std::vector<std::uint64_t> globalSize = {1 << 20};  ///< work-items per dimension (1 to 3 dims)
  std::vector<std::uint64_t> localSize;               ///< empty = the driver chooses
  /// Bytes moved in total across all buffer arguments; 0 = each buffer gets product(globalSize) elements.
  std::uint64_t transferBytes = 0;
  /// Scalar values by argument name, as parsed from NAME=VALUE.
  std::map<std::string, std::string> scalarValues;
  std::string buildOptions;
};

/// A runnable plan for an arbitrary kernel from its `opencl-args` entry ({"name", "args": [...]}) with these
/// defaults:
///  - buffers (__global/__constant pointers): product(globalSize) elements each or, when transferBytes > 0,
///    transferBytes / (number of buffer args * element size) elements; const or __constant pointers are
///    inputs, other pointers inout (uploaded before and read back after every launch, and compared);
///    generators: floats uniform in [0, 1), integers uniform in [0, min(99, elements - 1)] (safe as indices),
///    each buffer seeded by its argument index + 1;
///  - scalars: the value given as NAME=VALUE in scalarValues, else integer types get globalSize[0] (the usual
///    `n`) and floating types 1.0;
///  - __local pointers: product(localSize) elements of their type (1024 when localSize is empty).
/// Vector element types (float4*) take 4x the scalar elements' count. kInvalidInput for image, sampler or
/// struct arguments, unknown element types, a NAME=VALUE naming no scalar argument, or a bad value.
Expected<runner::RunPlan> buildDefaultPlan(const nlohmann::json& kernelArgs,
                                           const std::filesystem::path& source,
                                           const DefaultPlanOptions& options);

/// Bytes one launch of the plan moves between host and device: in/inout buffers uploaded plus out/inout
/// buffers read back.
std::uint64_t planTransferBytes(const runner::RunPlan& plan);
/// Work-items per work-group of the plan: the product of the local size, 0 when the driver chooses.
std::uint64_t planWorkGroupSize(const runner::RunPlan& plan);

}  // namespace mirtune
