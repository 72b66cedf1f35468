// Tests of mirtune-run opencl and runOnAllDevices on the installed devices (PoCL here): results, build
// failures, timeouts, crashes, wrong outputs, mismatched plans, image arguments and default plans.
#include "TunerTestSupport.h"
#include "support/Files.h"
#include "support/Subprocess.h"
#include "tuner/KernelManifest.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
using testing::devicesOrReason;
using testing::makeQuick;
using testing::runnerExecutable;
using testing::tunerInputs;

/// A temporary folder named after the test.
struct TestFolder : TemporaryFolder {
  explicit TestFolder(const std::string& name) : TemporaryFolder("mirtune-tuner-test", name) {}
};

OpenClRunRequest vectorAddRequest(std::int64_t n = 1024) {
  auto manifest = loadKernelManifest(kernelSuiteDirectory() / "vector_add.json");
  EXPECT_TRUE(manifest.ok()) << manifest.error().message();
  auto request = makeRunRequest(*manifest, n);
  EXPECT_TRUE(request.ok()) << request.error().message();
  makeQuick(request->plan);
  return *request;
}

/// A plan for a one-off test kernel: one buffer per listed element type name, then an int n.
runner::RunPlan singleKernelPlan(const std::string& file, const std::string& kernel, std::uint64_t global) {
  runner::RunPlan plan;
  plan.source = (tunerInputs() / file).string();
  plan.kernel = kernel;
  plan.globalSize = {global};
  makeQuick(plan);
  return plan;
}

runner::ArgSpec buffer(const std::string& name, runner::ElementType type, std::uint64_t elements,
                       runner::ArgRole role) {
  runner::ArgSpec arg;
  arg.name = name;
  arg.type = type;
  arg.elements = elements;
  arg.role = role;
  return arg;
}

runner::ArgSpec intScalar(const std::string& name, std::int64_t value) {
  runner::ArgSpec arg;
  arg.name = name;
  arg.kind = runner::ArgKind::kScalar;
  arg.type = runner::ElementType::kInt;
  arg.scalarInt = value;
  arg.scalarValue = static_cast<double>(value);
  return arg;
}

TEST(OpenClRun, VectorAddRunsOnEveryDeviceAndMatchesReference) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  TestFolder work("vadd");
  OpenClRunRequest request = vectorAddRequest();
  request.plan.minRepetitions = 5;
  request.plan.maxRepetitions = 5;
  request.workDirectory = work.path();
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_FALSE(result->devices.empty());
  for (const auto& device : result->devices) {
    EXPECT_EQ(device.status, MeasureStatus::kOk) << device.name << ": " << device.message;
    EXPECT_FALSE(device.name.empty());
    EXPECT_TRUE(device.type == "CPU" || device.type == "GPU") << device.type;
    EXPECT_EQ(device.kernelSeconds.size(), 5u);
    EXPECT_EQ(device.totalSeconds.size(), 5u);
    EXPECT_GT(device.medianKernelSeconds, 0);
    EXPECT_GE(device.medianTotalSeconds, device.medianKernelSeconds);
    EXPECT_GE(device.iqrKernelSeconds, 0);
    ASSERT_EQ(device.outputFiles.count(2), 1u);  // c is argument 2, kept in the work folder
    runner::HostArray c;
    std::string error;
    ASSERT_TRUE(runner::readNpy(device.outputFiles.at(2).string(), c, error)) << error;
    EXPECT_EQ(c.elements, 1024u);
  }
}

TEST(OpenClRun, RunnerResultJsonOnStdout) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  TestFolder work("stdout");
  OpenClRunRequest request = vectorAddRequest(256);
  ASSERT_TRUE(
      writeFileAtomically(work.path() / "plan.json", runner::runPlanToJson(request.plan).dump()).ok());
  SubprocessOptions options;
  options.argv = {runnerExecutable().string(), "opencl", "--plan", (work.path() / "plan.json").string()};
  options.timeoutSeconds = 60;
  auto run = runSubprocess(options);
  ASSERT_TRUE(run.ok()) << run.error().message();
  ASSERT_TRUE(run->succeeded()) << run->standardError;
  auto json = nlohmann::json::parse(run->standardOutput);
  EXPECT_EQ(json["status"], "ok");
  EXPECT_EQ(json["schema"], "mirtune-run-opencl/1");
  EXPECT_EQ(json["kernel_seconds"].size(), json["repetitions"].get<std::size_t>());
  EXPECT_TRUE(json["device"].contains("driver_version"));
  EXPECT_FALSE(json["outputs"][0].contains("file"));  // no output_dir, no dump
}

