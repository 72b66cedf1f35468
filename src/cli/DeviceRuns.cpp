// How the commands that measure OpenCL kernels word launch sizes.
#include "cli/DeviceRuns.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::cli {

std::string formatSizes(const std::vector<std::uint64_t>& sizes) {
  return sizes.empty() ? std::string("driver's choice") : fmt::format("{}", fmt::join(sizes, "x"));
}

}  // namespace mirtune::cli
