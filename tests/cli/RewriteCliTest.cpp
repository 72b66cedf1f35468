// End-to-end tests of `mirtune rewrite omp|loops`: reports, written files, exit codes.
#include "support/Files.h"

#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kRewriteInputs = fs::path(MIRTUNE_TEST_INPUTS) / "rewrite";

TEST(CliRewrite, OmpReportsEachDirectiveAndWritesTheRewrittenFile) {
  const fs::path source = kRewriteInputs / "omp_template.cpp";
  auto report = runMirtune({"rewrite", "omp", source.string()});
  ASSERT_EQ(report.exitCode, 0) << report.standardError;
  EXPECT_NE(report.standardOutput.find(source.string() +
                                       ":8:1: omp parallel for: schedule(static, 16) -> schedule(runtime)"),
            std::string::npos)
      << report.standardOutput;
  EXPECT_NE(report.standardOutput.find("2 of 2 OpenMP loop directives rewritten"), std::string::npos);

  TemporaryFolder folder("mirtune-cli", "rewrite-omp");
  fs::path out = folder.path() / "omp_template.cpp";
  auto json = runMirtune({"rewrite", "omp", source.string(), "-o", out.string(), "--json"});
  ASSERT_EQ(json.exitCode, 0) << json.standardError;
  auto summary = nlohmann::json::parse(json.standardOutput);
  EXPECT_EQ(summary["rewritten"], 2);
  ASSERT_EQ(summary["sites"].size(), 2u);
  EXPECT_EQ(summary["sites"][0]["line"], 8);
  EXPECT_EQ(summary["sites"][0]["original_schedule"], "schedule(static, 16)");
  EXPECT_EQ(summary["sites"][1]["original_schedule"], "");
  auto written = readFile(out);
  ASSERT_TRUE(written.ok());
  EXPECT_NE(written->find("#pragma omp parallel for schedule(runtime)\n    for (long i"), std::string::npos)
      << *written;

  // `-o -` prints exactly the file that -o OUT wrote.
  auto toStdout = runMirtune({"rewrite", "omp", source.string(), "-o", "-"});
  ASSERT_EQ(toStdout.exitCode, 0);
  EXPECT_EQ(toStdout.standardOutput, *written);
}

TEST(CliRewrite, LoopsListsInnermostLoopsAsJson) {
  const fs::path source = kRewriteInputs / "loops.c";
  auto run = runMirtune({"rewrite", "loops", source.string(), "--json"});
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto loops = nlohmann::json::parse(run.standardOutput)["loops"];
  ASSERT_EQ(loops.size(), 9u);
  EXPECT_EQ(loops[0]["function"], "matmul");
  EXPECT_EQ(loops[0]["kind"], "for");
  EXPECT_EQ(loops[0]["depth"], 3);
  EXPECT_EQ(loops[0]["insertable"], true);
  EXPECT_EQ(loops[8]["in_header"], true);
  EXPECT_EQ(loops[8]["note"], "in header " + (kRewriteInputs / "loop_header.h").string() + ": skipped");

  auto text = runMirtune({"rewrite", "loops", source.string()});
  ASSERT_EQ(text.exitCode, 0);
  EXPECT_NE(text.standardOutput.find("9 innermost loops, 6 can take a loop pragma"), std::string::npos)
      << text.standardOutput;
}

TEST(CliRewrite, BadInputAndUsage) {
  auto broken = runMirtune({"rewrite", "omp", (kRewriteInputs / "omp_broken.c").string()});
  EXPECT_EQ(broken.exitCode, 1);
  EXPECT_NE(broken.standardError.find("omp_broken.c:4:"), std::string::npos) << broken.standardError;
  EXPECT_TRUE(broken.standardOutput.empty());
  EXPECT_EQ(runMirtune({"rewrite", "loops", (kRewriteInputs / "missing.c").string()}).exitCode, 1);
  EXPECT_EQ(
      runMirtune({"rewrite", "omp", (kRewriteInputs / "omp_template.cpp").string(), "-o", "-", "--json"})
          .exitCode,
      2);
  EXPECT_EQ(runMirtune({"rewrite"}).exitCode, 2);
}