TEST(OpenClRun, SyntaxErrorIsBuildFailedWithTheLine) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  OpenClRunRequest request;
  request.plan = singleKernelPlan("syntax_error.cl", "broken", 64);
  request.plan.args = {buffer("out", runner::ElementType::kFloat, 64, runner::ArgRole::kOut),
                       intScalar("n", 64)};
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_TRUE(result.ok()) << result.error().message();
  for (const auto& device : result->devices) {
    EXPECT_EQ(device.status, MeasureStatus::kBuildFailed) << device.message;
    EXPECT_NE(device.buildLog.find(":4:"), std::string::npos) << device.buildLog;
    EXPECT_NE(device.message.find("CL_BUILD_PROGRAM_FAILURE"), std::string::npos) << device.message;
  }
}

TEST(OpenClRun, EndlessKernelTimesOutAndTheRunnerIsGone) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  TestFolder work("timeout");
  OpenClRunRequest request;
  request.plan = singleKernelPlan("infinite_loop.cl", "spin", 4);
  request.plan.args = {buffer("flag", runner::ElementType::kInt, 1, runner::ArgRole::kIn),
                       buffer("out", runner::ElementType::kFloat, 4, runner::ArgRole::kOut)};
  request.plan.args[0].generator.kind = runner::GeneratorKind::kZeros;
  request.timeoutSeconds = 3;
  request.workDirectory = work.path();
  const auto start = std::chrono::steady_clock::now();
  auto result = runOnAllDevices(request, runnerExecutable());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok()) << result.error().message();
  for (const auto& device : result->devices) {
    EXPECT_EQ(device.status, MeasureStatus::kRunTimeout) << device.message;
    EXPECT_NE(device.message.find("timed out"), std::string::npos) << device.message;
  }
  EXPECT_LT(seconds, 3.0 * static_cast<double>(result->devices.size()) + 10.0);
  EXPECT_TRUE(testing::processesMentioning(work.path().string()).empty()) << "a runner outlived its timeout";
}

/// The endless kernel's plan written to `work`/plan.json, with the runner's own limit `timeoutSeconds`.
std::string writeSpinPlan(const TestFolder& work, double timeoutSeconds) {
  runner::RunPlan plan = singleKernelPlan("infinite_loop.cl", "spin", 4);
  plan.args = {buffer("flag", runner::ElementType::kInt, 1, runner::ArgRole::kIn),
               buffer("out", runner::ElementType::kFloat, 4, runner::ArgRole::kOut)};
  plan.args[0].generator.kind = runner::GeneratorKind::kZeros;
  nlohmann::json json = runner::runPlanToJson(plan);
  json["timeout_s"] = timeoutSeconds;
  const std::string path = (work.path() / "plan.json").string();
  EXPECT_TRUE(writeFileAtomically(path, json.dump()).ok());
  return path;
}

/// The pid of a process that has ended and been reaped: a parent that is gone.
pid_t deadProcess() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

/// Waits until a process mentioning `marker` runs, then checks that it still runs a while later: the
/// runner is busy in the endless kernel rather than gone for some other reason.
::testing::AssertionResult keepsRunning(const std::string& marker) {
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (testing::processesMentioning(marker).empty() && std::chrono::steady_clock::now() < giveUp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (testing::processesMentioning(marker).empty())
    return ::testing::AssertionFailure() << "it never started";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  if (testing::processesMentioning(marker).empty()) {
    return ::testing::AssertionFailure() << "it ended within 1.5 s, before the kernel could hang";
  }
  return ::testing::AssertionSuccess();
}

/// Kills a forked process at scope exit, whatever the test's assertions did.
struct KillAtExit {
  pid_t pid;
  ~KillAtExit() {
    int status = 0;
    if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, &status, 0);
  }
};

