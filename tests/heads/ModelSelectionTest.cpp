// Stratified folds and selection by inner cross-validation.
#include "HeadsTestUtil.h"
#include "tasks/common/ModelSelection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace mirtune::heads {
namespace {

using testing::accuracy;

std::vector<int> imbalancedLabels() {
  std::vector<int> labels;
  for (int i = 0; i < 103; ++i) labels.push_back(i % 10 < 7 ? 0 : (i % 10 < 9 ? 1 : 2));  // 70% / 20% / 10%
  return labels;
}

TEST(StratifiedKFold, PartitionsRowsAndKeepsClassRatios) {
  std::vector<int> labels = imbalancedLabels();
  auto folds = stratifiedKFold(labels, 5, 42);
  ASSERT_TRUE(folds.ok()) << folds.error().message();
  ASSERT_EQ(folds->size(), 5u);
  std::vector<int> seen(labels.size(), 0);
  std::size_t smallest = labels.size(), largest = 0;
  std::map<int, std::size_t> total;
  for (int label : labels) ++total[label];
  for (const auto& fold : *folds) {
    smallest = std::min(smallest, fold.size());
    largest = std::max(largest, fold.size());
    EXPECT_TRUE(std::is_sorted(fold.begin(), fold.end()));
    std::map<int, std::size_t> count;
    for (std::size_t row : fold) {
      ++seen[row];
      ++count[labels[row]];
    }
    for (const auto& [label, n] : total) {
      double expected = static_cast<double>(n) / 5.0;
      EXPECT_LE(std::abs(static_cast<double>(count[label]) - expected), 1.0) << "class " << label;
    }
  }
  for (std::size_t r = 0; r < labels.size(); ++r) EXPECT_EQ(seen[r], 1) << "row " << r;
  EXPECT_LE(largest - smallest, 1u);
}

TEST(StratifiedKFold, DeterministicPerSeed) {
  std::vector<int> labels = imbalancedLabels();
  auto a = stratifiedKFold(labels, 4, 1);
  auto b = stratifiedKFold(labels, 4, 1);
  auto c = stratifiedKFold(labels, 4, 2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(StratifiedKFold, RejectsImpossibleFoldCounts) {
  EXPECT_FALSE(stratifiedKFold({0, 1, 0}, 1, 0).ok());
  EXPECT_FALSE(stratifiedKFold({0, 1, 0}, 4, 0).ok());
  EXPECT_TRUE(stratifiedKFold({0, 1, 0}, 3, 0).ok());
}

// A good model and a useless one (a single tiny step): accuracy must pick the first, "1 - accuracy" the
// second.
std::vector<Candidate> goodAndUseless() {
  return {{"xgboost", {{"rounds", 30}, {"max_depth", 3}, {"eta", 0.3}}},
          {"mlp", {{"hidden", {4}}, {"epochs", 1}, {"learning_rate", 1e-6}, {"seed", 5}}}};
}

TEST(SelectByInnerCv, DefaultAccuracyPicksTheGoodModelAndRefitsIt) {
  Dataset train = testing::separableBinary(240, 10, 21);
  Dataset test = testing::separableBinary(200, 10, 22);
  auto selection = selectByInnerCv(train, goodAndUseless(), 4, 7);
  ASSERT_TRUE(selection.ok()) << selection.error().message();
  EXPECT_EQ(selection->bestIndex, 0u);
  EXPECT_EQ(selection->best.kind, "xgboost");
  ASSERT_EQ(selection->candidates.size(), 2u);
  EXPECT_EQ(selection->candidates[0].foldScores.size(), 4u);
  EXPECT_GT(selection->candidates[0].meanScore, 0.85);
  EXPECT_LT(selection->candidates[1].meanScore, selection->candidates[0].meanScore);
  ASSERT_NE(selection->model, nullptr);
  auto predicted =
      selection->model->predictClasses(test.features.values.data(), test.size(), test.features.cols);
  ASSERT_TRUE(predicted.ok());
  EXPECT_GT(accuracy(*predicted, test.labels), 0.85);
  nlohmann::json json = selection->toJson();
  EXPECT_EQ(json["best_index"], 0);
  EXPECT_EQ(json["candidates"].size(), 2u);
}

TEST(SelectByInnerCv, CustomScorerDecides) {
  Dataset train = testing::separableBinary(240, 10, 23);
  Scorer inverse = [&](const std::vector<std::size_t>& rows, const std::vector<int>& predicted) {
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) wrong += predicted[i] != train.labels[rows[i]] ? 1 : 0;
    return static_cast<double>(wrong) / static_cast<double>(rows.size());
  };
  auto selection = selectByInnerCv(train, goodAndUseless(), 4, 7, inverse);
  ASSERT_TRUE(selection.ok()) << selection.error().message();
  EXPECT_EQ(selection->bestIndex, 1u);
  EXPECT_EQ(selection->model->kind(), "mlp");
}

TEST(SelectByInnerCv, SeesOnlyTheTrainingRowsItIsGiven) {
  // The outer split: rows of fold 0 are held out and never passed in; their labels are flipped so that a
  // model which saw them would be worse, and the scorer checks every index it is shown.
  Dataset all = testing::separableBinary(300, 8, 24);
  auto outer = stratifiedKFold(all.labels, 5, 3);
  ASSERT_TRUE(outer.ok());
  std::set<std::size_t> heldOut((*outer)[0].begin(), (*outer)[0].end());
  std::vector<std::size_t> trainRows;
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (!heldOut.count(r)) trainRows.push_back(r);
  }
  Dataset train = all.subset(trainRows);
  std::vector<std::vector<std::size_t>> shown;
  bool outOfRange = false;
  Scorer recording = [&](const std::vector<std::size_t>& rows, const std::vector<int>& predicted) {
    shown.push_back(rows);
    for (std::size_t row : rows) outOfRange = outOfRange || row >= train.size();
    EXPECT_EQ(rows.size(), predicted.size());
    return accuracy(predicted, train.subset(rows).labels);
  };
  std::vector<Candidate> candidates = goodAndUseless();
  auto selection = selectByInnerCv(train, candidates, 3, 9, recording);
  ASSERT_TRUE(selection.ok()) << selection.error().message();
  EXPECT_FALSE(outOfRange);
  ASSERT_EQ(shown.size(), 3u * candidates.size());
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    std::vector<int> seen(train.size(), 0);
    for (std::size_t f = 0; f < 3; ++f) {
      for (std::size_t row : shown[c * 3 + f]) ++seen[row];
    }
    for (std::size_t r = 0; r < train.size(); ++r) EXPECT_EQ(seen[r], 1) << "candidate " << c << " row " << r;
  }
  Dataset test = all.subset((*outer)[0]);
  auto predicted =
      selection->model->predictClasses(test.features.values.data(), test.size(), test.features.cols);
  ASSERT_TRUE(predicted.ok());
  EXPECT_GT(accuracy(*predicted, test.labels), 0.85);
}

