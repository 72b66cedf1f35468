// Model selection for task heads: stratified k-fold splits and choosing a candidate by inner
// cross-validation.
#pragma once

#include "support/Error.h"
#include "tasks/common/Dataset.h"
#include "tasks/common/Head.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::heads {

/// Scores one held-out fold: rowIndices index the data set given to selectByInnerCv, predictedClasses[i] is
/// the prediction for rowIndices[i]. Higher is better; a non-finite score counts as a failed candidate.
using Scorer = std::function<double(const std::vector<std::size_t>& rowIndices,
                                    const std::vector<int>& predictedClasses)>;

/// Fraction of rows whose predicted class equals labels[row] (labels indexed like the data set).
Scorer accuracyScorer(std::vector<int> labels);

/// The default candidate grid of one kind ("xgboost" or "mlp"; empty for others), sized so that the whole
/// default grid stays cheap inside every outer fold (measured fit times: tasks/common/README.md).
std::vector<Candidate> defaultCandidates(std::string_view kind);
/// defaultCandidates("xgboost") followed by defaultCandidates("mlp").
std::vector<Candidate> defaultGrid();

/// Splits rows 0..labels.size()-1 into k folds (sorted row indices per fold). Each class's rows are shuffled
/// with seed and dealt round-robin, continuing where the previous class stopped, so every class is spread
/// over the folds and fold sizes differ by at most one. Deterministic for (labels, k, seed) on every
/// platform. kInvalidInput when k < 2 or k exceeds the number of rows.
Expected<std::vector<std::vector<std::size_t>>> stratifiedKFold(const std::vector<int>& labels, int k,
                                                                unsigned seed);

/// Splits rows 0..groups.size()-1 into min(k, distinct groups) folds that never split a group (rows of one
/// program, say): the distinct groups are shuffled with seed (as stratifiedKFold shuffles) and dealt round-robin.
/// Sorted row indices per fold; kInvalidInput when k < 2 or there are fewer than 2 groups.
Expected<std::vector<std::vector<std::size_t>>> groupedKFold(const std::vector<std::size_t>& groups, int k,
                                                             unsigned seed);

/// Cross-validated result of one candidate.
struct CandidateResult {
  Candidate candidate;
  double meanScore = 0.0;          ///< mean of foldScores; -infinity when the candidate failed
  std::vector<double> foldScores;  ///< one per inner fold
  /// Wall time of its inner fits and predictions; XGBoost candidates differing only in "rounds" share one fit
  /// per fold (the most rounds; the others score a prefix of its trees) and split its time evenly.
  double seconds = 0.0;
  std::string error;  ///< why it failed (fit error or non-finite score); empty when it worked

  bool ok() const { return error.empty(); }
};

/// What selectByInnerCv chose.
struct Selection {
  std::size_t bestIndex = 0;                ///< index into the candidate list
  Candidate best;                           ///< candidates[bestIndex]
  std::vector<CandidateResult> candidates;  ///< in the order given
  std::unique_ptr<Classifier> model;        ///< best candidate fitted on every training row
  double refitSeconds = 0.0;                ///< wall time of that final fit

  /// best, per-candidate mean and fold scores, times and errors.
  nlohmann::json toJson() const;
};

/// Scores one held-out fold from class probabilities: probabilities holds rowIndices.size() x k values,
/// row-major, for the rows rowIndices names (indices into the data set given to selectByFolds). Higher is better.
using ProbabilityScorer = std::function<double(const std::vector<std::size_t>& rowIndices,
                                               const std::vector<float>& probabilities)>;

/// Cross-validates every candidate on stratified inner folds of train (folds, seed as stratifiedKFold), picks
/// the highest mean score (the earliest candidate on ties), and refits it on all of train. It sees nothing
/// but train: the caller passes only its outer training rows. An empty scorer means
/// accuracyScorer(train.labels). A candidate that fails is recorded and skipped; kInvalidInput when train is
/// invalid or no candidate works.
Expected<Selection> selectByInnerCv(const Dataset& train, const std::vector<Candidate>& candidates, int folds,
                                    unsigned seed, const Scorer& scorer = {});

/// selectByInnerCv over folds the caller chose (each a list of held-out row indices of train; e.g. grouped so
/// that the rows of one program never sit on both sides), scored from probabilities, so a task can score a
/// decision taken over several rows or classes (say, the best of several factors). Same choice and refit rules.
Expected<Selection> selectByFolds(const Dataset& train, const std::vector<Candidate>& candidates,
                                  const std::vector<std::vector<std::size_t>>& folds,
                                  const ProbabilityScorer& scorer);

}  // namespace mirtune::heads
