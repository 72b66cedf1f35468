// The device-mapping reports of tasks/devmap/Reports.h: the batch CSV read and written, and the eval summary.
#include "tasks/devmap/Reports.h"

#include "tasks/devmap/Features.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace mirtune::devmap {
namespace {

namespace fs = std::filesystem;

fs::path writeTemporary(const std::string& name, const std::string& content) {
  fs::path path = fs::temp_directory_path() / fmt::format("mirtune-reports-{}-{}", ::getpid(), name);
  std::ofstream(path) << content;
  return path;
}

TEST(DevmapReports, ReadsQueriesWithDefaultsForEmptyCells) {
  fs::path csv = writeTemporary("ok.csv", "file,kernel,transfer,wgsize\na.cl,k,100,32\nb.cl,,,\n");
  auto queries = readKernelQueries(csv.string());
  fs::remove(csv);
  ASSERT_TRUE(queries) << queries.error().message();
  ASSERT_EQ(queries->size(), 2u);
  EXPECT_EQ((*queries)[0].kernel, "k");
  EXPECT_DOUBLE_EQ((*queries)[0].transferBytes, 100);
  EXPECT_DOUBLE_EQ((*queries)[0].wgsize, 32);
  EXPECT_EQ((*queries)[1].file, "b.cl");
  EXPECT_EQ((*queries)[1].kernel, "");
  EXPECT_DOUBLE_EQ((*queries)[1].transferBytes, kDefaultTransferBytes);
  EXPECT_DOUBLE_EQ((*queries)[1].wgsize, kDefaultWgsize);
}

TEST(DevmapReports, RefusesANegativeSizeNamingTheRow) {
  fs::path csv = writeTemporary("bad.csv", "file,wgsize\na.cl,64\nb.cl,-1\n");
  auto queries = readKernelQueries(csv.string());
  fs::remove(csv);
  ASSERT_FALSE(queries);
  EXPECT_NE(queries.error().message().find("row 2: '-1' must be a finite number >= 0"), std::string::npos)
      << queries.error().message();
}

TEST(DevmapReports, BatchCsvKeepsFailedRowsWithTheirError) {
  KernelPrediction answered;
  answered.file = "a.cl";
  answered.kernel = "k";
  answered.transferBytes = 1000;
  answered.wgsize = 64;
  answered.device = Device::kGpu;
  answered.gpuProbability = 0.75;
  KernelPrediction failed;
  failed.file = "b,c.cl";
  failed.transferBytes = 10;
  failed.wgsize = 8;
  failed.error = Error(ErrorCode::kInvalidInput, "does not compile");
  EXPECT_EQ(predictionsCsv({answered, failed}),
            "file,kernel,transfer,wgsize,device,probability,error\n"
            "a.cl,k,1000,64,GPU,0.750000,\n"
            "\"b,c.cl\",,10,8,,,does not compile\n");
  // The text and JSON forms list the answered prediction only.
  EXPECT_EQ(predictionsText({answered, failed}), "a.cl  k  GPU  probability 0.750\n");
  nlohmann::json json = predictionsJson({answered, failed}, "amd");
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["device"], "GPU");
  EXPECT_EQ(json[0]["platform"], "amd");
}

TEST(DevmapReports, EvalSummaryNamesTheChoicesAndEachPlatform) {
  EvalReport report;
  report.request.features = "aux";
  report.splits.push_back({Split::kPublished, 10, {}});
  PlatformEvaluation evaluation;
  evaluation.platform = 1;
  evaluation.result.score.rows = 4;
  evaluation.result.score.accuracy = 0.5;
  evaluation.result.score.meanSpeedup = 1.25;
  evaluation.result.score.geomeanSpeedup = 1.125;
  evaluation.result.score.oracleMeanSpeedup = 2.5;
  evaluation.result.score.oracleFraction = 0.5;
  evaluation.alwaysCpu.accuracy = 0.25;
  evaluation.alwaysCpu.meanSpeedup = 0.75;
  evaluation.alwaysCpu.oracleFraction = 0.3;
  evaluation.alwaysGpu.accuracy = 0.75;
  evaluation.alwaysGpu.meanSpeedup = 1.0;
  evaluation.alwaysGpu.oracleFraction = 0.4;
  report.splits.back().platforms.push_back(evaluation);
  // A second split beside it: the kernel split, where the learned head does worse.
  report.splits.push_back(report.splits.back());
  report.splits.back().split = Split::kSuite;
  report.splits.back().folds = 7;
  report.splits.back().platforms.back().result.score.accuracy = 0.25;
  EXPECT_EQ(
      textReport(report),
      "device mapping, 680 rows, features aux (IR from source), heads auto, encoder none\n"
      "per split: accuracy, mean speedup over the static mapping, fraction of the oracle's mean speedup\n"
      "                                    published (10 folds)     suite (7 folds)\n"
      "nvidia  aux only (learned)           50.00%  1.250  50.0%     25.00%  1.250  50.0%\n"
      "nvidia  best fixed device (GPU)      75.00%  1.000  40.0%     75.00%  1.000  40.0%\n"
      "nvidia  always CPU                   25.00%  0.750  30.0%     25.00%  0.750  30.0%\n"
      "nvidia  always GPU                   75.00%  1.000  40.0%     75.00%  1.000  40.0%\n");
  nlohmann::json json = toJson(report);
  EXPECT_EQ(json["rows"], 680);
  EXPECT_EQ(json["splits"], nlohmann::json({"published", "suite"}));
  EXPECT_FALSE(json.contains("rows_using_ll_file"));
  ASSERT_TRUE(json.contains("published"));
  EXPECT_EQ(json["suite"]["outer_folds"], 7);
  EXPECT_TRUE(json["published"].contains("nvidia"));
  EXPECT_FALSE(json["published"].contains("amd"));
  EXPECT_DOUBLE_EQ(json["published"]["nvidia"]["oracle_fraction"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(json["suite"]["nvidia"]["accuracy"].get<double>(), 0.25);
  EXPECT_EQ(json["published"]["references"]["best_fixed"]["nvidia"]["device"], "GPU");
  EXPECT_DOUBLE_EQ(json["published"]["references"]["always_cpu"]["nvidia"]["speedup"].get<double>(), 0.75);
  EXPECT_FALSE(json["published"]["references"].contains("aux"));
}

}  // namespace
}  // namespace mirtune::devmap
