// Thread coarsening: the rewritten text, the refusals, and (through mirtune-run on every OpenCL device)
// that each coarsened kernel of the shipped suite writes the same outputs as the original on the same inputs.
#include "common/TemporaryFolder.h"
#include "frontend/Coarsening.h"
#include "frontend/Frontend.h"
#include "support/Files.h"
#include "tuner/KernelManifest.h"
#include "tuner/TunerTestSupport.h"
#include "tuner/references/References.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <sstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
using testing::makeQuick;

// Kernels of the suite that the transform must refuse, and why: each has a barrier inside a loop.
const std::map<std::string, CoarsenRefusal> kExpectedRefusals = {
    {"dot_product", CoarsenRefusal::kBarrierInControlFlow},
    {"prefix_sum", CoarsenRefusal::kBarrierInControlFlow},
    {"matmul_tiled", CoarsenRefusal::kBarrierInControlFlow},
};

fs::path writeKernel(const TemporaryFolder& folder, const std::string& name, const std::string& text) {
  fs::path path = folder.path() / name;
  EXPECT_TRUE(writeFileAtomically(path, text).ok());
  return path;
}

// The coarsened text must compile as OpenCL C with the kernel's build options.
void expectCompiles(const CoarsenedKernel& kernel, const std::string& buildOptions) {
  CompileOptions options;
  options.optimizationLevel = 0;
  std::istringstream words(buildOptions);
  for (std::string word; words >> word;) {
    if (word.rfind("-D", 0) == 0) options.defines.push_back(word.substr(2));
  }
  auto module = compileSource(kernel.text, kernel.kernelName + ".cl", options);
  EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().message()) << "\n" << kernel.text;
}

using DeviceOutputs = std::vector<std::map<std::size_t, runner::HostArray>>;

// Runs `request` on `devices` and reads back every device's out/inout buffers; nullopt (with a test
// failure) when a device is not ok.
std::optional<DeviceOutputs> runAndRead(OpenClRunRequest request, const std::vector<OpenClDevice>& devices,
                                        const fs::path& work) {
  makeQuick(request.plan);
  request.devices = devices;
  request.timeoutSeconds = 60;
  request.workDirectory = work;
  auto result = runOnAllDevices(request, testing::runnerExecutable());
  if (!result.ok()) {
    ADD_FAILURE() << result.error().message();
    return std::nullopt;
  }
  DeviceOutputs outputs;
  for (const DeviceRunResult& device : result->devices) {
    if (device.status != MeasureStatus::kOk) {
      ADD_FAILURE() << request.plan.kernel << " on " << device.name << ": "
                    << measureStatusName(device.status) << ": " << device.message << "\n"
                    << device.buildLog;
      return std::nullopt;
    }
    std::map<std::size_t, runner::HostArray> buffers;
    for (const auto& [index, file] : device.outputFiles) {
      std::string error;
      if (!runner::readNpy(file.string(), buffers[index], error)) {
        ADD_FAILURE() << file << ": " << error;
        return std::nullopt;
      }
    }
    outputs.push_back(std::move(buffers));
  }
  return outputs;
}

// Every out/inout buffer of the coarsened run equals the original run's on the same device.
void expectSameOutputs(const DeviceOutputs& coarse, const DeviceOutputs& original,
                       const runner::RunPlan& plan, const Tolerance& tolerance) {
  ASSERT_EQ(coarse.size(), original.size());
  for (std::size_t device = 0; device < coarse.size(); ++device) {
    ASSERT_EQ(coarse[device].size(), original[device].size());
    EXPECT_FALSE(original[device].empty()) << "the kernel has no output to compare";
    for (const auto& [index, expected] : original[device]) {
      auto actual = coarse[device].find(index);
      ASSERT_NE(actual, coarse[device].end());
      auto mismatch = compareBuffers(actual->second, expected, tolerance, plan.args[index].name);
      EXPECT_FALSE(mismatch.has_value()) << *mismatch;
    }
  }
}

