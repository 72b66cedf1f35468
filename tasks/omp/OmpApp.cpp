// OpenMP suite manifests, build/run commands and size features.
#include "tasks/omp/OmpApp.h"

#include "support/Files.h"
#include "tasks/omp/OmpSpace.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mirtune::omp {
namespace fs = std::filesystem;

Expected<Compiler> parseCompiler(std::string_view name) {
  if (name == "clang") return Compiler::kClang;
  if (name == "gcc") return Compiler::kGcc;
  return Error(ErrorCode::kUsage, fmt::format("unknown compiler '{}' (expected clang or gcc)", name));
}

std::string_view compilerName(Compiler compiler) {
  return compiler == Compiler::kClang ? "clang" : "gcc";
}

CommandFactory ompCommandFactory(const OmpBuild& build, const std::vector<std::string>& arguments) {
  return [build, arguments](const Configuration& configuration) -> Expected<CandidateCommands> {
    CandidateCommands commands;
    const bool cxx =
        build.sourceName.size() > 2 && build.sourceName.substr(build.sourceName.size() - 2) != ".c";
    std::string compiler =
        build.compiler == Compiler::kClang ? (cxx ? "clang++-14" : "clang-14") : (cxx ? "g++" : "gcc");
    commands.buildArgv = {compiler, "-O3", "-fopenmp"};
    commands.buildArgv.insert(commands.buildArgv.end(), build.extraFlags.begin(), build.extraFlags.end());
    commands.buildArgv.insert(commands.buildArgv.end(), {build.sourceName, "-o", kBinaryPlaceholder, "-lm"});
    commands.buildKey = fmt::format("{}", fmt::join(commands.buildArgv, "\x1f"));
    commands.runArgv = {kBinaryPlaceholder};
    commands.runArgv.insert(commands.runArgv.end(), arguments.begin(), arguments.end());
    commands.runEnvironment = ompEnvironment(configuration);
    return commands;
  };
}

std::vector<float> sizeFeatures(const std::vector<std::string>& arguments) {
  double logProduct = 0;
  int numeric = 0;
  for (const auto& argument : arguments) {
    char* end = nullptr;
    const double value = std::strtod(argument.c_str(), &end);
    if (argument.empty() || *end != '\0' || !std::isfinite(value)) continue;
    logProduct += std::log2(1.0 + std::fabs(value));
    ++numeric;
  }
  return {static_cast<float>(logProduct), static_cast<float>(numeric)};
}

}  // namespace mirtune::omp
