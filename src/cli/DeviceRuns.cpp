// How the commands that measure OpenCL kernels word times and sizes.
#include "cli/DeviceRuns.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::cli {

std::string formatSeconds(double seconds) {
  if (seconds >= 1) return fmt::format("{:.3f} s", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.3f} ms", seconds * 1e3);
  return fmt::format("{:.1f} us", seconds * 1e6);
}

std::string formatSizes(const std::vector<std::uint64_t>& sizes) {
  return sizes.empty() ? std::string("driver's choice") : fmt::format("{}", fmt::join(sizes, "x"));
}

}  // namespace mirtune::cli
