// Source-to-source thread coarsening of OpenCL C and CUDA kernels: one work-item of the new kernel does the work
// of `factor` work-items of the original in one NDRange dimension (Clang 14 AST, textual rewrite).
#pragma once

#include "support/Error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Which original work-items a new work-item takes over (see WorkGroupScheme for where each applies).
enum class CoarsenMode {
  kConsecutive,  ///< neighbouring ones: new item g does original items g*F + k
  kStrided,      ///< ones a new-range apart: new item g does original items g + k*(G/F)
};

/// How work-groups of the original launch map onto the new one; coarsenKernel picks it from the kernel.
enum class WorkGroupScheme {
  /// Kernels without barriers or local memory: the local size L stays, the global size becomes G/F, and the
  /// original local and group ids are recomputed from the original global id (orig % L, orig / L). The
  /// modes are global: consecutive maps g to g*F + k, strided maps g to g + k*(G/F).
  kKeepLocalSize,
  /// Kernels with barriers or __local memory: every work-group keeps its original items, so the local size
  /// becomes L/F and the number of groups stays. The body is split at its top-level barriers into phases,
  /// each looped over k; private values used across a barrier become arrays of F. The modes apply within a
  /// group: consecutive maps local id l to l*F + k (the same global mapping as above), strided maps l to
  /// l + k*(L/F).
  kSplitWorkGroup,
};

/// Why a kernel was not coarsened (a property of its source, not an error of the caller).
enum class CoarsenRefusal {
  kBarrierInControlFlow,    ///< a barrier inside a loop or branch: its phases cannot be looped over k
  kValueLiveAcrossBarrier,  ///< a private array or aggregate-initialised value is used after a barrier
  kUnsupportedReturn,       ///< a return before a barrier, or inside a loop or switch after the last one
  kWorkItemQueryInHelper,   ///< a function the kernel calls queries work-item ids or synchronises
  kRecursion,               ///< the kernel's call graph has a cycle
  kUnsupportedQuery,        ///< linear ids, sub-groups, work-group collectives, enqueued local size
  kMacroExpansion,          ///< text that must change comes from a macro expansion
  kRequiredWorkGroupSize,   ///< reqd_work_group_size fixes the local size that the scheme must divide
  kUnnamedParameter,        ///< a kernel parameter without a name cannot be forwarded
};

/// Stable name of a refusal ("barrier_in_control_flow", ...), for JSON and messages.
std::string_view coarsenRefusalName(CoarsenRefusal refusal);
/// "consecutive" or "strided".
std::string_view coarsenModeName(CoarsenMode mode);
std::optional<CoarsenMode> parseCoarsenMode(std::string_view name);
/// "keep_local_size" or "split_work_group".
std::string_view workGroupSchemeName(WorkGroupScheme scheme);

struct CoarsenOptions {
  /// Original work-items per new work-item: a power of two, 1 to 1024.
  unsigned factor = 2;
  /// NDRange dimension to coarsen, 0 to 2.
  unsigned dimension = 0;
  CoarsenMode mode = CoarsenMode::kConsecutive;
  /// The options the kernel is built with (clBuildProgram style). -D, -I and -cl-std change what Clang
  /// parses; the others are ignored here. The new source must be built with the same options.
  std::string buildOptions;
};

/// A coarsened kernel, or the reason it was refused.
struct CoarsenedKernel {
  /// The whole new source: the input file unchanged, with the coarsened kernel (and the functions it needs)
  /// inserted right after the original kernel. Empty when refused.
  std::string text;
  /// The new kernel: "<kernel>_cf<F>" for consecutive, "<kernel>_cf<F>s" for strided, plus "_d<D>" when the
  /// dimension is not 0 ("vector_add_cf4", "matmul_naive_cf2s_d1"). The original kernel stays in the file
  /// under its own name, so one program can run both.
  std::string kernelName;
  std::string originalKernel;
  unsigned factor = 1;
  unsigned dimension = 0;
  CoarsenMode mode = CoarsenMode::kConsecutive;
  WorkGroupScheme scheme = WorkGroupScheme::kKeepLocalSize;
  /// How to launch the new kernel, e.g. "global[0] = G/4, local[0] = L (unchanged)".
  std::string sizeTransform;
  /// Set when the kernel was not coarsened; `refusalMessage` names the file, line and construct.
  std::optional<CoarsenRefusal> refusal;
  std::string refusalMessage;

  bool refused() const { return refusal.has_value(); }
};

/// Writes the coarsened form of `kernel` from `source`: OpenCL C, or CUDA for a .cu file (a __global__ kernel;
/// the component of threadIdx, blockIdx, blockDim and gridDim for the dimension, 0 = .x, is remapped,
/// __syncthreads() is the barrier and __shared__ the local memory; warp-level functions are refused; the
/// launch follows checkNdRange with global = grid x block and local = block). Errors (not refusals): kNotFound
/// for a missing file, kCompileError when Clang rejects the source, kInvalidInput when no kernel of that name
/// is defined in the file or the new name is already taken, kUsage for a bad factor or dimension. A kernel
/// the transform cannot keep correct comes back with `refusal` set and no text.
Expected<CoarsenedKernel> coarsenKernel(const std::filesystem::path& source, const std::string& kernel,
                                        const CoarsenOptions& options);

/// A launch configuration: work-items per dimension; an empty local size lets the driver choose.
struct NdRange {
  std::vector<std::uint64_t> global;
  std::vector<std::uint64_t> local;
};

/// The new kernel's NDRange for an original launch of (global, local), or kInvalidInput saying which size is
/// not divisible: G must be a multiple of F; kKeepLocalSize needs G/F to be a multiple of L, kSplitWorkGroup
/// needs L to be a multiple of F and a local size to be given (every work-group must keep its items).
Expected<NdRange> checkNdRange(const std::vector<std::uint64_t>& global,
                               const std::vector<std::uint64_t>& local, const CoarsenOptions& options,
                               WorkGroupScheme scheme);

/// checkNdRange with the factor, dimension and scheme of a coarsened kernel.
Expected<NdRange> checkNdRange(const std::vector<std::uint64_t>& global,
                               const std::vector<std::uint64_t>& local, const CoarsenedKernel& kernel);

}  // namespace mirtune
