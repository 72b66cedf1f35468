// End-to-end tests of `mirtune coarsen FILE.cu --run`: the tuning session of a CUDA program (factor 1 and
// every factor the transform accepts, each built by nvcc and checked by the program's own line), its export
// for a GPU machine (run-all.sh with the runner alone) and --ingest. A stand-in nvcc writes programs that
// print what the suite's programs print, so the session is tested where there is no GPU; the real builds are
// coarsening_cuda_test's.
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"
#include "common/FakeNvcc.h"
#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kSaxpy = fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "cuda" / "saxpy.cu";

SubprocessResult run(const std::vector<std::string>& argv, double timeoutSeconds = 240) {
  return runProgram(argv, timeoutSeconds, {});
}

SubprocessResult mirtune(const std::string& db, std::vector<std::string> arguments) {
  return runMirtuneOn(db, std::move(arguments), {});
}

/// `mirtune coarsen SOURCE --run --nvcc NVCC --min-time 0 EXTRA...` against the folder's database.
SubprocessResult coarsenRun(const TemporaryFolder& folder, const fs::path& source, const fs::path& nvcc,
                            std::vector<std::string> extra) {
  std::vector<std::string> arguments = {"coarsen",     source.string(), "--run", "--nvcc",
                                        nvcc.string(), "--min-time",    "0"};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return mirtune(folder.db(), arguments);
}

std::map<int, nlohmann::json> resultsByFactor(const nlohmann::json& program) {
  std::map<int, nlohmann::json> results;
  for (const auto& entry : program.at("results"))
    results[entry["configuration"]["factor"].get<int>()] = entry;
  return results;
}

TEST(CoarsenCudaRun, EveryAcceptedFactorIsBuiltRunCheckedAndStored) {
  TemporaryFolder folder("mirtune-coarsen-cuda", "session");
  const fs::path nvcc = writeFakeNvcc(folder.path(), 8);
  auto result = coarsenRun(folder, kSaxpy, nvcc, {"--platform", "fermi", "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError << result.standardOutput;
  auto report = nlohmann::json::parse(result.standardOutput);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0]["kernel"], "saxpy");
  EXPECT_TRUE(report[0]["refused"].empty());
  ASSERT_TRUE(report[0].contains("predicted"));
  const int predicted = report[0]["predicted"];
  // Factor 1 first, then the predicted one, then the others.
  ASSERT_EQ(report[0]["results"].size(), 6u);
  EXPECT_EQ(report[0]["results"][0]["configuration"]["factor"], 1);
  if (predicted != 1) {
    EXPECT_EQ(report[0]["results"][1]["configuration"]["factor"], predicted);
  }
  auto results = resultsByFactor(report[0]);
  for (int factor : {1, 2, 4, 16, 32}) {
    EXPECT_EQ(results[factor]["status"], "ok") << results[factor].dump();
    EXPECT_EQ(results[factor]["timer"], "region");
    EXPECT_NEAR(results[factor]["median_seconds"].get<double>(), 0.008 / factor, 1e-6);
  }
  EXPECT_EQ(results[32]["kernel"], "saxpy_cf32");
  EXPECT_NEAR(results[32]["speedup"].get<double>(), 32.0, 0.01);
  // The program's own check decides: factor 8 said FAILED.
  EXPECT_EQ(results[8]["status"], "wrong_output") << results[8].dump();
  EXPECT_EQ(report[0]["best"], 32);

  // The text report; a finished session is not resumed.
  auto again = coarsenRun(folder, kSaxpy, nvcc, {"--platform", "fermi"});
  ASSERT_EQ(again.exitCode, 0) << again.standardError;
  EXPECT_NE(again.standardOutput.find("factor  8  wrong_output"), std::string::npos) << again.standardOutput;
  auto resumed = coarsenRun(folder, kSaxpy, nvcc, {"--platform", "fermi", "--resume"});
  EXPECT_NE(resumed.exitCode, 0);
  EXPECT_NE(resumed.standardError.find("already finished"), std::string::npos) << resumed.standardError;
  EXPECT_NE(again.standardOutput.find("best: factor 32, 32.000x over factor 1"), std::string::npos)
      << again.standardOutput;
}

TEST(CoarsenCudaRun, RefusedFactorsAreReportedAndTheBudgetIsKept) {
  TemporaryFolder folder("mirtune-coarsen-cuda", "refused");
  const fs::path nvcc = writeFakeNvcc(folder.path(), 0);
  const fs::path source = folder.path() / "loop_barrier.cu";
  ASSERT_TRUE(writeFileAtomically(source, R"(__global__ void steps(float* a, int n) {
  __shared__ float tile[256];
  for (int s = 0; s < n; ++s) {
    tile[threadIdx.x] = a[blockIdx.x * blockDim.x + threadIdx.x] + s;
    __syncthreads();
    a[blockIdx.x * blockDim.x + threadIdx.x] = tile[(threadIdx.x + 1) % blockDim.x];
  }
}

#ifndef __CUDA_ARCH__
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL steps
#endif
int main() {  // stands for a host part that launches MIRTUNE_KERNEL through mirtuneCoarsenLaunch
  return 0;
}
#endif
)")
                  .ok());
  auto refused = coarsenRun(folder, source, nvcc, {"--json", "--no-cache"});
  ASSERT_EQ(refused.exitCode, 0) << refused.standardError;
  auto report = nlohmann::json::parse(refused.standardOutput);
  ASSERT_EQ(report[0]["results"].size(), 1u);  // factor 1 only
  ASSERT_EQ(report[0]["refused"].size(), 5u);
  EXPECT_EQ(report[0]["refused"][0]["reason"], "barrier_in_control_flow");
  EXPECT_NE(report[0]["refused"][0]["message"].get<std::string>().find(source.string() + ":"),
            std::string::npos)
      << report[0]["refused"][0].dump();

  // When the original fails its own check, nothing coarsened is built or run, and the exit status says so.
  const fs::path failing = writeFakeNvcc(folder.path() / "failing", 1);
  auto original = coarsenRun(folder, kSaxpy, failing, {"--json"});
  EXPECT_EQ(original.exitCode, 1) << original.standardError;
  EXPECT_NE(original.standardError.find("factor 1 did not run correctly"), std::string::npos)
      << original.standardError;
  auto failed = nlohmann::json::parse(original.standardOutput);
  ASSERT_EQ(failed[0]["results"].size(), 1u);
  EXPECT_NE(failed[0]["results"][0]["status"], "ok");

  // --budget 2: factor 1 and two coarsened factors.
  auto budget = coarsenRun(folder, kSaxpy, nvcc, {"--budget", "2", "--json"});
  ASSERT_EQ(budget.exitCode, 0) << budget.standardError;
  EXPECT_EQ(nlohmann::json::parse(budget.standardOutput)[0]["results"].size(), 3u);
}