TEST(CliRewrite, CoarsenWritesTheNewKernelAndItsLaunch) {
  const fs::path root = MIRTUNE_SOURCE_ROOT;
  const fs::path vectorAdd = root / "kernels" / "opencl" / "vector_add.cl";
  TemporaryFolder folder("mirtune-cli", "rewrite-coarsen");
  const fs::path out = folder.path() / "vector_add_cf4.cl";
  auto report = runMirtune({"rewrite", "coarsen", vectorAdd.string(), "--kernel", "vector_add", "--factor",
                            "4", "--global", "1024", "--local", "64", "-o", out.string()});
  ASSERT_EQ(report.exitCode, 0) << report.standardError;
  EXPECT_NE(report.standardOutput.find("vector_add -> vector_add_cf4 (factor 4, dimension 0, consecutive, "
                                       "keep_local_size)"),
            std::string::npos)
      << report.standardOutput;
  EXPECT_NE(report.standardOutput.find("NDRange: global 1024 local 64 -> global 256 local 64"),
            std::string::npos)
      << report.standardOutput;
  auto written = readFile(out);
  ASSERT_TRUE(written.ok());
  EXPECT_NE(written->find("__kernel void vector_add_cf4("), std::string::npos) << *written;
  EXPECT_NE(written->find("__kernel void vector_add("), std::string::npos);  // the original stays

  // CUDA, strided, in dimension 1, as JSON; `-o -` prints the source alone.
  const fs::path stencil = root / "kernels" / "cuda" / "stencil2d.cu";
  auto json = runMirtune({"rewrite", "coarsen", stencil.string(), "--kernel", "stencil2d", "--factor", "2",
                          "--dim", "1", "--mode", "strided", "--json"});
  ASSERT_EQ(json.exitCode, 0) << json.standardError;
  auto summary = nlohmann::json::parse(json.standardOutput);
  EXPECT_EQ(summary["new_kernel"], "stencil2d_cf2s_d1");
  EXPECT_EQ(summary["scheme"], "keep_local_size");
  auto source = runMirtune({"rewrite", "coarsen", stencil.string(), "--kernel", "stencil2d", "--factor", "2",
                            "--dim", "1", "--mode", "strided", "-o", "-"});
  ASSERT_EQ(source.exitCode, 0);
  EXPECT_NE(source.standardOutput.find("__global__ void stencil2d_cf2s_d1("), std::string::npos);

  // A launch the factor does not divide is an error naming the size.
  auto indivisible = runMirtune({"rewrite", "coarsen", vectorAdd.string(), "--kernel", "vector_add",
                                 "--factor", "4", "--global", "1000", "--local", "100"});
  EXPECT_NE(indivisible.exitCode, 0);
  EXPECT_NE(indivisible.standardError.find("vector_add.cl"), std::string::npos) << indivisible.standardError;
}

TEST(CliRewrite, CoarsenRefusalsAndBadInputAreErrors) {
  const fs::path root = MIRTUNE_SOURCE_ROOT;
  const fs::path prefixSum = root / "kernels" / "opencl" / "prefix_sum.cl";
  auto refused =
      runMirtune({"rewrite", "coarsen", prefixSum.string(), "--kernel", "prefix_sum", "--factor", "2"});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.standardError.find(prefixSum.string() + ":"), std::string::npos) << refused.standardError;
  EXPECT_NE(refused.standardError.find("barrier_in_control_flow"), std::string::npos)
      << refused.standardError;
  auto json = runMirtune(
      {"rewrite", "coarsen", prefixSum.string(), "--kernel", "prefix_sum", "--factor", "2", "--json"});
  EXPECT_EQ(json.exitCode, 1);
  EXPECT_EQ(nlohmann::json::parse(json.standardOutput)["refused"], "barrier_in_control_flow");

  const fs::path vectorAdd = root / "kernels" / "opencl" / "vector_add.cl";
  auto missing = runMirtune({"rewrite", "coarsen", vectorAdd.string(), "--kernel", "nope", "--factor", "2"});
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.standardError.find("no kernel named 'nope'"), std::string::npos) << missing.standardError;
  auto badFactor =
      runMirtune({"rewrite", "coarsen", vectorAdd.string(), "--kernel", "vector_add", "--factor", "3"});
  EXPECT_NE(badFactor.exitCode, 0);
  EXPECT_NE(badFactor.standardError.find("power of two"), std::string::npos) << badFactor.standardError;
}

}  // namespace
}  // namespace mirtune
