// Runs one measurement plan on one OpenCL device, and lists kernel arguments through clGetKernelArgInfo.
#pragma once

#include "tuner/runner/RunPlan.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace mirtune::runner {

/// Told what a run is doing as it goes, so a watchdog that ends a stuck run can say where it stopped:
/// `phase` for people ("building the program", "repetition 3"), `building` while the driver compiles, and
/// the result as far as it is known (kernel, sizes, device).
using RunListener = std::function<void(const std::string& phase, bool building, const nlohmann::json& soFar)>;

/// Builds the plan's source on device (platformIndex, deviceIndex) with -cl-kernel-arg-info, checks the
/// plan's arguments against the kernel's, then runs warm-up and measured repetitions. Never throws; the
/// result is:
/// {"schema": "mirtune-run-opencl/1", "status": "ok"|"build_failed"|"run_failed"|"invalid_plan" (or, written
///  by the runner's watchdog past the plan's timeout_s, "build_timeout"|"run_timeout"), "message",
///  "build_log" (build_failed), "opencl_error" (name of the failing CL error, run_failed),
///  "device": {"platform_index", "device_index", "platform", "name", "type", "vendor", "driver_version"},
///  "kernel", "global_size", "local_size", "warmup", "repetitions",
///  "kernel_seconds": [...] (event START->END per repetition),
///  "total_seconds": [...] (wall clock: host->device writes + kernel + device->host reads),
///  "median_kernel_s", "iqr_kernel_s", "median_total_s", "iqr_total_s",
///  "outputs": [{"arg", "name", "type", "elements", "file"}]} (out/inout buffers of the last repetition).
/// `planDirectory` resolves a relative source path. `listener` (when set) hears of every phase.
nlohmann::json runOpenClPlan(const RunPlan& plan, const std::string& planDirectory, int platformIndex,
                             int deviceIndex, const RunListener& listener = {});

/// Builds `sourcePath` on the device and lists each kernel's arguments (or only `kernelName`'s):
/// {"status": "ok"|"build_failed"|"run_failed"|"invalid_plan", "message", "build_log", "device": {...},
///  "kernels": [{"name", "args": [{"index", "name", "address": "global"|"constant"|"local"|"private",
///  "type" (as the driver spells it, e.g. "float*"), "element_type" ("float"), "pointer", "access"
///  ("none"|"read_only"|"write_only"|"read_write"), "const", "supported" (false for image/sampler/struct
///  arguments)}]}]}.
nlohmann::json listOpenClKernelArgs(const std::string& sourcePath, const std::string& kernelName,
                                    const std::string& buildOptions, int platformIndex, int deviceIndex,
                                    const RunListener& listener = {});

}  // namespace mirtune::runner
