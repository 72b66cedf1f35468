// The shipped kernel suite's manifests (kernels/opencl/<name>.json) and their conversion into run requests.
#pragma once

#include "support/Error.h"
#include "tuner/OpenClRun.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mirtune {

/// One kernel of the suite. The manifest is a plan (see runner/RunPlan.h) whose sizes may be integer
/// expressions in the size parameter N ("N*N", "N/16", "(N+63)/64*64"; + - * / % and parentheses, integer
/// arithmetic): "global_size"/"local_size" items and the args' "elements", "bytes", "value" and generator
/// "lo"/"hi"/"step"/"value". Besides the plan's keys it has "name", "description", "sizes" (the N to measure,
/// small to large), "reference" (a name in the reference table) and optionally "tolerance":
/// {"relative", "absolute"}.
struct KernelManifest {
  std::filesystem::path path;  ///< the manifest file
  std::string name;            ///< "vector_add"
  std::string description;
  std::filesystem::path source;     ///< absolute path of the .cl file
  std::string kernel;               ///< the kernel function
  std::vector<std::int64_t> sizes;  ///< values of N, small to large
  std::string reference;            ///< CPU reference name (see tuner/references/References.h)
  Tolerance tolerance;
  nlohmann::json plan;  ///< the plan with N left symbolic
};

/// Reads and checks a manifest: every expression evaluates at every size, the plan parses, the reference
/// exists. Errors name the file and the offending key.
Expected<KernelManifest> loadKernelManifest(const std::filesystem::path& path);

/// Every manifest (*.json) in `directory`, sorted by name.
Expected<std::vector<KernelManifest>> loadKernelSuite(const std::filesystem::path& directory);

/// The (manifest, N) pairs of a suite that size indices select (parseSizeIndices: empty = every size), in suite
/// order; an index past a manifest's sizes is skipped with a warning naming the manifest.
std::vector<std::pair<const KernelManifest*, std::int64_t>> selectManifestSizes(
    const std::vector<KernelManifest>& suite, const std::vector<std::size_t>& indices);

/// kernels/opencl in the source tree.
std::filesystem::path kernelSuiteDirectory();

/// Evaluates an integer size expression in N; kInvalidInput naming the expression on a syntax error or a
/// division by zero.
Expected<std::int64_t> evaluateSizeExpression(std::string_view expression, std::int64_t n);

/// The plan of `manifest` at size N, as the runner reads it.
Expected<runner::RunPlan> makeRunPlan(const KernelManifest& manifest, std::int64_t n);

/// A request for runOnAllDevices at size N: the plan, the CPU reference and the manifest's tolerance.
Expected<OpenClRunRequest> makeRunRequest(const KernelManifest& manifest, std::int64_t n);

}  // namespace mirtune