TEST(OpenClRun, TheRunnerEndsWhenTheProcessThatStartedItIsKilled) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  TestFolder work("orphan");
  const std::string plan = writeSpinPlan(work, 300);
  const std::string result = (work.path() / "result.json").string();
  const std::string executable = runnerExecutable().string();
  // A forked copy of this test starts the runner and waits; SIGKILL gives it no chance to pass anything on.
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    if (::fork() == 0) {
      ::execl(executable.c_str(), executable.c_str(), "opencl", "--plan", plan.c_str(), "--out",
              result.c_str(), "--die-with-parent", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (;;) ::pause();
  }
  KillAtExit parentGuard{parent};
  ASSERT_TRUE(keepsRunning(plan));
  ASSERT_EQ(::kill(parent, SIGKILL), 0);
  const auto left = testing::survivorsAfter(5, plan);
  EXPECT_TRUE(left.empty()) << "the runner spins on after its parent was killed";
  testing::killAllMentioning(plan);
}

TEST(OpenClRun, RunnersEndWithAKilledCallerOfRunOnAllDevices) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  TestFolder work("killed-caller");
  OpenClRunRequest request;
  request.plan = singleKernelPlan("infinite_loop.cl", "spin", 4);
  request.plan.args = {buffer("flag", runner::ElementType::kInt, 1, runner::ArgRole::kIn),
                       buffer("out", runner::ElementType::kFloat, 4, runner::ArgRole::kOut)};
  request.plan.args[0].generator.kind = runner::GeneratorKind::kZeros;
  request.timeoutSeconds = 300;
  request.workDirectory = work.path();
  const pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    (void)runOnAllDevices(request, runnerExecutable());
    ::_exit(0);
  }
  KillAtExit callerGuard{caller};
  ASSERT_TRUE(keepsRunning(work.path().string()));
  ASSERT_EQ(::kill(caller, SIGKILL), 0);
  const auto left = testing::survivorsAfter(5, work.path().string());
  EXPECT_TRUE(left.empty()) << "a runner spins on after the process that called runOnAllDevices was killed";
  testing::killAllMentioning(work.path().string());
}

TEST(OpenClRun, TheRunnerEndsAHungKernelAtItsOwnDeadline) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  TestFolder work("deadline");
  const std::string plan = writeSpinPlan(work, 2);
  const fs::path result = work.path() / "result.json";
  SubprocessOptions options;
  options.argv = {runnerExecutable().string(), "opencl", "--plan", plan, "--out", result.string()};
  options.timeoutSeconds = 30;  // far beyond the plan's limit: only the runner's own deadline ends it early
  auto run = runSubprocess(options);
  ASSERT_TRUE(run.ok()) << run.error().message();
  EXPECT_FALSE(run->timedOut) << "nothing but the parent's limit ended the runner";
  EXPECT_EQ(run->exitCode, 1) << run->standardError;
  EXPECT_LT(run->wallSeconds, 15.0);
  auto text = readFile(result);
  ASSERT_TRUE(text.ok()) << "no result file: " << run->standardError;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  ASSERT_TRUE(json.is_object()) << *text;
  EXPECT_EQ(json["status"], "run_timeout") << *text;
  const std::string message = json.value("message", "");
  EXPECT_NE(message.find("timed out after 2 s (the plan's timeout_s) while warm-up repetition 1"),
            std::string::npos)
      << message;
  EXPECT_TRUE(json.contains("device") && json["device"].contains("name")) << *text;
  EXPECT_NE(run->standardError.find("run_timeout"), std::string::npos) << run->standardError;

  // --timeout overrides the plan's limit; the result then goes to stdout.
  options.argv = {runnerExecutable().string(), "opencl", "--plan", plan, "--timeout", "1"};
  run = runSubprocess(options);
  ASSERT_TRUE(run.ok()) << run.error().message();
  EXPECT_FALSE(run->timedOut);
  json = nlohmann::json::parse(run->standardOutput, nullptr, false);
  ASSERT_TRUE(json.is_object()) << run->standardOutput << run->standardError;
  EXPECT_EQ(json["status"], "run_timeout");
  EXPECT_NE(json.value("message", "").find("timed out after 1 s (--timeout)"), std::string::npos)
      << json.dump();
  EXPECT_TRUE(testing::processesMentioning(plan).empty());
}

