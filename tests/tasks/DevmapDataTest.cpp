// The device-mapping data set adapter and the metric code, checked against the published per-row predictions.
#include "support/Csv.h"
#include "common/DevmapTestData.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

namespace mirtune::devmap {
namespace {

TEST(DevmapData, LoadsBothPlatformsWithFoldsAndSubsets) {
  REQUIRE_DEVMAP();
  ASSERT_EQ(data->rows.size(), 680u);
  std::array<std::size_t, 2> gpuRows{};
  std::array<std::array<std::size_t, 10>, 2> foldSizes{};
  std::size_t in669 = 0;
  for (const DevmapRow& row : data->rows) {
    for (std::size_t p = 0; p < 2; ++p) {
      gpuRows[p] += row.oracle[p] == Device::kGpu ? 1 : 0;
      ++foldSizes[p][row.fold[p]];
      // The oracle is the faster device.
      EXPECT_EQ(row.oracle[p] == Device::kGpu, row.runtimeGpu[p] < row.runtimeCpu) << row.benchmark;
    }
    EXPECT_FALSE(row.irFile.empty());
    EXPECT_FALSE(row.source.empty());
    in669 += row.in669 ? 1 : 0;
  }
  EXPECT_EQ(gpuRows[0], 280u);  // README: AMD 400 CPU / 280 GPU
  EXPECT_EQ(gpuRows[1], 387u);  // NVIDIA 293 CPU / 387 GPU
  EXPECT_EQ(in669, 669u);
  // Stratified folds of 680 rows: 68 each, give or take a row per class.
  for (const auto& sizes : foldSizes) {
    for (std::size_t size : sizes) EXPECT_TRUE(size >= 66u && size <= 70u) << size;
  }
  auto subset = rowSet(*data, "669");
  ASSERT_TRUE(subset);
  EXPECT_EQ(subset->size(), 669u);
  EXPECT_FALSE(rowSet(*data, "700"));
}

TEST(DevmapData, OracleGivesThePublishedOracleSpeedups) {
  REQUIRE_DEVMAP();
  auto all = rowSet(*data, "680");
  for (std::size_t p = 0; p < 2; ++p) {
    std::vector<Device> oracle, staticMapping;
    for (std::size_t r : *all) {
      oracle.push_back(data->rows[r].oracle[p]);
      staticMapping.push_back(kPlatforms[p].staticDevice);
    }
    Score best = scoreMapping(*data, p, *all, oracle);
    EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
    EXPECT_NEAR(best.meanSpeedup, p == 0 ? 3.642 : 1.526, 5e-4);
    EXPECT_NEAR(best.geomeanSpeedup, p == 0 ? 1.670 : 1.338, 5e-4);
    Score fixed = scoreMapping(*data, p, *all, staticMapping);
    EXPECT_DOUBLE_EQ(fixed.meanSpeedup, 1.0);
  }
}

// PACT'17's cached predictions, scored by our metric code from the predicted device and the data set's
// runtimes, must give the published numbers (DeepTune paper, Table; to 4 decimals of a percent / speedup).
TEST(DevmapMetrics, ReproducesPublishedStaticGreweAndDeepTune) {
  REQUIRE_DEVMAP();
  auto table = CsvTable::read(data->directory / "baselines" / "pact17_cached_predictions.csv");
  ASSERT_TRUE(table) << table.error().message();
  std::size_t platformColumn = *table->requireColumn("platform"), modelColumn = *table->requireColumn("model"),
              rowColumn = *table->requireColumn("row"), foldColumn = *table->requireColumn("fold"),
              predictedColumn = *table->requireColumn("predicted");
  std::map<std::pair<std::string, std::string>, std::pair<std::vector<std::size_t>, std::vector<Device>>> byModel;
  for (std::size_t r = 0; r < table->rows(); ++r) {
    const auto& record = table->record(r);
    std::size_t row = static_cast<std::size_t>(*table->integer(r, rowColumn));
    std::size_t platform = *platformIndex(record[platformColumn]);
    // The cached fold of every row is the fold our split file gives it.
    ASSERT_EQ(*table->integer(r, foldColumn), data->rows[row].fold[platform]) << "line " << table->lineOf(r);
    auto& [rows, predicted] = byModel[{record[platformColumn], record[modelColumn]}];
    rows.push_back(row);
    predicted.push_back(*parseDevice(record[predictedColumn]));
  }
  struct Published {
    const char* platform;
    const char* model;
    double accuracyPercent;
    double speedup;
    double tolerance;
  };
  const Published published[] = {
      {"amd", "static", 58.823529, 1.0, 5e-5},       {"nvidia", "static", 56.911765, 1.0, 5e-5},
      {"amd", "grewe", 73.382353, 2.905822, 5e-5},   {"nvidia", "grewe", 72.941176, 1.264801, 5e-5},
      {"amd", "deeptune", 83.676471, 3.335612, 5e-5}, {"nvidia", "deeptune", 80.294118, 1.412222, 5e-5},
      // Two decimals published for the ablation without auxiliary inputs.
      {"amd", "deeptune-no-aux", 66.03, 3.044, 5e-3}, {"nvidia", "deeptune-no-aux", 78.09, 1.387, 5e-3},
  };
  for (const Published& expected : published) {
    SCOPED_TRACE(std::string(expected.platform) + " " + expected.model);
    auto found = byModel.find({expected.platform, expected.model});
    ASSERT_NE(found, byModel.end());
    const auto& [rows, predicted] = found->second;
    ASSERT_EQ(rows.size(), 680u);
    Score score = scoreMapping(*data, *platformIndex(expected.platform), rows, predicted);
    EXPECT_NEAR(score.accuracy * 100, expected.accuracyPercent, expected.tolerance);
    EXPECT_NEAR(score.meanSpeedup, expected.speedup, expected.tolerance);
  }
}

// IR2Vec's re-runs of the prior art (no row index, per-row speedups given): the README's numbers for NCC and
// the others, through scoreRows.
TEST(DevmapMetrics, ReproducesIr2VecPriorArtReRuns) {
  REQUIRE_DEVMAP();
  struct Expected {
    const char* file;
    double amdAccuracy, nvidiaAccuracy, amdSpeedup, nvidiaSpeedup;
  };
  const Expected expected[] = {
      {"ir2vec_prior_art_static_dm.csv", 58.82, 56.91, 1.0, 1.0},
      {"ir2vec_prior_art_grewe_dm.csv", 70.29, 74.56, 2.641, 1.281},
      {"ir2vec_prior_art_deeptune_dm.csv", 83.24, 80.88, 3.397, 1.423},
      {"ir2vec_prior_art_ncc_fix_dm.csv", 82.35, 82.65, 3.417, 1.413},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.file);
    auto table = CsvTable::read(data->directory / "baselines" / e.file);
    ASSERT_TRUE(table) << table.error().message();
    std::size_t platformColumn = *table->requireColumn("Platform"), correctColumn = *table->requireColumn("Correct?"),
                speedupColumn = *table->requireColumn("Speedup");
    std::map<std::string, std::pair<std::vector<bool>, std::vector<double>>> byPlatform;
    for (std::size_t r = 0; r < table->rows(); ++r) {
      auto& [correct, speedups] = byPlatform[table->record(r)[platformColumn]];
      correct.push_back(table->record(r)[correctColumn] == "True");
      speedups.push_back(*table->number(r, speedupColumn));
    }
    Score amd = scoreRows(byPlatform["AMD Tahiti 7970"].first, byPlatform["AMD Tahiti 7970"].second);
    Score nvidia = scoreRows(byPlatform["NVIDIA GTX 970"].first, byPlatform["NVIDIA GTX 970"].second);
    EXPECT_EQ(amd.rows, 680u);
    EXPECT_EQ(nvidia.rows, 680u);
    EXPECT_NEAR(amd.accuracy * 100, e.amdAccuracy, 5e-3);
    EXPECT_NEAR(nvidia.accuracy * 100, e.nvidiaAccuracy, 5e-3);
    EXPECT_NEAR(amd.meanSpeedup, e.amdSpeedup, 5e-4);
    EXPECT_NEAR(nvidia.meanSpeedup, e.nvidiaSpeedup, 5e-4);
  }
}

TEST(DevmapData, MissingFolderSaysWhereTheDataComesFrom) {
  auto loaded = loadDevmapData("/nonexistent/devmap");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("MIRTUNE_DATA"), std::string::npos);
}

TEST(Csv, QuotedFieldsWithLineBreaksAndErrorsWithLines) {
  auto table = CsvTable::parse("a,b\n1,\"x,\n\"\"y\"\"\"\n2,z\n", "t.csv");
  ASSERT_TRUE(table) << table.error().message();
  ASSERT_EQ(table->rows(), 2u);
  EXPECT_EQ(table->record(0)[1], "x,\n\"y\"");
  EXPECT_EQ(table->lineOf(1), 4u);
  auto bad = CsvTable::parse("a,b\n1,2\n3\n", "t.csv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("t.csv:3"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(CsvTable::parse("a\n\"open\n", "t.csv"));
  EXPECT_EQ(csvField("p,q"), "\"p,q\"");
}

}  // namespace
}  // namespace mirtune::devmap
