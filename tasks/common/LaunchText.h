// How tables word an OpenCL launch's sizes (shared by the tasks that run kernels and their command lines).
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mirtune {

/// "64x64", or "driver's choice" for an empty size.
inline std::string formatSizes(const std::vector<std::uint64_t>& sizes) {
  return sizes.empty() ? std::string("driver's choice") : fmt::format("{}", fmt::join(sizes, "x"));
}

}  // namespace mirtune
