// Lists the OpenCL platforms and devices the ICD loader offers, as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mirtune::runner {

/// The listing printed by `mirtune-run probe --json`:
/// {"platforms": [{"name", "vendor", "version", "devices": [{"name", "type" ("CPU"|"GPU"|"ACCEL"|"CUSTOM"|
/// "OTHER"), "vendor", "driver_version", "device_version", "opencl_c_version", "compute_units",
/// "global_memory_bytes", "local_memory_bytes", "max_work_group_size", "max_clock_mhz"}]}]}.
/// No OpenCL platform at all (the loader's CL_PLATFORM_NOT_FOUND_KHR) is an empty list. A query that fails
/// for one platform or device leaves an "error" string in its object and the listing goes on.
struct OpenClListing {
  nlohmann::json json;
  std::string
      error;  ///< non-empty when OpenCL itself could not be queried (an error other than "no platform")
};

OpenClListing probeOpenCl();

}  // namespace mirtune::runner
