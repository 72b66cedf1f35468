// The text form of a machine description (`mirtune platform`): CPU, memory, OS, compilers, GPUs, OpenCL.
#pragma once

#include "support/Platform.h"

#include <string>

namespace mirtune {

/// One aligned line per fact ("cpu", "memory", "os", "compilers", "gpu", "opencl" with its devices, "note")
/// and the fingerprint last.
std::string textReport(const PlatformInfo& info);

}  // namespace mirtune
