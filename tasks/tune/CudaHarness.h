// The host program of a CUDA KernelSpecification: generated once per T1 spec (its arguments, fills, output
// files and measurement settings written into CUDA C++), built by nvcc once per configuration with the
// parameters and that configuration's launch geometry as -D macros, and run by `mirtune-run process` like any
// tuned program.
#pragma once

#include "support/Error.h"
#include "tasks/tune/TuneSpec.h"
#include "tuner/SearchSpace.h"
#include "tuner/TuningSession.h"
#include "tuner/runner/RunPlan.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::tune {

/// Name of the generated host program in a session's work folder (the kernel file is copied beside it).
inline constexpr const char* kCudaHarnessFile = "mirtune_harness.cu";
/// Where a configuration's run writes its output arguments, relative to the work folder.
inline constexpr const char* kCudaOutputsFolder = "outputs";
/// Separate runs of one configuration's program: each gives one sample, the median launch time of its own
/// warm-up and repetitions, so a configuration's spread includes what changes between processes.
inline constexpr int kCudaProcessRuns = 3;

/// One configuration's launch: blocks per grid and threads per block in X, Y, Z, dynamic shared memory.
struct CudaLaunch {
  std::array<std::uint64_t, 3> grid{1, 1, 1};
  std::array<std::uint64_t, 3> block{1, 1, 1};
  std::uint64_t sharedBytes = 0;
};

/// How configurations are built.
struct CudaBuildOptions {
  std::string nvcc = "nvcc";  ///< argv[0] of every build
  std::string arch;           ///< nvcc -arch value ("sm_90"); empty = nvcc's own default
  /// Runs see only this CUDA device (CUDA_VISIBLE_DEVICES); empty = the first one.
  std::string device;
};

/// The generated host program of one CUDA spec and the commands of its configurations.
class CudaHarness {
 public:
  /// Generates the harness of `spec` (a KernelSpecification with Language CUDA). kInvalidInput naming the
  /// spec file and key for what the harness cannot do: a kernel name that is not a C++ name, an argument with
  /// MemType Constant that the kernel file declares no __constant__ variable for, a SharedMemory that is not
  /// a byte count; and spec errors of the default configuration (its launch or argument sizes).
  static Expected<CudaHarness> generate(const TuneSpec& spec);

  /// The launch of one configuration: the geometry buildRunPlan computes for OpenCL (work-items), as CUDA
  /// blocks per grid and threads per block. kInvalidInput naming the spec and configuration when the spec's
  /// expressions reject it (a local size that does not divide the global size, division by zero, ...).
  Expected<CudaLaunch> launch(const Configuration& configuration) const;

  /// The build and run of one configuration for a tuning session: nvcc with the spec's CompilerOptions,
  /// -Dname=value per parameter and the launch as MIRTUNE_GRID_*, MIRTUNE_BLOCK_*, MIRTUNE_SHARED_BYTES;
  /// the run writes its outputs to outputs/<configuration>/ and, unless it is the default, compares them with
  /// the default's. A configuration whose launch the spec rejects is not built: its run reports why and
  /// fails.
  CandidateCommands commands(const Configuration& configuration, const CudaBuildOptions& options) const;

  /// The files a session's work folder holds: the harness and a copy of the kernel file (name -> content).
  std::map<std::string, std::string> files() const;

  const std::string& source() const { return source_; }
  /// outputs/<first 16 hex digits of the configuration's hash>
  static std::string outputFolder(const Configuration& configuration);
  /// The .npy files a run writes into its output folder ("3_c.npy"), in argument order.
  const std::vector<std::string>& outputFiles() const { return outputFiles_; }

 private:
  TuneSpec
      geometry_;  ///< the spec as buildRunPlan reads it (geometry and argument sizes are shared with OpenCL)
  Configuration default_;
  std::string kernelFileName_;
  std::string kernelText_;
  std::string source_;
  std::vector<std::string> outputFiles_;
  std::optional<Expression> sharedMemory_;
};


}  // namespace mirtune::tune