TEST(OpenClRun, ARunnerWhoseStarterIsAlreadyGoneEndsAtOnce) {
  TestFolder work("gone");
  const std::string plan = writeSpinPlan(work, 300);
  SubprocessOptions options;
  for (const std::string mode : {"opencl", "opencl-args", "probe"}) {
    options.argv = {runnerExecutable().string(), mode, "--parent-pid", std::to_string(deadProcess())};
    if (mode == "opencl") options.argv.insert(options.argv.end(), {"--plan", plan});
    if (mode == "opencl-args") options.argv.insert(options.argv.end(), {"--source", plan});
    options.timeoutSeconds = 30;
    auto run = runSubprocess(options);
    ASSERT_TRUE(run.ok()) << run.error().message();
    EXPECT_EQ(run->termSignal, SIGKILL) << mode << ": " << run->describe() << "\n" << run->standardError;
    EXPECT_LT(run->wallSeconds, 10.0) << mode;
  }

  options.argv = {runnerExecutable().string(), "probe", "--parent-pid", "x1"};
  auto run = runSubprocess(options);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exitCode, 2);
  EXPECT_NE(run->standardError.find("--parent-pid takes a process id"), std::string::npos)
      << run->standardError;
  options.argv = {runnerExecutable().string(), "opencl", "--plan", plan, "--timeout", "0"};
  run = runSubprocess(options);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exitCode, 2);
  EXPECT_NE(run->standardError.find("--timeout takes a number of seconds"), std::string::npos)
      << run->standardError;
}

TEST(OpenClRun, OutOfBoundsWritesCrashTheRunnerAsRunFailed) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  OpenClRunRequest request;
  request.plan = singleKernelPlan("out_of_bounds.cl", "scribble", 1024);
  request.plan.args = {buffer("out", runner::ElementType::kFloat, 16, runner::ArgRole::kOut),
                       intScalar("n", 1024)};
  request.timeoutSeconds = 60;
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_TRUE(result.ok()) << result.error().message();
  for (const auto& device : result->devices) {
    // A CPU device dies by signal; a GPU may report an error instead. Either way it is not ok.
    if (device.type == "CPU") {
      EXPECT_EQ(device.status, MeasureStatus::kRunFailed) << device.message;
      EXPECT_NE(device.message.find("without a result"), std::string::npos) << device.message;
    } else {
      EXPECT_NE(device.status, MeasureStatus::kOk) << device.message;
    }
  }
}

TEST(OpenClRun, OneCrashingDeviceDoesNotStopTheOthers) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  // A runner wrapper that reports two platforms: platform 0 "crashes" (the runner dies by SIGSEGV), platform
  // 1 is the real platform 0.
  TestFolder work("crash");
  const fs::path wrapper = work.path() / "fake-runner.sh";
  std::ofstream(wrapper)
      << "#!/bin/sh\n"
         "if [ \"$1\" = probe ]; then\n"
         "  echo '{\"platforms\": [{\"name\": \"Crashing\", \"devices\": [{\"name\": \"crasher\", "
         "\"type\": \"GPU\"}]}, {\"name\": \"Real\", \"devices\": [{\"name\": \"real\", "
         "\"type\": \"CPU\"}]}]}'\n"
         "  exit 0\n"
         "fi\n"
         "for a do [ \"$a\" = 0:0 ] && kill -SEGV $$; done\n"
         "for a do shift; if [ \"$a\" = 1:0 ]; then set -- \"$@\" 0:0; else set -- \"$@\" \"$a\"; fi; done\n"
         "exec '"
      << runnerExecutable().string() << "' \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  OpenClRunRequest request = vectorAddRequest();
  auto result = runOnAllDevices(request, wrapper);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->devices.size(), 2u);
  EXPECT_EQ(result->devices[0].status, MeasureStatus::kRunFailed);
  EXPECT_NE(result->devices[0].message.find("signal 11"), std::string::npos) << result->devices[0].message;
  EXPECT_EQ(result->devices[1].status, MeasureStatus::kOk) << result->devices[1].message;
  EXPECT_EQ(result->devices[1].platformIndex, 1);
  EXPECT_FALSE(result->devices[1].kernelSeconds.empty());
}

