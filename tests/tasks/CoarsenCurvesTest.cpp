// Curve heads for thread coarsening: prior, nearest neighbours, regression and per-factor heads on a small
// synthetic data set whose answer is known, their folders, inner cross-validation, and on the real data set
// the prior's leave-one-kernel-out figure and that a held-out kernel's runtimes never reach its own
// prediction.
#include "common/TemporaryFolder.h"
#include "tasks/coarsen/CoarsenCurves.h"
#include "tasks/coarsen/KernelEmbeddings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

namespace mirtune::coarsen {
namespace {

// Runtimes at factors 1..32 on every platform: speedup 1, 1.5, 2, 3, 2, (not measured) for "likes", and
// 1, 0.5, 0.25, ... for "hates" (coarsening only hurts).
CoarsenKernel syntheticKernel(const std::string& name, bool likes) {
  CoarsenKernel kernel;
  kernel.name = name;
  kernel.irFileSha256 = name;
  const double likesSpeedup[] = {1, 1.5, 2, 3, 2};
  for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
    kernel.runtime[p].fill(std::numeric_limits<double>::quiet_NaN());
    for (std::size_t f = 0; f < 5; ++f)
      kernel.runtime[p][f] = 100.0 / (likes ? likesSpeedup[f] : std::pow(0.5, f));
    kernel.oracleFactor[p] = likes ? 8 : 1;
  }
  return kernel;
}

// Eight kernels, alternately liking and hating coarsening; three inputs tell them apart, a fourth is noise
// and a fifth is constant.
struct Synthetic {
  CoarsenData data;
  std::vector<std::vector<float>> features;
  std::vector<std::size_t> group;
  Synthetic() {
    for (std::size_t k = 0; k < 8; ++k) {
      bool likes = k % 2 == 0;
      data.kernels.push_back(syntheticKernel("k" + std::to_string(k), likes));
      float sign = likes ? 1.0f : -1.0f;
      float noise = 0.1f * static_cast<float>((k * 5) % 7);
      features.push_back({sign, 2 * sign, sign + 1, noise, 0.5f});
      group.push_back(k);
    }
  }
  std::vector<std::size_t> all() const {
    std::vector<std::size_t> kernels(data.kernels.size());
    std::iota(kernels.begin(), kernels.end(), 0);
    return kernels;
  }
};

CurveCandidate candidate(const std::string& kind, nlohmann::json params = nlohmann::json::object()) {
  auto parsed = parseCurveCandidate({kind, std::move(params)});
  EXPECT_TRUE(parsed) << parsed.error().message();
  return *parsed;
}

TEST(CoarsenCurves, SpeedupCurvesClipAsTheMetricDoes) {
  CoarsenKernel likes = syntheticKernel("a", true);
  FactorCurve curve = speedupCurve(likes, 2);
  EXPECT_DOUBLE_EQ(curve[0], 1.0);
  EXPECT_DOUBLE_EQ(curve[3], 3.0);
  EXPECT_DOUBLE_EQ(curve[5], curve[4]);  // 32 was not measured: it counts as 16
}

TEST(CoarsenCurves, ThePriorIsTheMeanTrainingCurve) {
  Synthetic s;
  // Three kernels that like coarsening and one that hates it: mean speedup at 8 is (3 * 3 + 0.125) / 4.
  auto prior = fitCurveModel(candidate("prior"), s.data, s.features, {0, 2, 4, 1}, 1);
  ASSERT_TRUE(prior) << prior.error().message();
  auto scores = (*prior)->scores(s.features[1], 0);
  ASSERT_TRUE(scores);
  EXPECT_NEAR((*scores)[3], (3 * 3 + 0.125) / 4, 1e-12);
  auto choice = (*prior)->choose(s.features[1], 0);  // the prior ignores the kernel: 8 even for a "hates" one
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->factor, 8);
  EXPECT_DOUBLE_EQ(choice->probability, 0.75);  // 8 is near-best for three of the four training kernels
}

