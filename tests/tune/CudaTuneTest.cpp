// CUDA specs in `mirtune tune`: the generated harness (launch geometry, commands, constant memory; its host
// logic built with g++ against a host stand-in of the CUDA runtime and run), the clear refusal of a live
// session without a GPU, an export whose configurations are built here by nvcc (a compile failure recorded as
// such), the ingest of results a GPU machine would bring back (outputs checked again here), and a live
// session, which runs only where there is a CUDA device.
#include "support/Files.h"
#include "tasks/tune/CudaDevices.h"
#include "tasks/tune/CudaHarness.h"
#include "tasks/tune/TuneSpec.h"
#include "tuner/runner/ProcessPlan.h"
#include "tuner/runner/RunPlan.h"

#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace mirtune::tune {
namespace {

namespace fs = std::filesystem;

const fs::path kSmallSpec = fs::path(MIRTUNE_TUNE_CUDA_INPUTS) / "matmul_small.json";
const fs::path kConvolutionSpec = fs::path(MIRTUNE_SOURCE_ROOT) / ".." / "shared" / "datasets" /
                                  "autotuning-spaces" / "t1-example-convolution.json";

Configuration small(int workPerThread) {
  return {{"block_size_x", 16}, {"block_size_y", 4}, {"work_per_thread", workPerThread}};
}

bool hasNvcc() {
  return !findOnPath("nvcc").empty() || fs::exists("/usr/local/cuda/bin/nvcc");
}

bool hasCudaDevice() {
  return static_cast<bool>(localCudaDevices());
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

nlohmann::json readJson(const fs::path& file) {
  auto text = readFile(file);
  EXPECT_TRUE(text) << file;
  return text ? nlohmann::json::parse(*text) : nlohmann::json();
}

/// The evaluations of a session's JSON report by work_per_thread.
std::map<int, nlohmann::json> byWorkPerThread(const nlohmann::json& report) {
  std::map<int, nlohmann::json> results;
  for (const auto& entry : report.at("results"))
    results[entry["configuration"]["work_per_thread"].get<int>()] = entry;
  return results;
}

TEST(CudaHarness, GivesEachConfigurationItsLaunchBuildAndRun) {
  auto spec = readTuneSpec(kSmallSpec);
  ASSERT_TRUE(spec) << spec.error().message();
  auto harness = CudaHarness::generate(*spec);
  ASSERT_TRUE(harness) << harness.error().message();

  // 64 x 64 outputs: 16 columns per block; 4 x work_per_thread rows per block.
  auto launch = harness->launch(small(2));
  ASSERT_TRUE(launch) << launch.error().message();
  EXPECT_EQ(launch->grid, (std::array<std::uint64_t, 3>{4, 8, 1}));
  EXPECT_EQ(launch->block, (std::array<std::uint64_t, 3>{16, 4, 1}));
  EXPECT_EQ(harness->launch(small(1))->grid[1], 16u);

  CudaBuildOptions options;
  options.nvcc = "/opt/nvcc";
  options.arch = "sm_90";
  const CandidateCommands two = harness->commands(small(2), options);
  ASSERT_FALSE(two.buildArgv.empty());
  EXPECT_EQ(two.buildArgv.front(), "/opt/nvcc");
  for (const char* argument :
       {"-arch=sm_90", "-Dblock_size_x=16", "-Dwork_per_thread=2", "-DMIRTUNE_GRID_X=4", "-DMIRTUNE_GRID_Y=8",
        "-DMIRTUNE_BLOCK_Y=4", "-DMIRTUNE_SHARED_BYTES=0", "-o", kBinaryPlaceholder, kCudaHarnessFile}) {
    EXPECT_TRUE(contains(two.buildArgv, argument)) << argument;
  }
  // Only the default writes the reference; every other configuration compares with it.
  const CandidateCommands one = harness->commands(small(1), options);
  EXPECT_EQ(one.runArgv, (std::vector<std::string>{kBinaryPlaceholder, CudaHarness::outputFolder(small(1))}));
  EXPECT_EQ(two.runArgv, (std::vector<std::string>{kBinaryPlaceholder, CudaHarness::outputFolder(small(2)),
                                                   CudaHarness::outputFolder(small(1))}));
  EXPECT_NE(one.buildKey, two.buildKey);
  EXPECT_EQ(two.runEnvironment.at("CUDA_MODULE_LOADING"), "EAGER");

  // The arguments as the spec fills them (seeded by position, as mirtune-run's generators) and the launch.
  const std::string& source = harness->source();
  EXPECT_NE(source.find("#include \"matmul_wpt.cu\""), std::string::npos);
  // The parameters' macros do not reach the library headers and helpers included before the kernel.
  EXPECT_LT(source.find("#pragma push_macro(\"work_per_thread\")\n#undef work_per_thread"),
            source.find("#include <cuda_runtime.h>"));
  EXPECT_LT(source.find("#pragma pop_macro(\"work_per_thread\")"), source.find("#include \"matmul_wpt.cu\""));
  EXPECT_GT(source.find("#pragma pop_macro(\"work_per_thread\")"), source.find("mirtuneCompare("));
  EXPECT_NE(source.find("const std::int32_t mirtuneArg0 = static_cast<std::int32_t>(64LL);"),
            std::string::npos);
  EXPECT_NE(source.find("mirtuneFillUniform(mirtuneHost1, 2ULL, 0.0, 1.0);"), std::string::npos);
  EXPECT_NE(source.find("mirtuneFillRamp(mirtuneHost2, 0.0, 1.0);"), std::string::npos);
  EXPECT_NE(source.find("matmul_wpt<<<mirtuneGrid, mirtuneBlock, mirtuneShared>>>(mirtuneArg0, mirtuneArg1, "
                        "mirtuneArg2, mirtuneArg3);"),
            std::string::npos);
  EXPECT_EQ(harness->outputFiles(), std::vector<std::string>{"3_c.npy"});
  const auto files = harness->files();
  ASSERT_EQ(files.count("matmul_wpt.cu"), 1u);
  EXPECT_EQ(files.at(kCudaHarnessFile), source);
}

TEST(CudaHarness, ALaunchTheSpecRejectsIsARunFailureWithoutABuild) {
  TemporaryFolder folder("mirtune-cuda", "reject");
  auto text = readFile(kSmallSpec);
  ASSERT_TRUE(text);
  nlohmann::json json = nlohmann::json::parse(*text);
  json["KernelSpecification"]["KernelFile"] =
      (fs::path(MIRTUNE_SOURCE_ROOT) / "kernels/tune/matmul_wpt.cu").string();
  // work_per_thread 2 divides by zero in the grid's divisor.
  json["KernelSpecification"]["GridDivY"] = nlohmann::json::array(
      {"block_size_y * work_per_thread // (work_per_thread - 2) if work_per_thread == 2 else block_size_y * "
       "work_per_thread"});
  const fs::path file = folder.path() / "spec.json";
  ASSERT_TRUE(writeFileAtomically(file, json.dump()));
  auto spec = readTuneSpec(file);
  ASSERT_TRUE(spec) << spec.error().message();
  auto harness = CudaHarness::generate(*spec);
  ASSERT_TRUE(harness) << harness.error().message();
  EXPECT_FALSE(harness->launch(small(2)));
  const CandidateCommands commands = harness->commands(small(2), {});
  EXPECT_TRUE(commands.buildKey.empty());
  ASSERT_EQ(commands.runArgv.size(), 4u);
  EXPECT_EQ(commands.runArgv[0], "sh");
  EXPECT_NE(commands.runArgv[3].find("GridDivY"), std::string::npos) << commands.runArgv[3];
}

TEST(CudaHarness, KernelTunerConvolutionFillsItsConstantMemory) {
  if (!fs::exists(kConvolutionSpec)) {
    GTEST_SKIP() << kConvolutionSpec
                 << " is absent (../shared/datasets): the Kernel Tuner example is not read";
  }
  auto spec = readTuneSpec(kConvolutionSpec);
  ASSERT_TRUE(spec) << spec.error().message();
  auto harness = CudaHarness::generate(*spec);
  ASSERT_TRUE(harness) << harness.error().message();
  EXPECT_NE(harness->source().find("cudaMemcpyToSymbol(d_filter, mirtuneHost2.data()"), std::string::npos);
  // GlobalSizeType CUDA: the global size counts blocks.
  auto launch = harness->launch(spec->space.defaultConfiguration());
  ASSERT_TRUE(launch) << launch.error().message();
  EXPECT_EQ(launch->grid[0], 262144u / 16);
  EXPECT_EQ(launch->block[0], 16u);
}

TEST(CudaHarness, ConstantMemoryNeedsTheKernelsVariable) {
  TemporaryFolder folder("mirtune-cuda", "constant");
  auto text = readFile(kSmallSpec);
  ASSERT_TRUE(text);
  nlohmann::json json = nlohmann::json::parse(*text);
  json["KernelSpecification"]["KernelFile"] =
      (fs::path(MIRTUNE_SOURCE_ROOT) / "kernels/tune/matmul_wpt.cu").string();
  json["KernelSpecification"]["Arguments"][1]["MemType"] = "Constant";
  const fs::path file = folder.path() / "spec.json";
  ASSERT_TRUE(writeFileAtomically(file, json.dump()));
  auto spec = readTuneSpec(file);
  ASSERT_TRUE(spec) << spec.error().message();
  auto harness = CudaHarness::generate(*spec);
  ASSERT_FALSE(harness);
  EXPECT_NE(harness.error().message().find("Arguments[1].MemType: Constant, but"), std::string::npos)
      << harness.error().message();
  EXPECT_NE(harness.error().message().find("no __constant__ variable 'a'"), std::string::npos);
}

/// Builds host_scale.json's harness for `configuration` with g++ and the host stand-in of the CUDA runtime
/// (inputs/cuda/host): the launch brackets removed, the kernel is a function call. Returns the program.
fs::path buildOnHost(const CudaHarness& harness, const Configuration& configuration, const fs::path& folder,
                     const std::string& name) {
  for (const auto& [file, content] : harness.files()) {
    std::string text = content;
    const std::string launch = "<<<mirtuneGrid, mirtuneBlock, mirtuneShared>>>";
    if (file == kCudaHarnessFile) text.erase(text.find(launch), launch.size());
    EXPECT_TRUE(writeFileAtomically(folder / file, text));
  }
  std::vector<std::string> argv = {
      "c++", "-std=c++14", "-x", "c++", "-I", (fs::path(MIRTUNE_TUNE_CUDA_INPUTS) / "host").string()};
  for (const std::string& argument : harness.commands(configuration, {}).buildArgv) {
    if (argument.rfind("-D", 0) == 0) argv.push_back(argument);
  }
  const fs::path program = folder / name;
  argv.insert(argv.end(), {"-o", program.string(), (folder / kCudaHarnessFile).string()});
  auto built = runProgram(argv);
  EXPECT_EQ(built.exitCode, 0) << built.standardError;
  return program;
}

runner::HostArray readArray(const fs::path& file) {
  runner::HostArray array;
  std::string error;
  EXPECT_TRUE(runner::readNpy(file.string(), array, error)) << error;
  return array;
}

TEST(CudaHarness, TheGeneratedProgramFillsChecksAndTimesAsDocumented) {
  const fs::path specFile = fs::path(MIRTUNE_TUNE_CUDA_INPUTS) / "host" / "host_scale.json";
  auto spec = readTuneSpec(specFile);
  ASSERT_TRUE(spec) << spec.error().message();
  auto harness = CudaHarness::generate(*spec);
  ASSERT_TRUE(harness) << harness.error().message();
  TemporaryFolder folder("mirtune-cuda", "host");
  const Configuration original = {{"block_size_x", 32}, {"shift", 0}};
  const Configuration shifted = {{"block_size_x", 32}, {"shift", 1}};
  const fs::path first = buildOnHost(*harness, original, folder.path(), "original");
  const fs::path second = buildOnHost(*harness, shifted, folder.path(), "shifted");
  const fs::path reference = folder.path() / "outputs" / "default";

  // The default: outputs written after the first launch on fresh inputs, no verdict, one time line.
  auto ran = runProgram({first.string(), reference.string()});
  ASSERT_EQ(ran.exitCode, 0) << ran.standardError;
  EXPECT_EQ(ran.standardOutput.rfind("mirtune-region-seconds: ", 0), 0u) << ran.standardOutput;
  EXPECT_EQ(ran.standardOutput.find("mirtune-check"), std::string::npos);
  EXPECT_EQ(std::count(ran.standardOutput.begin(), ran.standardOutput.end(), '\n'), 1);
  EXPECT_NE(ran.standardError.find("launches, median"), std::string::npos) << ran.standardError;
  // x is filled as mirtune-run fills an OpenCL spec's argument 1: uniform in [0, 3), seed 2.
  runner::ArgSpec x;
  x.type = runner::ElementType::kFloat;
  x.elements = 1000;
  x.generator.kind = runner::GeneratorKind::kUniform;
  x.generator.lo = 0;
  x.generator.hi = 3;
  x.generator.seed = 2;
  const runner::HostArray inputs = runner::generateBuffer(x);
  const runner::HostArray y = readArray(reference / "2_y.npy");
  const runner::HostArray counts = readArray(reference / "3_counts.npy");
  ASSERT_EQ(y.elements, 1000u);
  ASSERT_EQ(counts.elements, 1000u);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(y.as<float>()[i], 2.0f * inputs.as<float>()[i]) << i;
    ASSERT_EQ(counts.as<std::int32_t>()[i], static_cast<std::int32_t>(i)) << i;
  }

  // The same configuration against the default's files agrees; another one does not, and is not timed.
  auto same =
      runProgram({first.string(), (folder.path() / "outputs" / "again").string(), reference.string()});
  EXPECT_NE(same.standardOutput.find("mirtune-check: ok\n"), std::string::npos) << same.standardOutput;
  auto differs =
      runProgram({second.string(), (folder.path() / "outputs" / "shifted").string(), reference.string()});
  EXPECT_EQ(differs.exitCode, 0);
  EXPECT_EQ(differs.standardOutput.rfind("mirtune-check: failed: y differs first at index 0 (", 0), 0u)
      << differs.standardOutput;
  EXPECT_NE(differs.standardOutput.find("1000 of 1000 elements differ"), std::string::npos);
  EXPECT_EQ(differs.standardOutput.find("mirtune-region-seconds"), std::string::npos);
  EXPECT_EQ(readArray(folder.path() / "outputs" / "shifted" / "3_counts.npy").as<std::int32_t>()[5], 6);

  // Without the default's files there is no verdict: the tuner decides.
  auto missing = runProgram({second.string(), (folder.path() / "outputs" / "m").string(),
                             (folder.path() / "outputs" / "none").string()});
  EXPECT_NE(missing.standardOutput.find("mirtune-reference: missing in"), std::string::npos)
      << missing.standardOutput;
  EXPECT_EQ(missing.standardOutput.find("mirtune-check"), std::string::npos);

  // No device, a refused launch: clean exits with the reason.
  auto noDevice = runProgram({first.string(), reference.string()}, 60, {{"MIRTUNE_STUB_DEVICES", "0"}});
  EXPECT_EQ(noDevice.exitCode, 3);
  EXPECT_NE(noDevice.standardError.find("mirtune harness: no CUDA device"), std::string::npos);
  auto refused = runProgram({first.string(), reference.string()}, 60, {{"MIRTUNE_STUB_LAUNCH_ERROR", "1"}});
  EXPECT_EQ(refused.exitCode, 2);
  EXPECT_NE(refused.standardError.find("cudaErrorInvalidConfiguration"), std::string::npos)
      << refused.standardError;
}

TEST(CudaTune, ALiveSessionOnAStandInDeviceRecordsEachOutcomeAndGoesOn) {
  // The driver and nvcc stand-ins of inputs/cuda/host: one "device", programs built by g++ that run on the
  // host.
  const fs::path host = fs::path(MIRTUNE_TUNE_CUDA_INPUTS) / "host";
  TemporaryFolder folder("mirtune-cuda", "standin");
  auto driver = runProgram({"cc", "-shared", "-fPIC", "-o", (folder.path() / "libcuda.so.1").string(),
                            (host / "fake_libcuda.c").string()});
  ASSERT_EQ(driver.exitCode, 0) << driver.standardError;
  const std::map<std::string, std::string> environment = {{"LD_LIBRARY_PATH", folder.path().string()}};
  const std::string spec = (host / "host_scale.json").string();
  const fs::path nvcc = host / "fake-nvcc";
  const fs::path t4 = folder.path() / "t4.json";
  const fs::path cacheFile = folder.path() / "cache.json";
  auto result = runMirtuneOn(folder.db(),
                             {"tune", spec, "--strategy", "exhaustive", "--budget", "0", "--nvcc",
                              nvcc.string(), "--json", "-o", t4.string(), "--cache", cacheFile.string()},
                             environment, 300);
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  const nlohmann::json report = nlohmann::json::parse(result.standardOutput);
  EXPECT_EQ(report["device"], "CUDA 0 Host stand-in (sm_90)");
  std::map<int, nlohmann::json> results;
  for (const auto& entry : report.at("results")) results[entry["configuration"]["shift"].get<int>()] = entry;
  ASSERT_EQ(results.size(), 3u) << report.dump(2);
  // The default: three processes, each one sample (its median launch).
  EXPECT_EQ(results[0]["status"], "ok") << results[0].dump();
  EXPECT_EQ(results[0]["samples_s"].size(), 3u);
  EXPECT_GT(results[0]["median_s"].get<double>(), 0);
  // Another output: the harness's check against the default's files.
  EXPECT_EQ(results[1]["status"], "wrong_output") << results[1].dump();
  EXPECT_NE(results[1]["message"].get<std::string>().find("y differs first at index 0"), std::string::npos);
  // A configuration that does not compile is recorded with the compiler's words; the session went on.
  EXPECT_EQ(results[9]["status"], "build_failed") << results[9].dump();
  EXPECT_NE(results[9]["message"].get<std::string>().find("shift must be at most 5"), std::string::npos);
  EXPECT_EQ(report["best"]["configuration"]["shift"], 0);
  std::vector<std::string> invalidity;
  const nlohmann::json t4Results = readJson(t4);
  for (const auto& entry : t4Results.at("results")) invalidity.push_back(entry["invalidity"]);
  EXPECT_EQ(invalidity, (std::vector<std::string>{"correct", "correctness", "compile"}));
  // Each build's time, from the runner's build lines.
  EXPECT_GT(t4Results["results"][0]["times"]["compilation_time"].get<double>(), 0);
  EXPECT_GT(t4Results["results"][2]["times"]["compilation_time"].get<double>(), 0);

  // Kernel Tuner's cache file of the session: a time for what ran correctly, the failure's name otherwise.
  const nlohmann::json cache = readJson(cacheFile);
  std::map<int, nlohmann::json> records;  // by shift
  for (const auto& [key, record] : cache.at("cache").items()) records[record.at("shift").get<int>()] = record["time"];
  ASSERT_EQ(records.size(), 3u) << cache.dump(2);
  EXPECT_TRUE(records[0].is_number()) << cache.dump(2);
  EXPECT_EQ(records[1], "RuntimeFailedConfig") << cache.dump(2);
  EXPECT_EQ(records[9], "CompilationFailedConfig") << cache.dump(2);
  // An existing cache file is continued only with --resume.
  auto existing = runMirtuneOn(
      folder.db(), {"tune", spec, "--nvcc", nvcc.string(), "--cache", cacheFile.string()}, environment);
  EXPECT_EQ(existing.exitCode, 2) << existing.standardError;
  EXPECT_NE(existing.standardError.find("the file exists"), std::string::npos) << existing.standardError;

  auto wrongDevice =
      runMirtuneOn(folder.db(), {"tune", spec, "--device", "1", "--nvcc", nvcc.string()}, environment);
  EXPECT_EQ(wrongDevice.exitCode, 2);
  EXPECT_NE(wrongDevice.standardError.find("ordinal of one of this machine's 1 CUDA devices"),
            std::string::npos)
      << wrongDevice.standardError;
}

TEST(CudaTune, WithoutADeviceALiveSessionSaysSoOnOneLine) {
  if (hasCudaDevice()) GTEST_SKIP() << "this machine has a CUDA device: the live test below runs instead";
  TemporaryFolder folder("mirtune-cuda", "nodevice");
  auto result = runMirtuneOn(folder.db(), {"tune", kSmallSpec.string(), "--strategy", "exhaustive"});
  EXPECT_EQ(result.exitCode, 1) << result.standardError;
  EXPECT_NE(result.standardError.find("no CUDA device here"), std::string::npos) << result.standardError;
  EXPECT_NE(result.standardError.find("--export DIR"), std::string::npos) << result.standardError;
  std::string text = result.standardError;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 0) << result.standardError;
  EXPECT_FALSE(fs::exists(folder.path() / "tuning"));
}

