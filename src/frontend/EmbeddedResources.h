// Header files compiled into the mirtune binary (CUDA shim, OpenCL prelude) so it needs no data files.
#pragma once

#include <string_view>
#include <vector>

namespace mirtune {

struct EmbeddedResource {
  std::string_view name;     ///< file name, e.g. "cuda_shim.h"
  std::string_view content;  ///< its bytes
};

/// Every file of src/frontend/resources/, generated at build time.
const std::vector<EmbeddedResource>& embeddedResources();

}  // namespace mirtune
