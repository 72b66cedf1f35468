// Deciding safely: calibration error on a hand-made example, calibrators that are monotone and repair a
// miscalibrated set, novelty percentiles, the expected-speedup decision and its fallback above the threshold,
// the policy's manifest form, and the data set's kernels (skipped without the data set).
#include "tasks/common/Calibration.h"
#include "tasks/common/Novelty.h"
#include "tasks/devmap/SafeDecision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
using devmap::Device;
using devmap::Policy;
using devmap::SafePolicy;

TEST(Calibration, ExpectedCalibrationErrorOfAHandMadeExample) {
  // Bin [0.1, 0.2): mean 0.1, half positive -> |0.1 - 0.5| = 0.4, weight 0.5. Bin [0.9, 1]: mean 0.9, all
  // positive
  // -> 0.1, weight 0.5. ECE = 0.2 + 0.05.
  EXPECT_NEAR(heads::expectedCalibrationError({0.1, 0.1, 0.9, 0.9}, {0, 1, 1, 1}), 0.25, 1e-12);
  // A probability of exactly 1 counts in the last bin; a perfectly calibrated set has no error.
  EXPECT_NEAR(heads::expectedCalibrationError({1.0, 1.0, 0.0}, {1, 1, 0}), 0.0, 1e-12);
  EXPECT_NEAR(heads::expectedCalibrationError({0.5, 0.5}, {0, 1}), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(heads::expectedCalibrationError({}, {}), 0.0);
  EXPECT_NEAR(heads::brierScore({0.1, 0.9}, {0, 0}), (0.01 + 0.81) / 2, 1e-12);
}

// An overconfident head: the true probability p, reported as sigmoid(3 logit p).
struct Miscalibrated {
  std::vector<double> reported;
  std::vector<int> labels;
  std::vector<std::size_t> groups;
};
Miscalibrated miscalibrated(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> uniform(0.02, 0.98);
  Miscalibrated set;
  for (std::size_t i = 0; i < n; ++i) {
    double p = uniform(random);
    set.labels.push_back(uniform(random) < p ? 1 : 0);
    set.reported.push_back(1 / (1 + std::exp(-3 * std::log(p / (1 - p)))));
    set.groups.push_back(i / 4);  // four rows per "kernel"
  }
  return set;
}

TEST(Calibration, PlattAndIsotonicAreMonotoneAndRepairAnOverconfidentHead) {
  const Miscalibrated train = miscalibrated(2000, 1), test = miscalibrated(2000, 2);
  const double before = heads::expectedCalibrationError(test.reported, test.labels);
  ASSERT_GT(before, 0.08);  // the set is miscalibrated
  for (heads::CalibrationKind kind : {heads::CalibrationKind::kPlatt, heads::CalibrationKind::kIsotonic}) {
    heads::Calibrator calibrator = heads::fitCalibrator(kind, train.reported, train.labels);
    EXPECT_EQ(calibrator.kind(), kind);
    double previous = -1;
    for (int i = 0; i <= 1000; ++i) {
      double value = calibrator.apply(i / 1000.0);
      EXPECT_GE(value, previous - 1e-12) << heads::calibrationKindName(kind) << " at " << i / 1000.0;
      EXPECT_GE(value, 0.0);
      EXPECT_LE(value, 1.0);
      previous = value;
    }
    const double after = heads::expectedCalibrationError(calibrator.apply(test.reported), test.labels);
    EXPECT_LT(after, before / 2) << heads::calibrationKindName(kind) << ": " << before << " -> " << after;
    // The manifest form gives the same map back.
    auto reread = heads::Calibrator::fromJson(calibrator.toJson());
    ASSERT_TRUE(reread) << reread.error().message();
    EXPECT_DOUBLE_EQ(reread->apply(0.37), calibrator.apply(0.37));
  }
  // Platt's slope undoes the factor 3 of the logit.
  EXPECT_NEAR(heads::fitPlatt(train.reported, train.labels).toJson()["slope"].get<double>(), 1.0 / 3, 0.06);

  auto choice = heads::chooseCalibrator(train.reported, train.labels, train.groups, 5, 7);
  ASSERT_TRUE(choice) << choice.error().message();
  EXPECT_NE(choice->calibrator.kind(), heads::CalibrationKind::kNone);
  ASSERT_EQ(choice->scores.size(), 3u);
  EXPECT_GT(choice->scores[0].brier, std::min(choice->scores[1].brier, choice->scores[2].brier));

  // A calibrated head keeps (close to) the identity: none or a near-identity map.
  Miscalibrated honest = miscalibrated(2000, 3);
  for (std::size_t i = 0; i < honest.reported.size(); ++i) {
    double z = std::log(honest.reported[i] / (1 - honest.reported[i])) / 3;
    honest.reported[i] = 1 / (1 + std::exp(-z));
  }
  auto kept = heads::chooseCalibrator(honest.reported, honest.labels, honest.groups, 5, 7);
  ASSERT_TRUE(kept);
  EXPECT_LT(heads::expectedCalibrationError(kept->calibrator.apply(honest.reported), honest.labels), 0.05);
}

TEST(Calibration, BadManifestFormsAreRefused) {
  EXPECT_FALSE(heads::Calibrator::fromJson({{"kind", "sigmoid"}}));
  EXPECT_FALSE(heads::Calibrator::fromJson({{"kind", "platt"}, {"slope", 1}}));
  EXPECT_FALSE(heads::Calibrator::fromJson({{"kind", "isotonic"}, {"x", {0.2, 0.1}}, {"y", {0.1, 0.2}}}));
  EXPECT_FALSE(heads::Calibrator::fromJson({{"kind", "isotonic"}, {"x", {0.1, 0.2}}, {"y", {0.3, 0.2}}}));
  EXPECT_FALSE(heads::chooseCalibrator({0.5, 0.5}, {0, 1}, {0, 0}, 5, 1));  // one group cannot be held out
}

std::vector<std::vector<float>> cloud(std::size_t n, std::size_t dimension, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<std::vector<float>> points(n, std::vector<float>(dimension));
  for (auto& point : points) {
    for (float& value : point) value = normal(random);
  }
  return points;
}

TEST(Novelty, TrainingKernelsLieInsideAndAnOutlierFarOutside) {
  const auto points = cloud(60, 16, 5);
  auto index = heads::NoveltyIndex::build(points);
  ASSERT_TRUE(index) << index.error().message();
  EXPECT_EQ(index->size(), 60u);
  ASSERT_EQ(index->referenceDistances().size(), 60u);
  double sum = 0;
  for (const auto& point : points) {
    auto percentile = index->percentile(point);
    ASSERT_TRUE(percentile);
    EXPECT_GE(*percentile, 0.0);
    EXPECT_LE(*percentile, 1.0);
    sum += *percentile;
  }
  // Each training kernel counts itself among its neighbours (distance 0): it sits low in its own reference.
  EXPECT_LT(sum / 60, 0.5);
  auto outlier = index->percentile(std::vector<float>(16, 25.0f));
  ASSERT_TRUE(outlier);
  EXPECT_DOUBLE_EQ(*outlier, 1.0);
  // A fresh draw from the same cloud is neither always novel nor never.
  std::set<bool> above;
  for (const auto& point : cloud(40, 16, 6)) above.insert(*index->percentile(point) > 0.5);
  EXPECT_EQ(above.size(), 2u);

  EXPECT_FALSE(index->percentile(std::vector<float>(3, 0.0f)));  // another dimension
  EXPECT_FALSE(heads::NoveltyIndex::build({points[0]}));
  EXPECT_FALSE(heads::NoveltyIndex::build({points[0], std::vector<float>(15, 0.0f)}));

  // Saved and read back, it answers the same; a damaged file is refused with its name.
  const fs::path folder = fs::temp_directory_path() / ("mirtune-novelty-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  auto entry = index->save(folder, "novelty.f32");
  ASSERT_TRUE(entry) << entry.error().message();
  auto loaded = heads::NoveltyIndex::load(folder, *entry);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_DOUBLE_EQ(*loaded->percentile(points[3]), *index->percentile(points[3]));
  EXPECT_EQ(loaded->referenceDistances(), index->referenceDistances());
  nlohmann::json damaged = *entry;
  damaged["sha256"] = std::string(64, '0');
  auto refused = heads::NoveltyIndex::load(folder, damaged);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("novelty.f32"), std::string::npos) << refused.error().message();
  fs::remove_all(folder);
}

SafePolicy examplePolicy() {
  SafePolicy policy;
  // Where the GPU wins it wins big (10x over the CPU), where the CPU wins the GPU loses little (0.8x): a 30%
  // chance of the GPU being faster is worth taking.
  policy.gains.gain = {{{1.0, 0.8}, {1.0, 10.0}}};
  policy.fallback = Policy::kCpu;
  policy.noveltyThreshold = 0.9;
  return policy;
}

TEST(SafeDecision, ExpectedSpeedupNotTheLikelierDevice) {
  const SafePolicy policy = examplePolicy();
  devmap::SafeAnswer answer = devmap::decideSafely(policy, Device::kCpu, 0.3, 0.1, std::nullopt);
  EXPECT_EQ(answer.device, Device::kGpu);
  EXPECT_FALSE(answer.fallback);
  EXPECT_EQ(answer.policy, Policy::kExpectedSpeedup);
  EXPECT_NEAR(answer.expectedSpeedup, 0.3 * 10 + 0.7 * 0.8, 1e-12);
  EXPECT_EQ(devmap::decideSafely(policy, Device::kCpu, 0.01, 0.1, std::nullopt).device, Device::kCpu);
}

TEST(SafeDecision, FallbackAnswersAboveTheThresholdOnly) {
  SafePolicy policy = examplePolicy();
  devmap::SafeAnswer inside = devmap::decideSafely(policy, Device::kCpu, 0.95, 0.9, std::nullopt);
  EXPECT_FALSE(inside.fallback);
  EXPECT_EQ(inside.device, Device::kGpu);
  devmap::SafeAnswer novel = devmap::decideSafely(policy, Device::kCpu, 0.95, 0.91, std::nullopt);
  EXPECT_TRUE(novel.fallback);
  EXPECT_EQ(novel.policy, Policy::kCpu);
  EXPECT_EQ(novel.device, Device::kCpu);
  EXPECT_NEAR(novel.gpuProbability, 0.95, 1e-12);  // the probability stays the head's, for the reader

  policy.fallback = Policy::kAuxHead;
  EXPECT_EQ(devmap::decideSafely(policy, Device::kCpu, 0.01, 0.99, 0.8).device, Device::kGpu);
  EXPECT_EQ(devmap::decideSafely(policy, Device::kCpu, 0.99, 0.99, 0.2).device, Device::kCpu);
  policy.noveltyThreshold = 1;  // never: no percentile lies above 1
  EXPECT_FALSE(devmap::decideSafely(policy, Device::kCpu, 0.99, 1.0, 0.2).fallback);
}

TEST(SafeDecision, PolicyManifestFormRoundTripsAndBadOnesAreRefused) {
  SafePolicy policy = examplePolicy();
  policy.calibrator = heads::Calibrator::platt(0.5, -0.2);
  auto reread = SafePolicy::fromJson(policy.toJson());
  ASSERT_TRUE(reread) << reread.error().message();
  EXPECT_EQ(reread->fallback, Policy::kCpu);
  EXPECT_DOUBLE_EQ(reread->noveltyThreshold, 0.9);
  EXPECT_DOUBLE_EQ(reread->gains.gain[1][1], 10.0);
  EXPECT_DOUBLE_EQ(reread->calibrator.apply(0.7), policy.calibrator.apply(0.7));
  nlohmann::json bad = policy.toJson();
  bad["fallback"] = "expected-speedup";
  EXPECT_FALSE(SafePolicy::fromJson(bad));
  bad = policy.toJson();
  bad["speedup_table"]["gpu_faster"]["gpu"] = -1;
  auto refused = SafePolicy::fromJson(bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("gpu_faster.gpu"), std::string::npos) << refused.error().message();
}

TEST(SafeDecision, GeometricGainsWeighLogSpeedups) {
  SafePolicy policy = examplePolicy();
  policy.gains.gain = {{{1.0, 0.25}, {1.0, 4.0}}};
  policy.gains.statistic = devmap::GainStatistic::kGeometricMean;
  // exp(0.5 ln 4 + 0.5 ln 0.25) = 1: a tie, answered by the static device.
  EXPECT_NEAR(policy.gains.expected(0.5, Device::kGpu), 1.0, 1e-12);
  EXPECT_EQ(devmap::decideSafely(policy, Device::kCpu, 0.5, 0, std::nullopt).device, Device::kCpu);
  EXPECT_EQ(devmap::decideSafely(policy, Device::kGpu, 0.5, 0, std::nullopt).device, Device::kGpu);
  EXPECT_EQ(devmap::decideSafely(policy, Device::kCpu, 0.6, 0, std::nullopt).device, Device::kGpu);
  // The arithmetic mean would already take the GPU at p = 0.2 (0.2 * 4 + 0.8 * 0.25 = 1.0 -> 0.3: 1.375).
  policy.gains.statistic = devmap::GainStatistic::kMean;
  EXPECT_EQ(devmap::decideSafely(policy, Device::kCpu, 0.3, 0, std::nullopt).device, Device::kGpu);
  auto reread = SafePolicy::fromJson([&] {
    SafePolicy geometric = policy;
    geometric.gains.statistic = devmap::GainStatistic::kGeometricMean;
    return geometric.toJson();
  }());
  ASSERT_TRUE(reread);
  EXPECT_EQ(reread->gains.statistic, devmap::GainStatistic::kGeometricMean);
}

// 30 kernels of two input sizes each on the AMD platform (static device: CPU); the GPU is 5x faster on
// kernels 0..11, 5x slower on the others.
devmap::DevmapData syntheticData() {
  devmap::DevmapData data;
  for (std::size_t k = 0; k < 30; ++k) {
    for (int size = 0; size < 2; ++size) {
      devmap::DevmapRow row;
      row.row = data.rows.size();
      row.benchmark = "suite-1-program-kernel" + std::to_string(k);
      row.runtimeCpu = 10;
      row.runtimeGpu = {k < 12 ? 2.0 : 50.0, k < 12 ? 2.0 : 50.0};
      row.oracle = {k < 12 ? Device::kGpu : Device::kCpu, k < 12 ? Device::kGpu : Device::kCpu};
      data.rows.push_back(row);
    }
  }
  return data;
}

TEST(SafeDecision, FittedPolicyKeepsAPerfectHeadAndFallsBackFromAWrongOne) {
  const devmap::DevmapData data = syntheticData();
  const devmap::KernelTable kernels = devmap::kernelTable(data, nullptr);
  devmap::PolicyEvidence evidence;
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    evidence.rows.push_back(r);
    const bool gpu = data.rows[r].oracle[0] == Device::kGpu;
    evidence.headProbability.push_back(gpu ? 0.9 : 0.1);
    evidence.auxProbability.push_back(0.2);  // the launch-only head always says CPU
    evidence.novelty.push_back(static_cast<double>(kernels.kernelOfRow[r] % 10) / 10);
  }
  auto kept = devmap::fitSafePolicy(data, 0, evidence, kernels, 5, 1);
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_TRUE(kept->diagnostics["chosen_setting_safe"].get<bool>());
  EXPECT_DOUBLE_EQ(kept->policy.noveltyThreshold, 1.0);  // a perfect head never hands over
  EXPECT_EQ(kept->diagnostics["settings"].size(), 2u * 3u * devmap::kNoveltyThresholds.size());

  // Now the head is wrong on the novel kernels (novelty 0.8 and 0.9: kernels 8, 9, 18, 19, 28, 29): the
  // fallback must take exactly those (threshold 0.7), and the head answers the others right.
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    if (evidence.novelty[r] >= 0.75) evidence.headProbability[r] = 1 - evidence.headProbability[r];
  }
  auto guarded = devmap::fitSafePolicy(data, 0, evidence, kernels, 5, 1);
  ASSERT_TRUE(guarded) << guarded.error().message();
  EXPECT_TRUE(guarded->diagnostics["chosen_setting_safe"].get<bool>());
  EXPECT_DOUBLE_EQ(guarded->policy.noveltyThreshold, 0.7);
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    devmap::SafeAnswer answer =
        devmap::decideSafely(guarded->policy, Device::kCpu, evidence.headProbability[r], evidence.novelty[r],
                             evidence.auxProbability[r]);
    EXPECT_EQ(answer.fallback, evidence.novelty[r] >= 0.75) << r;
    if (!answer.fallback) {
      EXPECT_EQ(answer.device, data.rows[r].oracle[0]) << r;
    }
  }
}