TEST(CoarsenCurves, NeighboursRegressionAndHeadsLearnTheSplit) {
  Synthetic s;
  std::vector<std::size_t> train = {0, 1, 2, 3, 4, 5};  // k6 (likes) and k7 (hates) are new
  std::vector<CurveCandidate> candidates = {
      candidate("knn", {{"k", 1}}), candidate("knn", {{"k", 3}, {"pca", 2}}),
      candidate("regression", {{"rounds", 60}, {"max_depth", 2}, {"min_child_weight", 0}}),
      candidate("factor-head", {{"kind", "xgboost"},
                                {"params", {{"rounds", 30}, {"max_depth", 2}, {"min_child_weight", 0}}}})};
  TemporaryFolder folder("mirtune-coarsen-curves", "learn");
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    auto model = fitCurveModel(candidates[c], s.data, s.features, train, 1);
    ASSERT_TRUE(model) << model.error().message();
    std::optional<CurveMethod> method = candidates[c].method;
    auto loaded = loadCurveModel(folder.path() / std::to_string(c), *method, 5);
    EXPECT_FALSE(loaded);  // nothing saved there yet
    ASSERT_TRUE((*model)->save(folder.path() / std::to_string(c)));
    loaded = loadCurveModel(folder.path() / std::to_string(c), *method, 5);
    ASSERT_TRUE(loaded) << loaded.error().message();
    for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
      auto likes = (*model)->choose(s.features[6], p);
      auto hates = (*model)->choose(s.features[7], p);
      ASSERT_TRUE(likes && hates);
      EXPECT_EQ(likes->factor, 8) << candidates[c].asCandidate().kind << " " << candidates[c].params.dump();
      EXPECT_EQ(hates->factor, 1) << candidates[c].asCandidate().kind << " " << candidates[c].params.dump();
      EXPECT_GT(likes->probability, 0.0);
      EXPECT_LE(likes->probability, 1.0);
      auto again = (*loaded)->choose(s.features[6], p);
      ASSERT_TRUE(again);
      EXPECT_EQ(again->factor, likes->factor);
      EXPECT_DOUBLE_EQ(again->probability, likes->probability);
    }
    // Another input width is refused.
    EXPECT_FALSE(loadCurveModel(folder.path() / std::to_string(c), *method, 6));
  }
}

TEST(CoarsenCurves, InnerCrossValidationPrefersWhatGeneralises) {
  Synthetic s;
  // Half the kernels hate coarsening: the prior loses on them, a nearest neighbour does not.
  auto trained = selectCurveModel({candidate("prior"), candidate("knn", {{"k", 1}})}, s.data, s.features,
                                  s.group, s.all(), 4, 3);
  ASSERT_TRUE(trained) << trained.error().message();
  ASSERT_EQ(trained->candidateSpeedups.size(), 2u);
  EXPECT_EQ(trained->candidate.method, CurveMethod::kNeighbours);
  EXPECT_GT(trained->candidateSpeedups[1], trained->candidateSpeedups[0]);
  EXPECT_NEAR(trained->innerSpeedup, 2.0, 1e-12);  // (3 + 1) / 2: every pick right
  // With features that say nothing (all equal), neighbours are no better than the prior; ties keep the prior.
  std::vector<std::vector<float>> blank(s.features.size(), std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, 0.5f});
  auto blind = selectCurveModel({candidate("prior"), candidate("knn", {{"k", 0}})}, s.data, blank, s.group,
                                s.all(), 4, 3);
  ASSERT_TRUE(blind) << blind.error().message();
  EXPECT_EQ(blind->candidate.method, CurveMethod::kPrior);
}

TEST(CoarsenCurves, CandidatesAreCheckedByName) {
  EXPECT_TRUE(parseCurveCandidate({"knn", {{"k", 3}, {"prior_weight", 0.5}, {"pca", 4}}}));
  auto unknownMethod = parseCurveCandidate({"svm", {}});
  ASSERT_FALSE(unknownMethod);
  EXPECT_NE(unknownMethod.error().message().find("svm"), std::string::npos);
  auto unknownKey = parseCurveCandidate({"knn", {{"neighbours", 3}}});
  ASSERT_FALSE(unknownKey);
  EXPECT_NE(unknownKey.error().message().find("neighbours"), std::string::npos)
      << unknownKey.error().message();
  EXPECT_FALSE(parseCurveCandidate({"knn", {{"prior_weight", 1.5}}}));
  EXPECT_FALSE(parseCurveCandidate({"regression", {{"max_depth", 0}}}));
  EXPECT_FALSE(parseCurveCandidate({"prior", {{"k", 1}}}));
  EXPECT_FALSE(parseCurveCandidate({"factor-head", {{"kind", "forest"}}}));
  // "auto" lists every method, the prior first (it wins ties).
  std::vector<CurveCandidate> all = defaultCurveCandidates("auto");
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().method, CurveMethod::kPrior);
  for (CurveMethod method : {CurveMethod::kNeighbours, CurveMethod::kRegression, CurveMethod::kHead}) {
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.method == method; }));
  }
  EXPECT_TRUE(defaultCurveCandidates("nope").empty());
}

