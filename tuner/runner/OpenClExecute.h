// Runs one measurement plan on one OpenCL device, and lists kernel arguments through clGetKernelArgInfo.
#pragma once

#include "runner/RunPlan.h"

#include <nlohmann/json.hpp>

#include <string>

namespace mirtune::runner {

/// Builds the plan's source on device (platformIndex, deviceIndex) with -cl-kernel-arg-info, checks the
/// plan's arguments against the kernel's, then runs warm-up and measured repetitions. Never throws; the
/// result is:
/// {"schema": "mirtune-run-opencl/1", "status": "ok"|"build_failed"|"run_failed"|"invalid_plan", "message",
///  "build_log" (build_failed), "opencl_error" (name of the failing CL error, run_failed),
///  "device": {"platform_index", "device_index", "platform", "name", "type", "vendor", "driver_version"},
///  "kernel", "global_size", "local_size", "warmup", "repetitions",
///  "kernel_seconds": [...] (event START->END per repetition),
///  "total_seconds": [...] (wall clock: host->device writes + kernel + device->host reads),
///  "median_kernel_s", "iqr_kernel_s", "median_total_s", "iqr_total_s",
///  "outputs": [{"arg", "name", "type", "elements", "file"}]} (out/inout buffers of the last repetition).
/// `planDirectory` resolves a relative source path.
nlohmann::json runOpenClPlan(const RunPlan& plan, const std::string& planDirectory, int platformIndex,
                             int deviceIndex);

/// Builds `sourcePath` on the device and lists each kernel's arguments (or only `kernelName`'s):
/// {"status": "ok"|"build_failed"|"run_failed"|"invalid_plan", "message", "build_log", "device": {...},
///  "kernels": [{"name", "args": [{"index", "name", "address": "global"|"constant"|"local"|"private",
///  "type" (as the driver spells it, e.g. "float*"), "element_type" ("float"), "pointer", "access"
///  ("none"|"read_only"|"write_only"|"read_write"), "const", "supported" (false for image/sampler/struct
///  arguments)}]}]}.
nlohmann::json listOpenClKernelArgs(const std::string& sourcePath, const std::string& kernelName,
                                    const std::string& buildOptions, int platformIndex, int deviceIndex);

}  // namespace mirtune::runner