TEST(SafeDecision, DataSetKernelsGroupEveryInputSizeOfAKernel) {
  if (!fs::exists(devmap::defaultDevmapDirectory())) {
    GTEST_SKIP() << "device-mapping data set not found at " << devmap::defaultDevmapDirectory()
                 << " (set MIRTUNE_DATA to the folder holding devmap/)";
  }
  auto data = devmap::loadDevmapData(devmap::defaultDevmapDirectory());
  ASSERT_TRUE(data) << data.error().message();
  const devmap::KernelTable kernels = devmap::kernelTable(*data, nullptr);
  ASSERT_EQ(kernels.kernelOfRow.size(), 680u);
  EXPECT_GT(kernels.names.size(), 100u);
  EXPECT_LT(kernels.names.size(), 680u);  // kernels with several input sizes exist
  for (std::size_t r = 0; r < data->rows.size(); ++r) {
    EXPECT_EQ(kernels.names[kernels.kernelOfRow[r]], data->rows[r].benchmark);
  }
  // The speedup table: choosing the oracle's device gains at least as much as the other, per class.
  for (std::size_t platform = 0; platform < 2; ++platform) {
    std::vector<std::size_t> rows(680);
    for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r;
    devmap::SpeedupTable table = devmap::speedupTable(*data, platform, rows);
    EXPECT_GT(table.gain[0][0], table.gain[0][1]);
    EXPECT_GT(table.gain[1][1], table.gain[1][0]);
  }
}

}  // namespace
}  // namespace mirtune