TEST(CudaTune, ExportBuildsEveryConfigurationHereAndRecordsTheOneThatDoesNotCompile) {
  if (!hasNvcc()) GTEST_SKIP() << "no nvcc here (PATH, /usr/local/cuda/bin): the export cannot build";
  TemporaryFolder folder("mirtune-cuda", "export");
  const fs::path exported = folder.path() / "export";
  auto result = runMirtuneOn(folder.db(),
                             {"tune", kSmallSpec.string(), "--strategy", "exhaustive", "--budget", "0",
                              "--export", exported.string()},
                             {}, 600);
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  const nlohmann::json index = readJson(exported / "tune.json");
  EXPECT_EQ(index["language"], "CUDA");
  EXPECT_EQ(index["built_here"], true);
  EXPECT_EQ(index["cuda_arch"], "sm_90");
  EXPECT_EQ(index["failed_builds"], 1);
  ASSERT_EQ(index["configurations"].size(), 3u);
  EXPECT_EQ(index["configurations"][0], small(1));
  EXPECT_TRUE(fs::exists(exported / "run-all.sh"));
  EXPECT_TRUE(fs::exists(exported / "export-id"));

  // Every build ran here: two binaries, and nvcc's refusal of work_per_thread 16 in the results.
  const fs::path plans = exported / "cuda";
  runner::ProcessPlan plan;
  std::string error;
  ASSERT_TRUE(runner::readProcessPlan((plans / "plan-1.json").string(), plan, error)) << error;
  ASSERT_EQ(plan.builds.size(), 3u);
  std::vector<runner::ProcessResult> lines;
  ASSERT_TRUE(runner::readProcessResults((plans / "results-1.jsonl").string(), lines, error)) << error;
  ASSERT_EQ(lines.size(), 3u);
  std::map<std::string, runner::ProcessResult> builds;
  for (const auto& line : lines) builds[line.id] = line;
  int binaries = 0;
  for (const runner::ProcessBuild& build : plan.builds) {
    ASSERT_EQ(builds.count(build.id), 1u);
    const auto output = std::find(build.argv.begin(), build.argv.end(), "-o");
    ASSERT_NE(output, build.argv.end());
    const fs::path binary = plans / *(output + 1);
    const bool invalid = contains(build.argv, "-Dwork_per_thread=16");
    if (invalid) {
      EXPECT_EQ(builds[build.id].status, MeasureStatus::kBuildFailed);
      EXPECT_NE(builds[build.id].standardError.find("work_per_thread must be 1 to 8"), std::string::npos)
          << builds[build.id].standardError;
      EXPECT_FALSE(fs::exists(binary));
    } else {
      EXPECT_EQ(builds[build.id].status, MeasureStatus::kOk) << builds[build.id].standardError;
      EXPECT_TRUE(fs::exists(binary)) << binary;
      ++binaries;
    }
  }
  EXPECT_EQ(binaries, 2);
  EXPECT_FALSE(fs::exists(plans / "build-plan.json"));

  // run-all.sh with the runner alone, as on the GPU machine; here each run ends at "no CUDA device".
  auto ran = runProgram({"sh", (exported / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE}, 300);
  EXPECT_TRUE(fs::exists(exported / "platform.json")) << ran.standardError;
  const fs::path t4 = folder.path() / "t4.json";
  auto ingested = runMirtuneOn(
      folder.db(), {"tune", kSmallSpec.string(), "--ingest", exported.string(), "--json", "-o", t4.string()});
  ASSERT_EQ(ingested.exitCode, 0) << ingested.standardError << ingested.standardOutput;
  const nlohmann::json report = nlohmann::json::parse(ingested.standardOutput);
  auto results = byWorkPerThread(report);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[16]["status"], "build_failed") << results[16].dump();
  const std::string expected = hasCudaDevice() ? "ok" : "run_failed";
  EXPECT_EQ(results[1]["status"], expected) << results[1].dump();
  EXPECT_EQ(results[2]["status"], expected) << results[2].dump();
  if (!hasCudaDevice()) {
    EXPECT_NE(results[1]["message"].get<std::string>().find("no CUDA device"), std::string::npos)
        << results[1];
  }
  EXPECT_EQ(report["ingest"]["stored"], 3);
  const nlohmann::json t4Results = readJson(t4);
  ASSERT_EQ(t4Results["results"].size(), 3u);
  EXPECT_EQ(t4Results["results"][2]["invalidity"], "compile");
}