// Runs the original plan and the coarsened kernel (with the NDRange checkNdRange gives) and compares.
void expectCoarsenedMatches(const runner::RunPlan& original, const CoarsenedKernel& kernel,
                            const fs::path& coarsePath, const std::vector<OpenClDevice>& devices,
                            const fs::path& work, const Tolerance& tolerance = {}) {
  auto range = checkNdRange(original.globalSize, original.localSize, kernel);
  ASSERT_TRUE(range.ok()) << range.error().message();
  OpenClRunRequest originalRequest;
  originalRequest.plan = original;
  auto expected = runAndRead(originalRequest, devices, work / "original");
  ASSERT_TRUE(expected.has_value());
  OpenClRunRequest coarseRequest;
  coarseRequest.plan = original;
  coarseRequest.plan.source = coarsePath.string();
  coarseRequest.plan.kernel = kernel.kernelName;
  coarseRequest.plan.globalSize = range->global;
  coarseRequest.plan.localSize = range->local;
  auto actual = runAndRead(coarseRequest, devices, work / "coarse");
  ASSERT_TRUE(actual.has_value());
  expectSameOutputs(*actual, *expected, original, tolerance);
}

runner::ArgSpec floatBuffer(const std::string& name, std::uint64_t elements, runner::ArgRole role,
                            std::uint64_t seed) {
  runner::ArgSpec arg;
  arg.name = name;
  arg.kind = runner::ArgKind::kBuffer;
  arg.type = runner::ElementType::kFloat;
  arg.elements = elements;
  arg.role = role;
  if (role == runner::ArgRole::kIn) {
    arg.generator.kind = runner::GeneratorKind::kUniform;
    arg.generator.lo = -1;
    arg.generator.hi = 1;
    arg.generator.seed = seed;
  }
  return arg;
}

runner::ArgSpec intScalar(const std::string& name, std::int64_t value) {
  runner::ArgSpec arg;
  arg.name = name;
  arg.kind = runner::ArgKind::kScalar;
  arg.type = runner::ElementType::kInt;
  arg.scalarInt = value;
  return arg;
}

// in -> out over n elements (n below the global size, so the tail work-items take the early return).
runner::RunPlan inOutPlan(const fs::path& source, const std::string& kernel, std::uint64_t global,
                          std::uint64_t local, std::int64_t n) {
  runner::RunPlan plan;
  plan.source = source.string();
  plan.kernel = kernel;
  plan.globalSize = {global};
  plan.localSize = {local};
  plan.args = {floatBuffer("in", global, runner::ArgRole::kIn, 7),
               floatBuffer("out", global, runner::ArgRole::kOut, 0), intScalar("n", n)};
  return plan;
}

constexpr const char* kScaleKernel = R"(// doubles x
__kernel void scale(__global float* x, const int n) {
  const int i = get_global_id(0);
  if (i < n) x[i] *= 2.0f;
}
)";

TEST(Coarsening, RemapsWorkItemCallsAndKeepsTheOriginalKernel) {
  TemporaryFolder folder("mirtune-coarsen", "text");
  fs::path source = writeKernel(folder, "scale.cl", kScaleKernel);
  CoarsenOptions options;
  options.factor = 4;
  auto kernel = coarsenKernel(source, "scale", options);
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  ASSERT_FALSE(kernel->refused()) << kernel->refusalMessage;
  EXPECT_EQ(kernel->kernelName, "scale_cf4");
  EXPECT_EQ(kernel->scheme, WorkGroupScheme::kKeepLocalSize);
  // The original text comes first, unchanged.
  EXPECT_EQ(kernel->text.substr(0, std::string(kScaleKernel).size() - 1),
            std::string(kScaleKernel).substr(0, std::string(kScaleKernel).size() - 1));
  EXPECT_NE(kernel->text.find("const int i = scale_cf4_get_global_id(0, mirtune_k);"), std::string::npos)
      << kernel->text;
  EXPECT_NE(kernel->text.find("(get_global_id(0) - get_global_offset(0)) * 4 + k"), std::string::npos)
      << kernel->text;
  EXPECT_NE(kernel->text.find(
                "for (uint mirtune_k = 0; mirtune_k < 4u; ++mirtune_k) scale_cf4_item(x, n, mirtune_k);"),
            std::string::npos)
      << kernel->text;
  EXPECT_NE(kernel->sizeTransform.find("G/4"), std::string::npos);
  expectCompiles(*kernel, "");

  options.mode = CoarsenMode::kStrided;
  auto strided = coarsenKernel(source, "scale", options);
  ASSERT_TRUE(strided.ok()) << strided.error().message();
  EXPECT_EQ(strided->kernelName, "scale_cf4s");
  EXPECT_NE(strided->text.find("(get_global_id(0) - get_global_offset(0)) + k * get_global_size(0)"),
            std::string::npos)
      << strided->text;
  expectCompiles(*strided, "");
}

