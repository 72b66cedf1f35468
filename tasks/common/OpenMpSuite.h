// The shipped OpenMP suite (kernels/openmp): each app's manifest names its source, its arguments and named
// problem sizes. The omp task tunes these apps; the unroll task measures their loops.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mirtune {

/// One app of the suite, as its manifest (kernels/openmp/<name>.json) describes it.
struct OmpApp {
  std::string name;
  std::string description;
  std::string category;  ///< regular, imbalanced, irregular, reduction
  std::filesystem::path source;
  std::vector<std::string> argNames;
  /// Named sizes in manifest order ("test", "small", "large"): the positional arguments of each.
  std::vector<std::pair<std::string, std::vector<std::string>>> sizes;

  /// The arguments of a named size; kNotFound naming the sizes there are.
  Expected<std::vector<std::string>> sizeArguments(std::string_view size) const;
};

/// Errors name the manifest and the offending key; the source must exist.
Expected<OmpApp> loadOmpApp(const std::filesystem::path& manifest);
/// Every manifest (*.json) in a folder, sorted by name.
Expected<std::vector<OmpApp>> loadOmpSuite(const std::filesystem::path& directory);
/// <shareDirectory()>/kernels/openmp (installed share folder or source tree).
std::filesystem::path ompSuiteDirectory();

}  // namespace mirtune