/// What the runner on a GPU machine writes for a run: `times` seconds, the harness's check verdict.
runner::ProcessResult runLine(const std::string& id, std::vector<double> times, runner::SelfCheck check,
                              MeasureStatus status) {
  runner::ProcessResult line;
  line.id = id;
  line.kind = runner::ProcessItemKind::kRun;
  line.status = status;
  line.exitCode = 0;
  line.timer = runner::TimerMode::kRegion;
  line.times = std::move(times);
  line.summary = runner::summarise(line.times);
  line.repetitions = static_cast<int>(line.times.size());
  line.selfCheck = check;
  line.stdoutSha256 = std::string(64, 'a');
  if (status == MeasureStatus::kWrongOutput) line.message = "repetition 1: mirtune-check: failed: c differs";
  line.wallSeconds = 1.5;
  return line;
}

void writeOutput(const fs::path& folder, const std::vector<float>& values) {
  fs::create_directories(folder);
  runner::HostArray array;
  array.type = runner::ElementType::kFloat;
  array.elements = values.size();
  array.bytes.resize(values.size() * sizeof(float));
  std::copy_n(reinterpret_cast<const unsigned char*>(values.data()), array.bytes.size(), array.bytes.begin());
  std::ofstream(folder / "3_c.npy", std::ios::binary) << runner::npyBytes(array);
}