// The real data set from here on.
std::optional<CoarsenData> realData() {
  if (!std::filesystem::exists(defaultCoarsenDirectory())) return std::nullopt;
  auto loaded = loadCoarsenData(defaultCoarsenDirectory());
  EXPECT_TRUE(loaded) << loaded.error().message();
  return loaded ? std::optional<CoarsenData>(std::move(*loaded)) : std::nullopt;
}

TEST(CoarsenCurves, ThePriorUnderLeaveOneKernelOutMatchesTheHandFigure) {
  auto data = realData();
  if (!data) GTEST_SKIP() << "thread-coarsening data set not found at " << defaultCoarsenDirectory();
  std::vector<std::size_t> group = programGroups(*data, {});
  std::vector<std::vector<float>> none(data->kernels.size(), std::vector<float>{0.0f});
  auto result = crossValidateCurves({candidate("prior")}, *data, none, group, {0, 1, 2, 3}, 4, 204, 2);
  ASSERT_TRUE(result) << result.error().message();
  // Per GPU, the factor with the best mean speedup over the training kernels: 1.132 (computed by hand as
  // well).
  EXPECT_NEAR(result->meanSpeedup, 1.132, 5e-4);
  EXPECT_NEAR(result->oracleMeanSpeedup, 1.356, 5e-4);
  ASSERT_EQ(result->folds.size(), 17u);
}

TEST(CoarsenCurves, AHeldOutKernelsRuntimesNeverReachItsPrediction) {
  auto data = realData();
  if (!data) GTEST_SKIP() << "thread-coarsening data set not found at " << defaultCoarsenDirectory();
  std::vector<std::size_t> group = programGroups(*data, {});
  auto magni = loadMagniFeatures(*data);
  ASSERT_TRUE(magni) << magni.error().message();
  ASSERT_EQ((*magni)[0].size(), 7u);
  std::vector<CurveCandidate> candidates = {candidate("prior"), candidate("knn", {{"k", 1}}),
                                            candidate("knn", {{"k", 3}, {"prior_weight", 0.5}, {"pca", 4}})};
  auto before = crossValidateCurves(candidates, *data, *magni, group, {0, 1, 2, 3}, 4, 204, 2);
  ASSERT_TRUE(before) << before.error().message();
  // Make sgemm's worst factor its best everywhere: its own predictions must not move (other folds may).
  CoarsenData changed = *data;
  std::size_t sgemm = *data->kernelIndex("sgemm");
  for (auto& runtimes : changed.kernels[sgemm].runtime) runtimes[1] = runtimes[0] * 1e-3;
  auto after = crossValidateCurves(candidates, changed, *magni, group, {0, 1, 2, 3}, 4, 204, 2);
  ASSERT_TRUE(after) << after.error().message();
  for (std::size_t p = 0; p < 4; ++p) {
    EXPECT_EQ(after->predicted[p][sgemm], before->predicted[p][sgemm]) << kPlatforms[p].name;
  }
  EXPECT_EQ(after->folds[sgemm].candidate.kind, before->folds[sgemm].candidate.kind);
  EXPECT_EQ(after->folds[sgemm].innerSpeedup, before->folds[sgemm].innerSpeedup);
  // The change does reach the folds that train on sgemm.
  bool otherFoldMoved = false;
  for (std::size_t k = 0; k < data->kernels.size(); ++k) {
    if (k != sgemm && after->folds[k].innerSpeedup != before->folds[k].innerSpeedup) otherFoldMoved = true;
  }
  EXPECT_TRUE(otherFoldMoved);
}

}  // namespace
}  // namespace mirtune::coarsen
