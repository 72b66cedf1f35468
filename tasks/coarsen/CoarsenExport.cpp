// Exported coarsening plans held against the launches mirtune plans for them.
#include "tasks/coarsen/CoarsenExport.h"

#include "tasks/coarsen/CoarsenData.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace mirtune::coarsen {

Status checkExportedFactorPlan(const runner::RunPlan& exported, const runner::RunPlan& original, int factor,
                               unsigned dimension, const std::string& kernel,
                               const std::filesystem::path& planFile) {
  auto differ = [&](const std::string& what) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: {}; the plan is not the one mirtune makes for factor {} of this launch (was the "
                     "export edited?)",
                     planFile.string(), what, factor);
  };
  if (std::find(kFactors.begin(), kFactors.end(), factor) == kFactors.end())
    return differ(fmt::format("{} is not a coarsening factor ({})", factor, fmt::join(kFactors, ", ")));
  const std::string& expectedKernel = factor == 1 ? original.kernel : kernel;
  if (exported.kernel != expectedKernel)
    return differ(fmt::format("it runs kernel '{}', not '{}'", exported.kernel, expectedKernel));
  if (exported.buildOptions != original.buildOptions) {
    return differ(
        fmt::format("its build options are '{}', not '{}'", exported.buildOptions, original.buildOptions));
  }
  if (runner::runPlanToJson(exported)["args"] != runner::runPlanToJson(original)["args"])
    return differ("its arguments are not the suite's for this size");
  if (exported.warmup != original.warmup || exported.minRepetitions != original.minRepetitions ||
      exported.maxRepetitions != original.maxRepetitions) {
    return differ(fmt::format("it repeats {} warm-up and {} to {} measured launches, not {} and {} to {}",
                              exported.warmup, exported.minRepetitions, exported.maxRepetitions,
                              original.warmup, original.minRepetitions, original.maxRepetitions));
  }
  const auto sizeText = [](const std::vector<std::uint64_t>& sizes) {
    return fmt::format("[{}]", fmt::join(sizes, ", "));
  };
  const std::uint64_t f = static_cast<std::uint64_t>(factor);
  std::vector<std::uint64_t> global = original.globalSize;
  if (dimension >= global.size() || global[dimension] % f != 0)
    return differ(fmt::format("the launch {} cannot be coarsened by {} in dimension {}", sizeText(global), f,
                              dimension));
  global[dimension] /= f;
  if (exported.globalSize != global) {
    return differ(
        fmt::format("its global size is {}, not {}", sizeText(exported.globalSize), sizeText(global)));
  }
  // The transform keeps the work-group size or divides it by the factor, depending on the kernel.
  std::vector<std::uint64_t> divided = original.localSize;
  if (!divided.empty() && divided[dimension] % f == 0) divided[dimension] /= f;
  if (exported.localSize != original.localSize && exported.localSize != divided) {
    return differ(fmt::format("its local size is {}, not {}", sizeText(exported.localSize),
                              sizeText(original.localSize)));
  }
  return {};
}

}  // namespace mirtune::coarsen
