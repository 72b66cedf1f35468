// OpenMP applications: how an app of the suite (tasks/common/OpenMpSuite.h) is built and run for a
// configuration, and its problem-size features.
#pragma once

#include "support/Error.h"
#include "tasks/common/OpenMpSuite.h"
#include "tuner/TuningSession.h"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mirtune::omp {

// The suite's manifests are shared with the unroll task (tasks/common/OpenMpSuite.h).
using mirtune::loadOmpApp;
using mirtune::loadOmpSuite;
using mirtune::OmpApp;
using mirtune::ompSuiteDirectory;

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
