// The CUDA devices of this machine, as the NVIDIA driver (libcuda.so.1, opened at run time) lists them:
// mirtune itself links no CUDA library, so it starts and builds on machines without one.
#pragma once

#include "support/Error.h"

#include <string>
#include <vector>

namespace mirtune::tune {

struct CudaDevice {
  int index = 0;  ///< the driver's ordinal (CUDA_VISIBLE_DEVICES selects by it)
  std::string name;
  int major = 0;  ///< compute capability
  int minor = 0;
  /// nvcc's architecture for the device ("sm_90").
  std::string arch() const;
};

/// The devices the driver lists. kNotFound saying why when there are none: no driver library, the driver
/// failing to start (no GPU, a driver/library mismatch), or a driver that lists no device.
Expected<std::vector<CudaDevice>> localCudaDevices();

}  // namespace mirtune::tune
