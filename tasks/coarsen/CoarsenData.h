// The thread-coarsening data set (Magni et al. PACT'14 runtimes, as used by DeepTune PACT'17): 17 OpenCL kernels,
// runtimes per coarsening factor on 4 GPUs, the oracle factors, and NCC's IR file of each kernel.
#pragma once

#include "support/Error.h"

#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::coarsen {

/// The coarsening factors of the data set, declared once; a factor's index here is its class label.
inline constexpr std::array<int, 6> kFactors = {1, 2, 4, 8, 16, 32};
/// Index of `factor` in kFactors; kInvalidInput for any other value.
Expected<std::size_t> factorIndex(int factor);

/// The GPUs of the data set, declared once: index, option name, CSV column suffix and hardware.
struct CoarsenPlatform {
  std::string_view name;      ///< "cypress" | "tahiti" | "fermi" | "kepler" (the --platform value)
  std::string_view column;    ///< suffix of the runtime_<P> and cf_<P> columns
  std::string_view hardware;  ///< the GPU (also how IR2Vec's result files name the platform)
};
inline constexpr std::array<CoarsenPlatform, 4> kPlatforms = {{
    {"cypress", "Cypress", "AMD Radeon HD 5900"},
    {"tahiti", "Tahiti", "AMD Tahiti 7970"},
    {"fermi", "Fermi", "NVIDIA GTX 480"},
    {"kepler", "Kepler", "NVIDIA Tesla K20c"},
}};
/// Index into kPlatforms of a platform given by option name, column suffix or hardware name; kUsage naming the
/// option names otherwise.
Expected<std::size_t> platformIndex(std::string_view name);

/// One kernel: its runtime at every factor on every platform. Runtimes are in the data set's unit (ns, most
/// likely); only ratios are used.
struct CoarsenKernel {
  std::string name;
  std::string source;        ///< OpenCL source of the `src` column (normalised: identifiers renamed)
  std::string irFile;        ///< NCC's .ll file, relative to the data set folder
  std::string irFileSha256;  ///< SHA-256 of that file's bytes
  /// runtime[platform][factor index]; NaN where the factor was not measured on that platform.
  std::array<std::array<double, kFactors.size()>, kPlatforms.size()> runtime{};
  std::array<int, kPlatforms.size()> oracleFactor{};  ///< the fastest factor (pact-2014-oracles.csv)

  bool measured(std::size_t platform, std::size_t factor) const { return !std::isnan(runtime[platform][factor]); }
  /// The largest factor measured on `platform` (nbody has 16 on the AMD GPUs but only 8 on the NVIDIA ones).
  int largestFactor(std::size_t platform) const;
  /// A predicted factor clipped to largestFactor(platform), as the published protocol does.
  int clip(std::size_t platform, int factor) const;
  /// runtime(factor 1) / runtime(clip(factor)) on `platform`; `factor` must be one of kFactors.
  double speedup(std::size_t platform, int factor) const;
  double oracleSpeedup(std::size_t platform) const { return speedup(platform, oracleFactor[platform]); }
};

struct CoarsenData {
  std::filesystem::path directory;    ///< the tcoarsening folder
  std::vector<CoarsenKernel> kernels;  ///< 17, sorted by name (the protocol's order)

  /// Index of the kernel with this name; kNotFound naming the known kernels otherwise.
  Expected<std::size_t> kernelIndex(std::string_view name) const;
  /// Kernels whose IR files are byte-identical to `kernel`'s (itself included): the same program measured
  /// twice (mt and mtLocal), which cross-validation must never split between training and test.
  std::vector<std::size_t> sameIr(std::size_t kernel) const;
};

/// The data set folder: <dataDirectory()>/tcoarsening.
std::filesystem::path defaultCoarsenDirectory();

/// Reads pact-2014-runtimes.csv, pact-2014-oracles.csv and kernels_ir/<kernel>.ll, and cross-checks them (every
/// oracle factor is the fastest measured one, every kernel has factor 1 everywhere and an IR file). Errors name
/// the file and line; a missing folder says where the data set comes from.
Expected<CoarsenData> loadCoarsenData(const std::filesystem::path& directory);

}  // namespace mirtune::coarsen
