// How the commands that measure OpenCL kernels word launch sizes in their tables (times: formatSeconds of
// tuner/OpenClMeasurer.h, which also measures).
#pragma once

#include "cli/CompileFlags.h"
#include "tuner/OpenClMeasurer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::cli {

/// "64x64", or "driver's choice" for an empty size.
std::string formatSizes(const std::vector<std::uint64_t>& sizes);

using mirtune::runnerBuildOptions;
/// -D and -I of the front-end flags, for clBuildProgram.
inline std::string runnerBuildOptions(const CompileOptions& compile) {
  return mirtune::runnerBuildOptions(compile.defines, compile.includeDirectories);
}

}  // namespace mirtune::cli