TEST(OpenClRun, WrongReferenceIsWrongOutputNamingTheBuffer) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  OpenClRunRequest request = vectorAddRequest();
  ReferenceFunction correct = request.reference;
  request.reference = [correct](ReferenceArgs& args) {
    Status status = correct(args);
    args.buffer<float>(2)[5] += 1.0f;
    return status;
  };
  request.referenceName = "off_by_one";
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_TRUE(result.ok()) << result.error().message();
  for (const auto& device : result->devices) {
    EXPECT_EQ(device.status, MeasureStatus::kWrongOutput);
    EXPECT_NE(device.message.find("buffer 'c'"), std::string::npos) << device.message;
    EXPECT_NE(device.message.find("index 5"), std::string::npos) << device.message;
    EXPECT_NE(device.message.find("off_by_one"), std::string::npos) << device.message;
  }
}

TEST(OpenClRun, PlanThatDoesNotMatchTheKernelIsAClearError) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  OpenClRunRequest request = vectorAddRequest();
  request.plan.args[3] = buffer("n", runner::ElementType::kInt, 1024, runner::ArgRole::kIn);  // n is a scalar
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(result.error().message().find("argument 3 ('n') is private int"), std::string::npos)
      << result.error().message();

  request = vectorAddRequest();
  request.plan.args[1].type = runner::ElementType::kInt;  // b is float*
  result = runOnAllDevices(request, runnerExecutable());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("argument 1 ('b')"), std::string::npos) << result.error().message();

  request = vectorAddRequest();
  request.plan.args.pop_back();
  result = runOnAllDevices(request, runnerExecutable());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("takes 4 arguments"), std::string::npos)
      << result.error().message();

  request = vectorAddRequest();
  request.plan.kernel = "vector_sub";
  result = runOnAllDevices(request, runnerExecutable());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("no kernel named 'vector_sub' (kernels: vector_add)"),
            std::string::npos)
      << result.error().message();
}

TEST(OpenClRun, ImageArgumentsAreRefused) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  OpenClRunRequest request;
  request.plan = singleKernelPlan("image_kernel.cl", "blur", 16);
  request.plan.args = {buffer("image", runner::ElementType::kFloat, 16, runner::ArgRole::kIn),
                       buffer("out", runner::ElementType::kFloat, 16, runner::ArgRole::kOut),
                       intScalar("width", 4)};
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("image/sampler argument 'image'"), std::string::npos)
      << result.error().message();

  auto listing = listKernelArgs(runnerExecutable(), tunerInputs() / "image_kernel.cl");
  ASSERT_TRUE(listing.ok()) << listing.error().message();
  const auto& kernel = (*listing)["kernels"][0];
  EXPECT_EQ(kernel["args"][0]["supported"], false);
  EXPECT_EQ(kernel["args"][0]["access"], "read_only");
  auto plan = buildDefaultPlan(kernel, tunerInputs() / "image_kernel.cl", DefaultPlanOptions{});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("image"), std::string::npos) << plan.error().message();
}

TEST(OpenClRun, KernelArgsListing) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  auto listing =
      listKernelArgs(runnerExecutable(), kernelSuiteDirectory() / "transpose_tiled.cl", "-DTILE=16");
  ASSERT_TRUE(listing.ok()) << listing.error().message();
  const auto& args = (*listing)["kernels"][0]["args"];
  ASSERT_EQ(args.size(), 4u);
  EXPECT_EQ(args[0]["name"], "in");
  EXPECT_EQ(args[0]["address"], "global");
  EXPECT_EQ(args[0]["element_type"], "float");
  EXPECT_EQ(args[0]["const"], true);
  EXPECT_EQ(args[2]["address"], "local");
  EXPECT_EQ(args[3]["address"], "private");
  EXPECT_EQ(args[3]["type"], "int");

  auto broken = listKernelArgs(runnerExecutable(), tunerInputs() / "syntax_error.cl");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code(), ErrorCode::kCompileError);
}

