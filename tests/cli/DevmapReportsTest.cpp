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
  report.platforms.push_back({1, {}});
  report.platforms.back().result.score.rows = 4;
  report.platforms.back().result.score.accuracy = 0.5;
  report.platforms.back().result.score.meanSpeedup = 1.25;
  report.platforms.back().result.score.geomeanSpeedup = 1.125;
  EXPECT_EQ(textReport(report),
            "device mapping, 680 rows, features aux (IR from source), heads auto, encoder none\n"
            "nvidia  accuracy  50.00%  mean speedup 1.250  geomean 1.125  (4 rows)\n");
  nlohmann::json json = toJson(report);
  EXPECT_EQ(json["rows"], 680);
  EXPECT_FALSE(json.contains("rows_using_ll_file"));
  EXPECT_TRUE(json.contains("nvidia"));
  EXPECT_FALSE(json.contains("amd"));
}

}  // namespace
}  // namespace mirtune::devmap
