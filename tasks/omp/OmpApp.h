// OpenMP applications: the shipped suite's manifests (kernels/openmp), how an app is built and run for a
// configuration, and its problem-size features.
#pragma once

#include "support/Error.h"
#include "tuner/TuningSession.h"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mirtune::omp {

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

enum class Compiler { kClang, kGcc };
Expected<Compiler> parseCompiler(std::string_view name);
std::string_view compilerName(Compiler compiler);

/// How an app is built: `<compiler> -O3 -fopenmp <extra flags> <sourceName> -o <binary> -lm`.
struct OmpBuild {
  Compiler compiler = Compiler::kClang;
  std::vector<std::string> extraFlags;
  std::string sourceName = "app.c";  ///< the (rewritten) source's name in the session's work folder
};

/// Every configuration shares one build (the rewritten source with schedule(runtime)); runs differ only in
/// the OMP_* environment.
CommandFactory ompCommandFactory(const OmpBuild& build, const std::vector<std::string>& arguments);

/// Problem-size inputs of the head: the sum of log2(1 + |value|) over the numeric arguments (a log of their
/// product) and their count; other arguments are ignored.
inline constexpr std::array<std::string_view, 2> kSizeFeatureNames = {"log2_size_product", "numeric_args"};
std::vector<float> sizeFeatures(const std::vector<std::string>& arguments);

}  // namespace mirtune::omp