TEST(OpenClRun, DefaultPlanForAnArbitraryKernel) {
  MIRTUNE_SKIP_WITHOUT_OPENCL();
  const fs::path source = kernelSuiteDirectory() / "saxpy.cl";
  auto listing = listKernelArgs(runnerExecutable(), source);
  ASSERT_TRUE(listing.ok()) << listing.error().message();
  const auto& kernel = (*listing)["kernels"][0];

  DefaultPlanOptions options;
  options.globalSize = {2048};
  auto plan = buildDefaultPlan(kernel, source, options);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->args.size(), 4u);
  EXPECT_EQ(plan->args[0].elements, 2048u);
  EXPECT_EQ(plan->args[0].role, runner::ArgRole::kIn);     // const float* x
  EXPECT_EQ(plan->args[1].role, runner::ArgRole::kInOut);  // float* y
  EXPECT_DOUBLE_EQ(plan->args[2].scalarValue, 1.0);        // float alpha
  EXPECT_EQ(plan->args[3].scalarInt, 2048);                // int n = global size

  options.transferBytes = 2 * 4 * 512;
  options.scalarValues = {{"alpha", "3.5"}, {"n", "512"}};
  plan = buildDefaultPlan(kernel, source, options);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->args[0].elements, 512u);
  EXPECT_DOUBLE_EQ(plan->args[2].scalarValue, 3.5);
  EXPECT_EQ(plan->args[3].scalarInt, 512);

  OpenClRunRequest request;
  request.plan = *plan;
  makeQuick(request.plan);
  auto result = runOnAllDevices(request, runnerExecutable());
  ASSERT_TRUE(result.ok()) << result.error().message();
  for (const auto& device : result->devices) EXPECT_EQ(device.status, MeasureStatus::kOk) << device.message;

  options.scalarValues = {{"beta", "1"}};
  plan = buildDefaultPlan(kernel, source, options);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("no scalar argument named 'beta' (scalars: alpha, n)"),
            std::string::npos)
      << plan.error().message();
}

TEST(OpenClRun, NoDeviceIsNotFound) {
  // An empty vendor folder makes the ICD loader find no platform, as on a machine without OpenCL drivers.
  TestFolder vendors("novendors");
  const char* previous = std::getenv("OCL_ICD_VENDORS");
  const std::string saved = previous == nullptr ? "" : previous;
  setenv("OCL_ICD_VENDORS", vendors.path().c_str(), 1);
  auto devices = probeOpenClDevices(runnerExecutable());
  auto result = runOnAllDevices(vectorAddRequest(), runnerExecutable());
  if (previous == nullptr)
    unsetenv("OCL_ICD_VENDORS");
  else
    setenv("OCL_ICD_VENDORS", saved.c_str(), 1);
  ASSERT_TRUE(devices.ok()) << devices.error().message();
  EXPECT_TRUE(devices->empty());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(result.error().message().find("no OpenCL device"), std::string::npos) << result.error().message();
}

TEST(OpenClRun, RunnerRejectsBadCommandLinesAndPlans) {
  TestFolder work("cli");
  SubprocessOptions options;
  options.argv = {runnerExecutable().string(), "opencl", "--device", "zero"};
  auto run = runSubprocess(options);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exitCode, 2);
  EXPECT_NE(run->standardError.find("--device takes P:D"), std::string::npos) << run->standardError;

  std::ofstream(work.path() / "plan.json")
      << R"({"source": "k.cl", "kernel": "k", "global_size": [4, 4, 4, 4],
    "args": []})";
  options.argv = {runnerExecutable().string(), "opencl", "--plan", (work.path() / "plan.json").string()};
  run = runSubprocess(options);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exitCode, 1);
  auto json = nlohmann::json::parse(run->standardOutput);
  EXPECT_EQ(json["status"], "invalid_plan");
  EXPECT_NE(json["message"].get<std::string>().find("1 to 3 dimensions"), std::string::npos) << json.dump();
}

TEST(OpenClRun, MissingRunnerIsAnError) {
  auto result = runOnAllDevices(OpenClRunRequest{}, "/nonexistent/mirtune-run");
  ASSERT_FALSE(result.ok());
}

}  // namespace
}  // namespace mirtune