TEST(CoarsenCudaRun, UsageErrors) {
  TemporaryFolder folder("mirtune-coarsen-cuda", "usage");
  const fs::path openCl = fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "opencl" / "saxpy.cl";
  auto mixed =
      mirtune(folder.db(), {"coarsen", kSaxpy.string(), openCl.string(), "--run", "--global", "1024"});
  EXPECT_NE(mixed.exitCode, 0);
  EXPECT_NE(mixed.standardError.find("not both"), std::string::npos) << mixed.standardError;
  auto exportCl = mirtune(folder.db(), {"coarsen", openCl.string(), "--run", "--global", "1024", "--export",
                                        (folder.path() / "x").string()});
  EXPECT_NE(exportCl.exitCode, 0);
  EXPECT_NE(exportCl.standardError.find("CUDA"), std::string::npos) << exportCl.standardError;
  auto ingestFile = mirtune(folder.db(), {"coarsen", kSaxpy.string(), "--ingest", folder.path().string()});
  EXPECT_NE(ingestFile.exitCode, 0);
  auto notExport = mirtune(folder.db(), {"coarsen", "--ingest", folder.path().string()});
  EXPECT_NE(notExport.exitCode, 0);
  EXPECT_NE(notExport.standardError.find("coarsen-cuda.json"), std::string::npos) << notExport.standardError;
  // A program whose host code ignores MIRTUNE_KERNEL would time the original under every factor: refused.
  const fs::path plain = folder.path() / "plain.cu";
  ASSERT_TRUE(writeFileAtomically(plain, "__global__ void twice(float* a) { a[threadIdx.x] *= 2; }\n").ok());
  auto ignored =
      mirtune(folder.db(), {"coarsen", plain.string(), "--run", "--export", (folder.path() / "e").string()});
  EXPECT_EQ(ignored.exitCode, 1);
  EXPECT_NE(ignored.standardError.find(plain.string() + ": the host code must launch MIRTUNE_KERNEL"),
            std::string::npos)
      << ignored.standardError;
  auto missingKernel = mirtune(folder.db(), {"coarsen", kSaxpy.string(), "--run", "--kernel", "nope"});
  EXPECT_NE(missingKernel.exitCode, 0);
  EXPECT_NE(missingKernel.standardError.find("no kernel named 'nope' (kernels: saxpy)"), std::string::npos)
      << missingKernel.standardError;
}

TEST(CoarsenCudaRun, ExportRunWithTheRunnerAloneAndIngest) {
  TemporaryFolder folder("mirtune-coarsen-cuda", "export");
  const fs::path nvcc = writeFakeNvcc(folder.path(), 0);
  const fs::path out = folder.path() / "export";
  auto exported = coarsenRun(folder, kSaxpy, nvcc, {"--cuda-arch", "sm_90", "--export", out.string()});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  const fs::path item = out / "saxpy-saxpy";
  ASSERT_TRUE(fs::exists(item / "plan-1.json"));
  ASSERT_TRUE(fs::exists(item / "mirtune_cuda.h"));  // the quoted header travels with the source
  auto plan = nlohmann::json::parse(*readFile(item / "plan-1.json"));
  ASSERT_EQ(plan["builds"].size(), 6u);
  const auto argv = plan["builds"][1]["argv"];
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-arch=sm_90"), argv.end()) << argv.dump();
  EXPECT_EQ(plan["runs"][0]["env"]["CUDA_MODULE_LOADING"], "EAGER");

  auto early = mirtune(folder.db(), {"coarsen", "--ingest", out.string()});
  EXPECT_NE(early.exitCode, 0);
  EXPECT_NE(early.standardError.find("run-all.sh"), std::string::npos) << early.standardError;

  auto script = run({"sh", (out / "run-all.sh").string(), MIRTUNE_RUN_EXECUTABLE});
  ASSERT_EQ(script.exitCode, 0) << script.standardError;
  auto platform = nlohmann::json::parse(*readFile(out / "platform.json"));
  EXPECT_TRUE(platform["gpus"].is_array()) << platform.dump();

  auto ingest = mirtune(folder.db(), {"coarsen", "--ingest", out.string(), "--json"});
  ASSERT_EQ(ingest.exitCode, 0) << ingest.standardError;
  auto report = nlohmann::json::parse(ingest.standardOutput);
  ASSERT_EQ(report.size(), 1u);
  auto results = resultsByFactor(report[0]);
  ASSERT_EQ(results.size(), 6u);
  for (const auto& [factor, entry] : results) EXPECT_EQ(entry["status"], "ok") << entry.dump();
  EXPECT_EQ(report[0]["best"], 32);
}

}  // namespace
}  // namespace mirtune
