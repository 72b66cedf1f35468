// How the commands that measure OpenCL kernels word times and sizes in their tables; the measurement itself is
// tuner/OpenClMeasurer.h.
#pragma once

#include "cli/CompileFlags.h"
#include "tuner/OpenClMeasurer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune::cli {

/// "1.234 ms", "12.3 us", "1.500 s".
std::string formatSeconds(double seconds);
/// "64x64", or "driver's choice" for an empty size.
std::string formatSizes(const std::vector<std::uint64_t>& sizes);

using mirtune::runnerBuildOptions;
/// -D and -I of the front-end flags, for clBuildProgram.
inline std::string runnerBuildOptions(const CompileOptions& compile) {
  return mirtune::runnerBuildOptions(compile.defines, compile.includeDirectories);
}

}  // namespace mirtune::cli