TEST(SelectByInnerCv, FailingCandidatesAreRecordedAndSkipped) {
  Dataset train = testing::separableBinary(120, 6, 25);
  std::vector<Candidate> candidates = {{"xgboost", {{"depth", 3}}}, {"xgboost", {{"rounds", 20}}}};
  auto selection = selectByInnerCv(train, candidates, 3, 1);
  ASSERT_TRUE(selection.ok()) << selection.error().message();
  EXPECT_EQ(selection->bestIndex, 1u);
  EXPECT_FALSE(selection->candidates[0].ok());
  EXPECT_NE(selection->candidates[0].error.find("depth"), std::string::npos);
  EXPECT_TRUE(std::isinf(selection->candidates[0].meanScore));

  auto allFail = selectByInnerCv(train, {candidates[0]}, 3, 1);
  ASSERT_FALSE(allFail.ok());
  EXPECT_NE(allFail.error().message().find("depth"), std::string::npos) << allFail.error().message();

  Scorer nan = [](const std::vector<std::size_t>&, const std::vector<int>&) { return std::nan(""); };
  EXPECT_FALSE(selectByInnerCv(train, {candidates[1]}, 3, 1, nan).ok());
}

TEST(SelectByInnerCv, DeterministicSelection) {
  Dataset train = testing::threeClusters(150, 6, 26);
  std::vector<Candidate> candidates = {{"xgboost", {{"rounds", 20}, {"max_depth", 2}}},
                                       {"mlp", {{"hidden", {16}}, {"epochs", 30}}}};
  auto a = selectByInnerCv(train, candidates, 3, 4);
  auto b = selectByInnerCv(train, candidates, 3, 4);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bestIndex, b->bestIndex);
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    EXPECT_EQ(a->candidates[c].foldScores, b->candidates[c].foldScores);
  }
}

TEST(SelectByInnerCv, SharedXgboostFitsScoreLikeSeparateFits) {
  Dataset train = testing::threeClusters(120, 6, 27);
  std::vector<Candidate> grid = {{"xgboost", {{"rounds", 8}, {"max_depth", 2}, {"subsample", 0.7}}},
                                 {"xgboost", {{"rounds", 25}, {"max_depth", 2}, {"subsample", 0.7}}}};
  // Noisy labels so that the rounds matter for the score.
  for (std::size_t r = 0; r < train.size(); r += 4) train.labels[r] = (train.labels[r] + 1) % 3;
  auto together = selectByInnerCv(train, grid, 3, 5);
  ASSERT_TRUE(together.ok()) << together.error().message();
  for (std::size_t c = 0; c < grid.size(); ++c) {
    auto alone = selectByInnerCv(train, {grid[c]}, 3, 5);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ(together->candidates[c].foldScores, alone->candidates[0].foldScores) << "candidate " << c;
  }
  EXPECT_EQ(together->model->describe()["params"]["rounds"], together->best.params["rounds"]);
}

TEST(DefaultGrid, EveryCandidateBuilds) {
  std::vector<Candidate> grid = defaultGrid();
  EXPECT_EQ(grid.size(), defaultCandidates("xgboost").size() + defaultCandidates("mlp").size());
  EXPECT_TRUE(defaultCandidates("svm").empty());
  for (const Candidate& candidate : grid) {
    auto classifier = makeClassifier(candidate);
    ASSERT_TRUE(classifier.ok()) << candidate.kind << " " << candidate.params.dump();
  }
}

TEST(DefaultGrid, EveryCandidateLearnsASeparableProblem) {
  Dataset train = testing::separableBinary(300, 30, 28);
  Dataset test = testing::separableBinary(200, 30, 29);
  for (const Candidate& candidate : defaultGrid()) {
    auto classifier = makeClassifier(candidate);
    ASSERT_TRUE(classifier.ok());
    ASSERT_TRUE((*classifier)->fit(train).ok());
    auto predicted = (*classifier)->predictClasses(test.features.values.data(), test.size(), test.features.cols);
    ASSERT_TRUE(predicted.ok());
    EXPECT_GT(accuracy(*predicted, test.labels), 0.9) << candidate.kind << " " << candidate.params.dump();
  }
}

}  // namespace
}  // namespace mirtune::heads