TEST(CudaTune, IngestStoresWhatTheGpuMachineMeasuredAndChecksItsOutputs) {
  TemporaryFolder folder("mirtune-cuda", "ingest");
  const fs::path exported = folder.path() / "export";
  // No nvcc named: the plan folder keeps the nvcc commands, and this test plays the GPU machine.
  auto result =
      runMirtuneOn(folder.db(), {"tune", kSmallSpec.string(), "--strategy", "exhaustive", "--budget", "0",
                                 "--nvcc", "/nonexistent/nvcc", "--export", exported.string()});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  EXPECT_EQ(readJson(exported / "tune.json")["built_here"], false);
  const fs::path plans = exported / "cuda";
  EXPECT_FALSE(fs::exists(plans / "results-1.jsonl"));

  // Not measured yet: nothing stored, and the exit status says the ingest is incomplete.
  auto early = runMirtuneOn(folder.db(), {"tune", kSmallSpec.string(), "--ingest", exported.string()});
  EXPECT_EQ(early.exitCode, 1) << early.standardError;

  // The machine record run-all.sh writes (the runner given is no runner, so nothing is measured).
  runProgram({"sh", (exported / "run-all.sh").string(), "/bin/false"});
  ASSERT_TRUE(fs::exists(exported / "platform.json"));
  runner::ProcessPlan plan;
  std::string error;
  ASSERT_TRUE(runner::readProcessPlan((plans / "plan-1.json").string(), plan, error)) << error;
  const nlohmann::json candidates = readJson(plans / "candidates-1.json");
  ASSERT_EQ(plan.runs.size(), 3u);
  std::string lines;
  for (const runner::ProcessBuild& build : plan.builds) {
    runner::ProcessResult line;
    line.id = build.id;
    line.kind = runner::ProcessItemKind::kBuild;
    line.status =
        contains(build.argv, "-Dwork_per_thread=16") ? MeasureStatus::kBuildFailed : MeasureStatus::kOk;
    line.exitCode = line.status == MeasureStatus::kOk ? 0 : 1;
    line.seconds = 2.0;
    lines += runner::processResultLine(line);
  }
  std::map<int, std::string> runIds;
  for (std::size_t i = 0; i < plan.runs.size(); ++i)
    runIds[candidates[i]["work_per_thread"]] = plan.runs[i].id;
  lines += runner::processResultLine(
      runLine(runIds[1], {2e-5, 2.2e-5, 2.1e-5}, runner::SelfCheck::kAbsent, MeasureStatus::kOk));
  lines += runner::processResultLine(
      runLine(runIds[2], {1e-5, 1.1e-5, 1.2e-5}, runner::SelfCheck::kOk, MeasureStatus::kOk));
  runner::ProcessResult failed;
  failed.id = runIds[16];
  failed.kind = runner::ProcessItemKind::kRun;
  failed.status = MeasureStatus::kBuildFailed;
  failed.message = "build failed";
  lines += runner::processResultLine(failed);
  ASSERT_TRUE(writeFileAtomically(plans / "results-1.jsonl", lines));
  const std::vector<float> product(64 * 64, 1.5f);
  writeOutput(plans / CudaHarness::outputFolder(small(1)), product);
  std::vector<float> wrong = product;
  wrong[100] = 2.5f;
  writeOutput(plans / CudaHarness::outputFolder(small(2)), wrong);

  // Its harness said ok, but the files disagree: refused, nothing stored.
  auto refused = runMirtuneOn(folder.db(), {"tune", kSmallSpec.string(), "--ingest", exported.string()});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.standardError.find("differs from the default's here"), std::string::npos)
      << refused.standardError;
  EXPECT_NE(refused.standardError.find("index 100"), std::string::npos) << refused.standardError;

  writeOutput(plans / CudaHarness::outputFolder(small(2)), product);
  const fs::path t4 = folder.path() / "t4.json";
  auto stored = runMirtuneOn(
      folder.db(), {"tune", kSmallSpec.string(), "--ingest", exported.string(), "--json", "-o", t4.string()});
  ASSERT_EQ(stored.exitCode, 0) << stored.standardError;
  const nlohmann::json report = nlohmann::json::parse(stored.standardOutput);
  EXPECT_EQ(report["ingest"]["stored"], 3);
  auto results = byWorkPerThread(report);
  EXPECT_EQ(results[1]["status"], "ok");
  EXPECT_NEAR(results[1]["median_s"].get<double>(), 2.1e-5, 1e-12);
  EXPECT_EQ(results[2]["status"], "ok");
  EXPECT_EQ(results[16]["status"], "build_failed");
  ASSERT_TRUE(report["best"].is_object());
  EXPECT_EQ(report["best"]["configuration"], small(2));
  const nlohmann::json t4Results = readJson(t4);
  ASSERT_EQ(t4Results["results"].size(), 3u);
  EXPECT_DOUBLE_EQ(t4Results["results"][0]["times"]["compilation_time"].get<double>(), 2000.0);

  // Again: everything is stored already.
  auto again =
      runMirtuneOn(folder.db(), {"tune", kSmallSpec.string(), "--ingest", exported.string(), "--json"});
  ASSERT_EQ(again.exitCode, 0) << again.standardError;
  const nlohmann::json second = nlohmann::json::parse(again.standardOutput);
  EXPECT_EQ(second["ingest"]["stored"], 0);
  EXPECT_EQ(second["ingest"]["already_stored"], 3);
}

TEST(CudaTuneGpu, LiveSessionBuildsRunsAndChecksEveryConfiguration) {
  auto devices = localCudaDevices();
  if (!devices)
    GTEST_SKIP() << "no CUDA device (" << devices.error().message() << "): the live session needs one";
  if (!hasNvcc()) GTEST_SKIP() << "no nvcc here";
  TemporaryFolder folder("mirtune-cuda", "live");
  auto result = runMirtuneOn(
      folder.db(), {"tune", kSmallSpec.string(), "--strategy", "exhaustive", "--budget", "0", "--json"}, {},
      600);
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  const nlohmann::json report = nlohmann::json::parse(result.standardOutput);
  auto results = byWorkPerThread(report);
  ASSERT_EQ(results.size(), 3u) << report.dump(2);
  EXPECT_EQ(results[1]["status"], "ok") << results[1].dump();
  EXPECT_EQ(results[2]["status"], "ok") << results[2].dump();
  EXPECT_EQ(results[2]["samples_s"].size(), 3u);
  EXPECT_GT(results[2]["median_s"].get<double>(), 0);
  EXPECT_EQ(results[16]["status"], "build_failed") << results[16].dump();
}

}  // namespace
}  // namespace mirtune::tune
