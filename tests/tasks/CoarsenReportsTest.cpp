// coarsen's reports on hand-made results: the per-device variant table and its JSON, a CUDA program's session
// report, the collection table and the export lines, so that every front end prints the command's bytes.
#include "tasks/coarsen/Reports.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mirtune::coarsen {
namespace {

OpenClDevice testDevice() {
  OpenClDevice device;
  device.platformIndex = 0;
  device.deviceIndex = 1;
  device.name = "Test GPU";
  device.type = "GPU";
  return device;
}

Variant measuredVariant(int factor, const std::string& kernel, double seconds) {
  Variant variant;
  variant.factor = factor;
  variant.kernel = kernel;
  variant.plan.emplace();
  variant.plan->globalSize = {1024};
  variant.plan->localSize = {64};
  DeviceRunResult result;
  result.status = MeasureStatus::kOk;
  result.medianKernelSeconds = seconds;
  result.kernelSeconds = {seconds, seconds, seconds};
  variant.devices = {result};
  variant.measured = {true};
  return variant;
}

// Factor 1 at 4 ms, factor 2 at 2 ms, factor 4 refused twice for one reason, factor 8 over budget.
std::vector<Variant> testVariants() {
  std::vector<Variant> variants = {measuredVariant(1, "saxpy", 4e-3), measuredVariant(2, "saxpy_cf2", 2e-3)};
  for (int factor : {4, 16}) {
    Variant refused;
    refused.factor = factor;
    refused.refusal = "the kernel uses barriers";
    refused.refusalCode = "barrier";
    variants.push_back(refused);
  }
  Variant skipped;  // accepted, but left out by the budget: never measured
  skipped.factor = 8;
  skipped.kernel = "saxpy_cf8";
  skipped.overBudget = true;
  variants.push_back(skipped);
  return variants;
}

TEST(CoarsenReports, VariantTableNamesTheBestAndThePredictedFactor) {
  const std::string text = variantTable(testVariants(), {testDevice()}, {2});
  EXPECT_NE(text.find("  device 0:1  GPU  Test GPU\n"), std::string::npos) << text;
  EXPECT_NE(text.find("2.00x"), std::string::npos) << text;
  EXPECT_NE(text.find("(barrier) the kernel uses barriers"), std::string::npos) << text;
  EXPECT_NE(text.find("as factor 4"), std::string::npos) << text;  // the same reason is given once
  EXPECT_NE(text.find("not measured (--budget)"), std::string::npos) << text;
  EXPECT_NE(text.find("    best factor 2 (2.00x); the predicted factor 2 was the best\n"), std::string::npos)
      << text;
  const std::string wrong = variantTable(testVariants(), {testDevice()}, {1});
  EXPECT_NE(wrong.find("the predicted factor 1 was not the best (1.00x)"), std::string::npos) << wrong;
}

TEST(CoarsenReports, VariantsJsonKeepsStatusesSpeedupsAndPrediction) {
  const nlohmann::json list = variantsJson(testVariants(), {testDevice()}, {2});
  ASSERT_EQ(list.size(), 1u);
  const nlohmann::json& device = list[0];
  EXPECT_EQ(device["device_index"], "0:1");
  EXPECT_EQ(device["best_factor"], 2);
  EXPECT_EQ(device["predicted_factor"], 2);
  EXPECT_EQ(device["predicted_best"], true);
  ASSERT_EQ(device["factors"].size(), 5u);
  EXPECT_EQ(device["factors"][1]["status"], "ok");
  EXPECT_DOUBLE_EQ(device["factors"][1]["speedup"].get<double>(), 2.0);
  EXPECT_EQ(device["factors"][1]["repetitions"], 3);
  EXPECT_EQ(device["factors"][2]["status"], "refused");
  EXPECT_EQ(device["factors"][2]["refusal"], "barrier");
  EXPECT_EQ(device["factors"][4]["status"], "skipped");
}

TEST(CoarsenReports, NoBestFactorWhenTheOriginalFailed) {
  std::vector<Variant> variants = testVariants();
  variants.front().devices.front().status = MeasureStatus::kRunFailed;
  EXPECT_NE(variantTable(variants, {testDevice()}, {}).find("best factor: none (factor 1 did not run ok)"),
            std::string::npos);
  EXPECT_TRUE(variantsJson(variants, {testDevice()}, {})[0]["best_factor"].is_null());
}

CudaProgramRun testCudaRun() {
  CudaProgramRun run;
  run.file = "prog.cu";
  run.kernel = "scale";
  run.factors = {{1, "scale", false, {}, {}}, {2, "scale_cf2", false, {}, {}},
                 {4, {}, false, "barrier", "prog.cu: barriers"}};
  run.predicted.emplace();
  run.predicted->factor = 2;
  run.result.sessionId = 7;
  for (int factor : {1, 2}) {
    TunedConfiguration measured;
    measured.configuration = {{"factor", factor}};
    measured.status = MeasureStatus::kOk;
    measured.median = factor == 1 ? 2e-3 : 1e-3;
    measured.spread = 0.0;
    measured.speedup = factor == 1 ? 1.0 : 2.0;
    run.result.results.push_back(measured);
  }
  run.result.best = 1;
  return run;
}

TEST(CoarsenReports, CudaProgramReportListsFactorsRefusalsAndBest) {
  const std::string text = textReport(testCudaRun());
  EXPECT_EQ(text.rfind("prog.cu scale: session 7, predicted factor 2\n", 0), 0u) << text;
  EXPECT_NE(text.find("factor  2  1.0000 ms (IQR 0.0000)"), std::string::npos) << text;
  EXPECT_NE(text.find("  factor  4  refused: prog.cu: barriers\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  best: factor 2, 2.000x over factor 1\n"), std::string::npos) << text;
  const nlohmann::json json = toJson(testCudaRun());
  EXPECT_EQ(json["session"], 7);
  EXPECT_EQ(json["best"], 2);
  EXPECT_EQ(json["predicted"], 2);
  EXPECT_EQ(json["results"][1]["kernel"], "scale_cf2");
  EXPECT_EQ(json["refused"][0]["reason"], "barrier");

  CudaRunReport report;
  report.programs = {testCudaRun(), testCudaRun()};
  EXPECT_EQ(textReport(report), text + text);
  EXPECT_EQ(toJson(report).size(), 2u);
}

TEST(CoarsenReports, CollectTableAndExportLines) {
  CollectReport report;
  report.devices = {testDevice()};
  report.launches = {{"saxpy", 1024, testVariants()}, {"broken", 64, {}}};
  report.ok = 3;
  report.total = 4;
  report.databasePath = "db.sqlite";
  report.sessionId = 5;
  report.platformFingerprint = "abc";
  const std::string text = textReport(report, false);
  EXPECT_NE(text.find("# device 0:1 GPU Test GPU\n"), std::string::npos) << text;
  EXPECT_NE(text.find("2 (2.00x)"), std::string::npos) << text;
  EXPECT_NE(text.find("error"), std::string::npos) << text;
  EXPECT_NE(text.find("# 3 of 4 measurements ok, recorded in db.sqlite (session 5)\n"), std::string::npos);
  EXPECT_NE(textReport(report, true).find("(session 5, platform abc)\n"), std::string::npos);

  ExportSummary summary;
  summary.plans = 12;
  summary.launches = 3;
  EXPECT_EQ(exportText("out", summary),
            "out: 12 plans for 3 kernel launches; run `sh out/run-all.sh path/to/mirtune-run` there, then "
            "`mirtune coarsen collect --ingest out`\n");
  CudaExportSummary cuda;
  cuda.folder = "gpu";
  cuda.programs = 2;
  cuda.measurements = 9;
  EXPECT_EQ(exportText(cuda).rfind("gpu: 2 programs, 9 factors in all; ", 0), 0u);
}

}  // namespace
}  // namespace mirtune::coarsen
