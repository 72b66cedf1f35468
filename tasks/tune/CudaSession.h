// `mirtune tune` for a CUDA KernelSpecification: each configuration built by nvcc around the generated
// harness (tasks/tune/CudaHarness.h) and measured through the process backend, here on this machine's GPU, or
// exported as a plan folder (built here when nvcc is) for a GPU machine and ingested back.
#pragma once

#include "support/Error.h"
#include "tasks/tune/TuneSpec.h"
#include "tasks/tune/TuneWorkflow.h"

#include <cstddef>
#include <filesystem>
#include <string>

namespace mirtune::tune {

/// The -arch an export builds for when --cuda-arch names none (the H100/H200 class).
inline constexpr const char* kDefaultCudaExportArch = "sm_90";

/// Runs a live session of a CUDA spec on this machine's CUDA device (options.device: its ordinal; default 0),
/// built with -arch of that device unless options.cudaArch names one. Each configuration's outputs are
/// checked against the default's by its harness (the spec's tolerance); a build failure is recorded as
/// compile, a CUDA error as runtime failure, and the search goes on. Results go to the database (resume with
/// options.resume) and options.t4File. Errors: kNotFound when this machine has no CUDA device (one line,
/// saying to --export) or no nvcc; kUsage for --cache, --strategy transfer or a --device that is not an
/// ordinal of this machine.
Expected<TuneSessionResult> runCudaTuneSession(const TuneSpec& spec, const TuneSessionOptions& options);

/// Writes `folder`: one process plan folder measuring the default and the strategy's picks (exhaustive or
/// random; budget as exportTuneSession), tune.json, export-id and run-all.sh. With nvcc here (options.nvcc,
/// PATH or /usr/local/cuda/bin) every configuration is built here for options.cudaArch (default sm_90): the
/// binaries are in the plan folder and the builds' results (compile failures included) in its
/// results-1.jsonl, so the GPU machine only runs them. Without nvcc the plan folder keeps the sources and the
/// nvcc commands, which the runner carries out there. Returns the number of configurations.
Expected<std::size_t> exportCudaTuneSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                            const std::filesystem::path& folder);

/// Stores what an exported folder measured: the plan folder checked as every process export is (its plan, the
/// harness and kernel unchanged, every result line), then each run that its harness judged correct compared
/// again here with the default's output files (the spec's tolerance; a folder whose files contradict its
/// results, or lack them, is refused and nothing is stored), then stored once per export-id under the machine
/// that measured it and written to options.t4File. A plan folder without results is counted as not measured
/// yet.
Expected<TuneSessionResult> ingestCudaTuneSession(const TuneSpec& spec, const TuneSessionOptions& options,
                                                  const std::filesystem::path& folder);

}  // namespace mirtune::tune