TEST(Coarsening, CheckNdRangeRefusesSizesThatDoNotDivide) {
  CoarsenOptions options;
  options.factor = 8;
  auto keep = checkNdRange({4096}, {64}, options, WorkGroupScheme::kKeepLocalSize);
  ASSERT_TRUE(keep.ok()) << keep.error().message();
  EXPECT_EQ(keep->global, std::vector<std::uint64_t>{512});
  EXPECT_EQ(keep->local, std::vector<std::uint64_t>{64});
  auto split = checkNdRange({4096}, {64}, options, WorkGroupScheme::kSplitWorkGroup);
  ASSERT_TRUE(split.ok()) << split.error().message();
  EXPECT_EQ(split->global, std::vector<std::uint64_t>{512});
  EXPECT_EQ(split->local, std::vector<std::uint64_t>{8});

  auto notMultiple = checkNdRange({100}, {}, options, WorkGroupScheme::kKeepLocalSize);
  ASSERT_FALSE(notMultiple.ok());
  EXPECT_NE(notMultiple.error().message().find("not a multiple of the factor 8"), std::string::npos);
  auto groupTooBig = checkNdRange({64, 64}, {16, 16}, options, WorkGroupScheme::kKeepLocalSize);
  ASSERT_FALSE(groupTooBig.ok());
  EXPECT_NE(groupTooBig.error().message().find("local size 16"), std::string::npos)
      << groupTooBig.error().message();
  options.factor = 128;
  EXPECT_FALSE(checkNdRange({4096}, {64}, options, WorkGroupScheme::kSplitWorkGroup).ok());
  options.factor = 2;
  EXPECT_FALSE(checkNdRange({4096}, {}, options, WorkGroupScheme::kSplitWorkGroup).ok());
  options.dimension = 1;
  EXPECT_FALSE(checkNdRange({4096}, {64}, options, WorkGroupScheme::kKeepLocalSize).ok());
  auto second = checkNdRange({64, 32}, {16, 8}, options, WorkGroupScheme::kSplitWorkGroup);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->global, (std::vector<std::uint64_t>{64, 16}));
  EXPECT_EQ(second->local, (std::vector<std::uint64_t>{16, 4}));
}

