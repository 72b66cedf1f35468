// Thread coarsening of CUDA kernels (kernels/cuda): the remapped built-in variables, the schemes, refusals,
// and every accepted factor built with nvcc; on a machine with a GPU the coarsened programs also run and
// check their results.
#include "frontend/Coarsening.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = MIRTUNE_CUDA_KERNELS;
const std::string kNvcc = MIRTUNE_NVCC;
const std::vector<unsigned> kFactors = {2, 4, 8, 16, 32};

struct Program {
  std::string name;    ///< file stem and kernel
  unsigned dimension;  ///< the dimension coarsened (x for 1-D kernels, y for row-major 2-D ones)
};
const std::vector<Program> kPrograms = {{"vector_add", 0}, {"saxpy", 0},           {"matmul_naive", 0},
                                        {"stencil2d", 1},  {"transpose_naive", 0}, {"reduction", 0}};

fs::path scratch(const std::string& name) {
  fs::path folder = fs::temp_directory_path() / ("mirtune-coarsen-cuda-" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

CoarsenedKernel coarsen(const fs::path& file, const std::string& kernel, unsigned factor,
                        unsigned dimension = 0, CoarsenMode mode = CoarsenMode::kConsecutive) {
  CoarsenOptions options;
  options.factor = factor;
  options.dimension = dimension;
  options.mode = mode;
  auto result = coarsenKernel(file, kernel, options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : CoarsenedKernel{};
}

bool gpuPresent() {
  return fs::exists("/dev/nvidia0") || fs::exists("/dev/nvidiactl");
}

TEST(CoarseningCuda, KeepLocalSizeRemapsThreadAndBlockIndices) {
  auto result = coarsen(kSuite / "vector_add.cu", "vector_add", 4);
  ASSERT_FALSE(result.refused()) << result.refusalMessage;
  EXPECT_EQ(result.kernelName, "vector_add_cf4");
  EXPECT_EQ(result.scheme, WorkGroupScheme::kKeepLocalSize);
  const std::string& text = result.text;
  // The original stays; the new kernel calls a device function of the body once per original thread.
  EXPECT_NE(text.find("__global__ void vector_add(const float* a"), std::string::npos);
  EXPECT_NE(text.find("__global__ void vector_add_cf4(const float* a, const float* b, float* c, int n)"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("static __device__ void vector_add_cf4_item(const float* a, const float* b, float* c, int n, "
                "unsigned int mirtune_k)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("for (unsigned int mirtune_k = 0; mirtune_k < 4u; ++mirtune_k) vector_add_cf4_item(a, b, c, "
                "n, mirtune_k);"),
      std::string::npos)
      << text;
  // Body: blockIdx.x and threadIdx.x of the original thread; blockDim.x is unchanged.
  EXPECT_NE(text.find("int i = vector_add_cf4_blockIdx_x(mirtune_k) * blockDim.x + "
                      "vector_add_cf4_threadIdx_x(mirtune_k);"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "static __device__ __forceinline__ unsigned int vector_add_cf4_threadIdx_x(unsigned int k) {\n"
          "  return (unsigned int)((((blockIdx.x * blockDim.x + threadIdx.x) - 0u) * 4 + k) % "
          "blockDim.x);\n}"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("return (unsigned int)((((blockIdx.x * blockDim.x + threadIdx.x) - 0u) * 4 + k) / "
                      "blockDim.x);"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("vector_add_cf4_blockDim_x"), std::string::npos) << text;

  // Strided in y: the original row is this one plus k rows of the new grid; x is left alone.
  auto strided = coarsen(kSuite / "matmul_naive.cu", "matmul_naive", 2, 1, CoarsenMode::kStrided);
  ASSERT_FALSE(strided.refused()) << strided.refusalMessage;
  EXPECT_EQ(strided.kernelName, "matmul_naive_cf2s_d1");
  EXPECT_NE(strided.text.find("int row = matmul_naive_cf2s_d1_blockIdx_y(mirtune_k) * blockDim.y + "
                              "matmul_naive_cf2s_d1_threadIdx_y(mirtune_k);"),
            std::string::npos)
      << strided.text;
  EXPECT_NE(strided.text.find("int column = blockIdx.x * blockDim.x + threadIdx.x;\n  int row = "
                              "matmul_naive_cf2s_d1"),
            std::string::npos)
      << strided.text;
  EXPECT_NE(
      strided.text.find("(((blockIdx.y * blockDim.y + threadIdx.y) - 0u) + k * (gridDim.y * blockDim.y))"),
      std::string::npos)
      << strided.text;
}

TEST(CoarseningCuda, SharedMemoryAndSyncthreadsSplitTheBlock) {
  auto result = coarsen(kSuite / "reduction.cu", "reduction", 4);
  ASSERT_FALSE(result.refused()) << result.refusalMessage;
  EXPECT_EQ(result.scheme, WorkGroupScheme::kSplitWorkGroup);
  const std::string& text = result.text;
  // The __shared__ array is declared once per block, in front of the phases; t lives across barriers.
  EXPECT_NE(text.find("__global__ void reduction_cf4(const float* in, float* partial, int n) {\n"
                      "  __shared__ float sums[REDUCTION_BLOCK];\n  unsigned int t[4];\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("t[mirtune_k] = reduction_cf4_threadIdx_x(mirtune_k);"), std::string::npos) << text;
  EXPECT_NE(text.find("unsigned int i = blockIdx.x * reduction_cf4_blockDim_x(mirtune_k) + "
                      "reduction_cf4_threadIdx_x(mirtune_k);"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("return (unsigned int)(threadIdx.x * 4 + k);"), std::string::npos) << text;
  EXPECT_NE(text.find("return (unsigned int)(blockDim.x * 4);"), std::string::npos) << text;
  // Eight phases (seven barriers), each looped over the merged threads, with the barriers between them.
  std::size_t loops = 0;
  for (std::size_t at = text.find("for (unsigned int mirtune_k = 0; mirtune_k < 4u; ++mirtune_k) {");
       at != std::string::npos;
       at = text.find("for (unsigned int mirtune_k = 0; mirtune_k < 4u; ++mirtune_k) {", at + 1))
    ++loops;
  EXPECT_EQ(loops, 8u) << text;

  // The block of 128 threads shrinks to 32; the number of blocks stays.
  auto range = checkNdRange({1 << 22}, {128}, result);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->global[0], (1u << 22) / 4);
  EXPECT_EQ(range->local[0], 32u);
}

TEST(CoarseningCuda, WarpOperationsAndHelpersReadingIndicesAreRefused) {
  const fs::path folder = scratch("refused");
  std::ofstream(folder / "warp.cu")
      << "__global__ void warp_sum(float* data) {\n"
         "  float v = data[threadIdx.x];\n"
         "  v += __shfl_down_sync(0xffffffffu, v, 1);\n"
         "  data[threadIdx.x] = v;\n"
         "}\n"
         "__device__ unsigned int lane() { return threadIdx.x % 32; }\n"
         "__global__ void uses_helper(float* data) { data[lane()] = 0.0f; }\n"
         "__global__ void loop_barrier(float* data) {\n"
         "  for (int s = 0; s < 4; ++s) { data[threadIdx.x] += 1.0f; __syncthreads(); }\n"
         "}\n";
  auto warp = coarsen(folder / "warp.cu", "warp_sum", 2);
  ASSERT_TRUE(warp.refused());
  EXPECT_EQ(*warp.refusal, CoarsenRefusal::kUnsupportedQuery);
  EXPECT_NE(warp.refusalMessage.find("warp.cu:3:"), std::string::npos) << warp.refusalMessage;
  EXPECT_NE(warp.refusalMessage.find("__shfl_down_sync"), std::string::npos) << warp.refusalMessage;
  auto helper = coarsen(folder / "warp.cu", "uses_helper", 2);
  ASSERT_TRUE(helper.refused());
  EXPECT_EQ(*helper.refusal, CoarsenRefusal::kWorkItemQueryInHelper);
  EXPECT_NE(helper.refusalMessage.find("reads threadIdx"), std::string::npos) << helper.refusalMessage;
  auto barrier = coarsen(folder / "warp.cu", "loop_barrier", 2);
  ASSERT_TRUE(barrier.refused());
  EXPECT_EQ(*barrier.refusal, CoarsenRefusal::kBarrierInControlFlow);

  // A host function is not a kernel.
  auto missing = coarsenKernel(folder / "warp.cu", "lane", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("warp_sum"), std::string::npos) << missing.error().message();
}

/// A binary of `file` (a suite program, possibly with coarsened kernels added) that launches `kernel`,
/// coarsened by `factor` in `dimension`; empty with a failure recorded when nvcc fails.
fs::path buildProgram(const fs::path& file, const fs::path& binary, const std::string& kernel,
                      unsigned factor, unsigned dimension, bool split) {
  SubprocessOptions build;
  build.argv = {kNvcc,
                "-arch=sm_90",
                "-O2",
                "-I" + kSuite.string(),
                fmt::format("-DMIRTUNE_KERNEL={}", kernel),
                fmt::format("-DMIRTUNE_CF={}", factor),
                fmt::format("-DMIRTUNE_CF_DIM={}", dimension),
                fmt::format("-DMIRTUNE_CF_SPLIT={}", split ? 1 : 0),
                "-o",
                binary.string(),
                file.string()};
  build.timeoutSeconds = 300;
  auto built = runSubprocess(build);
  EXPECT_TRUE(built.ok());
  if (!built.ok()) return {};
  EXPECT_EQ(built->exitCode, 0) << file << "\n" << built->standardError;
  return built->exitCode == 0 ? binary : fs::path();
}

std::string coarsenedName(const Program& program, unsigned factor) {
  return fmt::format("{}_cf{}{}", program.name, factor,
                     program.dimension == 0 ? "" : fmt::format("_d{}", program.dimension));
}

/// Every accepted factor of every suite kernel in one file (each transform applied to the previous output),
/// built with nvcc launching the largest factor.
TEST(CoarseningCuda, EveryAcceptedFactorBuildsWithNvcc) {
  if (kNvcc.empty()) GTEST_SKIP() << "nvcc not found at configure time";
  const fs::path folder = scratch("nvcc");
  for (const Program& program : kPrograms) {
    fs::path current = kSuite / (program.name + ".cu");
    bool split = false;
    for (unsigned factor : kFactors) {
      auto result = coarsen(current, program.name, factor, program.dimension);
      ASSERT_FALSE(result.refused()) << program.name << " x" << factor << ": " << result.refusalMessage;
      const fs::path next = folder / fmt::format("{}_upto{}.cu", program.name, factor);
      ASSERT_TRUE(writeFileAtomically(next, result.text).ok());
      current = next;
      split = result.scheme == WorkGroupScheme::kSplitWorkGroup;
    }
    EXPECT_EQ(split, program.name == "reduction") << program.name;
    EXPECT_FALSE(buildProgram(current, folder / program.name, coarsenedName(program, kFactors.back()),
                              kFactors.back(), program.dimension, split)
                     .empty());
  }
}

/// On a GPU: the original and its factor-4 form check their results against the host's.
TEST(CoarseningCuda, CoarsenedProgramsRunOnTheGpu) {
  if (kNvcc.empty()) GTEST_SKIP() << "nvcc not found at configure time";
  if (!gpuPresent()) GTEST_SKIP() << "no NVIDIA GPU (/dev/nvidia0) to run on";
  const fs::path folder = scratch("gpu");
  for (const Program& program : kPrograms) {
    auto result = coarsen(kSuite / (program.name + ".cu"), program.name, 4, program.dimension);
    ASSERT_FALSE(result.refused()) << result.refusalMessage;
    const fs::path file = folder / (program.name + ".cu");
    ASSERT_TRUE(writeFileAtomically(file, result.text).ok());
    const bool split = result.scheme == WorkGroupScheme::kSplitWorkGroup;
    for (const auto& [name, kernel, factor] : std::vector<std::tuple<std::string, std::string, unsigned>>{
             {program.name, program.name, 1}, {program.name + "_cf4", coarsenedName(program, 4), 4}}) {
      fs::path binary = buildProgram(file, folder / name, kernel, factor, program.dimension, split);
      ASSERT_FALSE(binary.empty());
      SubprocessOptions execute;
      execute.argv = {binary.string()};
      execute.timeoutSeconds = 120;
      auto ran = runSubprocess(execute);
      ASSERT_TRUE(ran.ok());
      EXPECT_EQ(ran->exitCode, 0) << name << ": " << ran->standardOutput << ran->standardError;
      EXPECT_NE(ran->standardOutput.find("mirtune-check: ok"), std::string::npos) << ran->standardOutput;
      EXPECT_NE(ran->standardOutput.find("mirtune-region-seconds: "), std::string::npos)
          << ran->standardOutput;
      std::printf("%s %s", name.c_str(), ran->standardOutput.c_str());
    }
  }
}

}  // namespace
}  // namespace mirtune
