// How the commands that measure OpenCL kernels word launch sizes (formatSizes of tasks/common/LaunchText.h) and
// pass the front end's -D/-I to clBuildProgram.
#pragma once

#include "cli/CompileFlags.h"
#include "tasks/common/LaunchText.h"
#include "tuner/OpenClMeasurer.h"

#include <string>

namespace mirtune::cli {

using mirtune::runnerBuildOptions;
/// -D and -I of the front-end flags, for clBuildProgram.
inline std::string runnerBuildOptions(const CompileOptions& compile) {
  return mirtune::runnerBuildOptions(compile.defines, compile.includeDirectories);
}

}  // namespace mirtune::cli