TEST(Coarsening, BadInputIsAnErrorNamingTheFile) {
  TemporaryFolder folder("mirtune-coarsen", "errors");
  fs::path source = writeKernel(folder, "scale.cl", kScaleKernel);
  auto missingKernel = coarsenKernel(source, "nope", {});
  ASSERT_FALSE(missingKernel.ok());
  EXPECT_EQ(missingKernel.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(missingKernel.error().message().find("kernels: scale"), std::string::npos);
  EXPECT_NE(missingKernel.error().message().find(source.string()), std::string::npos);

  auto missingFile = coarsenKernel(folder.path() / "absent.cl", "scale", {});
  ASSERT_FALSE(missingFile.ok());
  EXPECT_EQ(missingFile.error().code(), ErrorCode::kNotFound);

  CoarsenOptions three;
  three.factor = 3;
  auto badFactor = coarsenKernel(source, "scale", three);
  ASSERT_FALSE(badFactor.ok());
  EXPECT_EQ(badFactor.error().code(), ErrorCode::kUsage);

  fs::path broken =
      writeKernel(folder, "broken.cl", "__kernel void k(__global float* x) {\n  x[0] = y;\n}\n");
  auto syntax = coarsenKernel(broken, "k", {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kCompileError);
  EXPECT_NE(syntax.error().message().find("broken.cl:2:"), std::string::npos) << syntax.error().message();
}

TEST(Coarsening, RefusesHelpersThatQueryWorkItemIds) {
  TemporaryFolder folder("mirtune-coarsen", "helper");
  fs::path source = writeKernel(folder, "helper.cl", R"(float load(__global const float* x) {
  return x[get_global_id(0)];
}
__kernel void copy(__global const float* x, __global float* y) {
  y[get_global_id(0)] = load(x);
}
)");
  auto kernel = coarsenKernel(source, "copy", {});
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  ASSERT_TRUE(kernel->refused());
  EXPECT_EQ(*kernel->refusal, CoarsenRefusal::kWorkItemQueryInHelper);
  EXPECT_NE(kernel->refusalMessage.find("helper.cl:2:"), std::string::npos) << kernel->refusalMessage;
  EXPECT_NE(kernel->refusalMessage.find("'load'"), std::string::npos) << kernel->refusalMessage;
  EXPECT_TRUE(kernel->text.empty());
}

constexpr const char* kEarlyReturnKernels = R"(// Early returns in both coarsening schemes.
__kernel void clip(__global const float* in, __global float* out, const int n) {
  const int i = get_global_id(0);
  if (i >= n) return;
  if (in[i] < 0.0f) {
    out[i] = 0.0f;
    return;
  }
  out[i] = in[i] + (float)get_group_id(0) + 0.001f * (float)get_local_id(0);
}

// Reverses each work-group's slice through local memory; items past n stop after the barrier.
__kernel void block_reverse(__global const float* in, __global float* out, const int n) {
  __local float tile[64];
  const int lid = get_local_id(0), i = get_global_id(0);
  tile[lid] = i < n ? in[i] : 0.0f;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (i >= n) return;
  out[i] = tile[get_local_size(0) - 1 - lid] + (float)get_group_id(0);
}

__kernel void return_before_barrier(__global const float* in, __global float* out, const int n) {
  __local float tile[64];
  const int lid = get_local_id(0);
  if (get_global_id(0) >= n) return;
  tile[lid] = in[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  out[get_global_id(0)] = tile[lid];
}

__kernel void return_in_loop(__global const float* in, __global float* out, const int n) {
  __local float tile[64];
  const int lid = get_local_id(0);
  tile[lid] = in[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int j = 0; j < 4; ++j) {
    if (j == lid) return;
    out[get_global_id(0)] += tile[j];
  }
}
)";

TEST(Coarsening, EarlyReturnsAreKeptOrRefused) {
  TemporaryFolder folder("mirtune-coarsen", "returns");
  fs::path source = writeKernel(folder, "returns.cl", kEarlyReturnKernels);
  CoarsenOptions options;
  options.factor = 4;
  auto beforeBarrier = coarsenKernel(source, "return_before_barrier", options);
  ASSERT_TRUE(beforeBarrier.ok()) << beforeBarrier.error().message();
  ASSERT_TRUE(beforeBarrier->refused());
  EXPECT_EQ(*beforeBarrier->refusal, CoarsenRefusal::kUnsupportedReturn);
  EXPECT_NE(beforeBarrier->refusalMessage.find("returns.cl:25:"), std::string::npos)
      << beforeBarrier->refusalMessage;
  auto inLoop = coarsenKernel(source, "return_in_loop", options);
  ASSERT_TRUE(inLoop.ok()) << inLoop.error().message();
  ASSERT_TRUE(inLoop->refused());
  EXPECT_EQ(*inLoop->refusal, CoarsenRefusal::kUnsupportedReturn);

  auto reverse = coarsenKernel(source, "block_reverse", options);
  ASSERT_TRUE(reverse.ok()) << reverse.error().message();
  ASSERT_FALSE(reverse->refused()) << reverse->refusalMessage;
  EXPECT_EQ(reverse->scheme, WorkGroupScheme::kSplitWorkGroup);
  // Values used after the barrier become one copy per merged item; the last phase's return continues.
  EXPECT_NE(reverse->text.find("int lid[4];"), std::string::npos) << reverse->text;
  EXPECT_NE(
      reverse->text.find("lid[mirtune_k] = block_reverse_cf4_get_local_id(0, mirtune_k), i[mirtune_k] ="),
      std::string::npos)
      << reverse->text;
  EXPECT_NE(reverse->text.find("if (i[mirtune_k] >= n) continue;"), std::string::npos) << reverse->text;
  expectCompiles(*reverse, "");

  std::string skipReason;
  auto devices = testing::devicesOrReason(skipReason);
  if (devices.empty()) GTEST_SKIP() << skipReason;
  for (CoarsenMode mode : {CoarsenMode::kConsecutive, CoarsenMode::kStrided}) {
    for (const char* name : {"clip", "block_reverse"}) {
      SCOPED_TRACE(std::string(name) + " " + std::string(coarsenModeName(mode)));
      options.mode = mode;
      auto kernel = coarsenKernel(source, name, options);
      ASSERT_TRUE(kernel.ok()) << kernel.error().message();
      ASSERT_FALSE(kernel->refused()) << kernel->refusalMessage;
      fs::path coarsePath = writeKernel(folder, kernel->kernelName + ".cl", kernel->text);
      expectCoarsenedMatches(inOutPlan(source, name, 1024, 64, 1000), *kernel, coarsePath, devices,
                             folder.path() / kernel->kernelName);
    }
  }
}

TEST(Coarsening, SecondDimensionOfTwoDimensionalKernels) {
  auto naive = loadKernelManifest(kernelSuiteDirectory() / "matmul_naive.json");
  auto tiled = loadKernelManifest(kernelSuiteDirectory() / "transpose_tiled.json");
  ASSERT_TRUE(naive.ok() && tiled.ok());
  TemporaryFolder folder("mirtune-coarsen", "dim1");
  std::string skipReason;
  auto devices = testing::devicesOrReason(skipReason);
  for (const KernelManifest* manifest : {&*naive, &*tiled}) {
    for (CoarsenMode mode : {CoarsenMode::kConsecutive, CoarsenMode::kStrided}) {
      CoarsenOptions options;
      options.factor = 4;
      options.dimension = 1;
      options.mode = mode;
      options.buildOptions = manifest->plan.value("build_options", "");
      SCOPED_TRACE(manifest->name + " " + std::string(coarsenModeName(mode)));
      auto kernel = coarsenKernel(manifest->source, manifest->kernel, options);
      ASSERT_TRUE(kernel.ok()) << kernel.error().message();
      ASSERT_FALSE(kernel->refused()) << kernel->refusalMessage;
      EXPECT_EQ(kernel->kernelName,
                manifest->kernel + (mode == CoarsenMode::kStrided ? "_cf4s_d1" : "_cf4_d1"));
      // Dimension-0 queries pass through the remapping function unchanged.
      EXPECT_NE(kernel->text.find("return dim == 1u ?"), std::string::npos) << kernel->text;
      expectCompiles(*kernel, options.buildOptions);
      if (devices.empty()) continue;
      auto plan = makeRunPlan(*manifest, 128);
      ASSERT_TRUE(plan.ok()) << plan.error().message();
      fs::path coarsePath = writeKernel(folder, kernel->kernelName + ".cl", kernel->text);
      expectCoarsenedMatches(*plan, *kernel, coarsePath, devices, folder.path() / kernel->kernelName,
                             manifest->tolerance);
    }
  }
  if (devices.empty()) GTEST_SKIP() << skipReason;
}

std::vector<std::string> suiteNames() {
  std::vector<std::string> names;
  auto suite = loadKernelSuite(kernelSuiteDirectory());
  if (suite) {
    for (const auto& manifest : *suite) names.push_back(manifest.name);
  }
  return names;
}

class CoarsenSuite : public ::testing::TestWithParam<std::string> {};

// Factors 2, 4, 8 in both modes, dimension 0: refused for a known reason, or the same outputs as the
// original at the smallest manifest size whose NDRange the factor divides.
TEST_P(CoarsenSuite, MatchesTheOriginalOrIsRefusedForAKnownReason) {
  auto manifest = loadKernelManifest(kernelSuiteDirectory() / (GetParam() + ".json"));
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  std::string skipReason;
  auto devices = testing::devicesOrReason(skipReason);
  TemporaryFolder folder("mirtune-coarsen", manifest->name);
  const std::string buildOptions = manifest->plan.value("build_options", "");
  auto expectedRefusal = kExpectedRefusals.find(manifest->name);
  std::map<std::string, DeviceOutputs> originalOutputs;  // by size and local size
  for (unsigned factor : {2u, 4u, 8u}) {
    for (CoarsenMode mode : {CoarsenMode::kConsecutive, CoarsenMode::kStrided}) {
      SCOPED_TRACE(fmt::format("{} factor {} {}", manifest->name, factor, coarsenModeName(mode)));
      CoarsenOptions options;
      options.factor = factor;
      options.mode = mode;
      options.buildOptions = buildOptions;
      auto kernel = coarsenKernel(manifest->source, manifest->kernel, options);
      ASSERT_TRUE(kernel.ok()) << kernel.error().message();
      std::string line =
          fmt::format("coarsen {:<16} F={} {:<11} ", manifest->name, factor, coarsenModeName(mode));
      if (kernel->refused()) {
        ASSERT_NE(expectedRefusal, kExpectedRefusals.end())
            << "unexpected refusal: " << kernel->refusalMessage;
        EXPECT_EQ(*kernel->refusal, expectedRefusal->second) << kernel->refusalMessage;
        EXPECT_NE(kernel->refusalMessage.find(manifest->source.string() + ":"), std::string::npos);
        std::cerr << line << "refused (" << coarsenRefusalName(*kernel->refusal)
                  << "): " << kernel->refusalMessage << "\n";
        continue;
      }
      EXPECT_EQ(expectedRefusal, kExpectedRefusals.end()) << "expected a refusal, got a kernel";
      expectCompiles(*kernel, buildOptions);
      // The smallest size whose NDRange the factor divides. A kernel that keeps its local size has no
      // barriers or local memory, so both versions may run with a smaller local size in that dimension.
      std::optional<runner::RunPlan> plan;
      std::int64_t n = 0;
      for (std::int64_t size : manifest->sizes) {
        auto candidate = makeRunPlan(*manifest, size);
        ASSERT_TRUE(candidate.ok()) << candidate.error().message();
        if (kernel->scheme == WorkGroupScheme::kKeepLocalSize && !candidate->localSize.empty()) {
          const std::uint64_t shrunk = candidate->globalSize[0] / factor;
          while (candidate->localSize[0] > 1 && shrunk % candidate->localSize[0] != 0)
            candidate->localSize[0] /= 2;
        }
        if (checkNdRange(candidate->globalSize, candidate->localSize, *kernel).ok()) {
          plan = *candidate;
          n = size;
          break;
        }
      }
      ASSERT_TRUE(plan.has_value()) << "no manifest size fits factor " << factor;
      if (devices.empty()) continue;
      fs::path coarsePath = writeKernel(folder, kernel->kernelName + ".cl", kernel->text);
      auto request = makeRunRequest(*manifest, n);
      ASSERT_TRUE(request.ok()) << request.error().message();
      request->plan.localSize = plan->localSize;
      const std::string originalKey = fmt::format("{}-{}", n, fmt::join(plan->localSize, "x"));
      if (originalOutputs.count(originalKey) == 0) {
        auto outputs = runAndRead(*request, devices, folder.path() / ("original-" + originalKey));
        ASSERT_TRUE(outputs.has_value());
        originalOutputs[originalKey] = std::move(*outputs);
      }
      auto range = checkNdRange(plan->globalSize, plan->localSize, *kernel);
      ASSERT_TRUE(range.ok());
      // The coarsened run is checked against the CPU reference too, by runOnAllDevices.
      request->plan.source = coarsePath.string();
      request->plan.kernel = kernel->kernelName;
      request->plan.globalSize = range->global;
      request->plan.localSize = range->local;
      auto outputs = runAndRead(*request, devices, folder.path() / kernel->kernelName);
      ASSERT_TRUE(outputs.has_value());
      expectSameOutputs(*outputs, originalOutputs[originalKey], *plan, manifest->tolerance);
      std::cerr << line << workGroupSchemeName(kernel->scheme) << " N=" << n << " global "
                << fmt::format("{}", fmt::join(range->global, "x")) << " local "
                << fmt::format("{}", fmt::join(range->local, "x")) << ": "
                << (::testing::Test::HasFailure() ? "FAILED" : "same outputs") << "\n";
    }
  }
  if (devices.empty()) GTEST_SKIP() << skipReason << " (transforms and compiles checked)";
}

INSTANTIATE_TEST_SUITE_P(Shipped, CoarsenSuite, ::testing::ValuesIn(suiteNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace mirtune
