// Stratified folds and inner cross-validation over a candidate grid.
#include "tasks/common/ModelSelection.h"

#include "tasks/common/XgbClassifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>

namespace mirtune::heads {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Fisher-Yates with mt19937_64 and a modulo draw: std::shuffle and the std distributions are not specified
// bit-for-bit, this is, so folds are the same with every standard library.
void shuffle(std::vector<std::size_t>& values, std::mt19937_64& random) {
  for (std::size_t i = values.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(random() % i);
    std::swap(values[i - 1], values[j]);
  }
}

}  // namespace

Scorer accuracyScorer(std::vector<int> labels) {
  return
      [labels = std::move(labels)](const std::vector<std::size_t>& rows, const std::vector<int>& predicted) {
        if (rows.empty()) return 0.0;
        std::size_t correct = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) correct += predicted[i] == labels[rows[i]] ? 1 : 0;
        return static_cast<double>(correct) / static_cast<double>(rows.size());
      };
}

std::vector<Candidate> defaultCandidates(std::string_view kind) {
  std::vector<Candidate> out;
  if (kind == "xgboost") {
    for (int depth : {3, 6}) {
      for (int rounds : {100, 300}) {
        // 32 bins and half the features per tree: ~2x faster than XGBoost's 256 / all on ~600 x 260.
        out.push_back({"xgboost",
                       {{"max_depth", depth},
                        {"rounds", rounds},
                        {"eta", 0.1},
                        {"max_bin", 32},
                        {"colsample_bytree", 0.5}}});
      }
    }
  } else if (kind == "mlp") {
    for (const std::vector<int>& hidden : {std::vector<int>{64}, std::vector<int>{128, 64}}) {
      for (double decay : {1e-4, 1e-3}) {
        out.push_back({"mlp", {{"hidden", hidden}, {"weight_decay", decay}, {"epochs", 40}}});
      }
    }
  }
  return out;
}

std::vector<Candidate> defaultGrid() {
  std::vector<Candidate> grid = defaultCandidates("xgboost");
  for (Candidate& candidate : defaultCandidates("mlp")) grid.push_back(std::move(candidate));
  return grid;
}

Expected<std::vector<std::vector<std::size_t>>> stratifiedKFold(const std::vector<int>& labels, int k,
                                                                unsigned seed) {
  if (k < 2) return makeError(ErrorCode::kInvalidInput, "need at least 2 folds, got {}", k);
  if (static_cast<std::size_t>(k) > labels.size()) {
    return makeError(ErrorCode::kInvalidInput, "{} folds for {} rows: need at least one row per fold", k,
                     labels.size());
  }
  std::map<int, std::vector<std::size_t>> byClass;
  for (std::size_t r = 0; r < labels.size(); ++r) byClass[labels[r]].push_back(r);
  std::mt19937_64 random(seed);
  std::vector<std::vector<std::size_t>> folds(static_cast<std::size_t>(k));
  std::size_t next = 0;
  for (auto& [label, rows] : byClass) {
    shuffle(rows, random);
    for (std::size_t row : rows) {
      folds[next].push_back(row);
      next = (next + 1) % folds.size();
    }
  }
  for (auto& fold : folds) std::sort(fold.begin(), fold.end());
  return folds;
}

Expected<std::vector<std::vector<std::size_t>>> groupedKFold(const std::vector<std::size_t>& groups, int k,
                                                             unsigned seed) {
  if (k < 2) return makeError(ErrorCode::kInvalidInput, "need at least 2 folds, got {}", k);
  std::vector<std::size_t> distinct(groups.begin(), groups.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.size() < 2) {
    return makeError(ErrorCode::kInvalidInput, "{} group(s): need at least 2 to hold one out", distinct.size());
  }
  std::mt19937_64 random(seed);
  shuffle(distinct, random);
  std::size_t count = std::min(distinct.size(), static_cast<std::size_t>(k));
  std::map<std::size_t, std::size_t> foldOfGroup;
  for (std::size_t i = 0; i < distinct.size(); ++i) foldOfGroup[distinct[i]] = i % count;
  std::vector<std::vector<std::size_t>> folds(count);
  for (std::size_t r = 0; r < groups.size(); ++r) folds[foldOfGroup[groups[r]]].push_back(r);
  return folds;
}

nlohmann::json Selection::toJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const CandidateResult& result : candidates) {
    nlohmann::json item = {{"kind", result.candidate.kind},
                           {"params", result.candidate.params},
                           {"fold_scores", result.foldScores},
                           {"seconds", result.seconds}};
    if (result.ok()) {
      item["mean_score"] = result.meanScore;
    } else {
      item["mean_score"] = nullptr;
      item["error"] = result.error;
    }
    list.push_back(std::move(item));
  }
  return {{"best_index", bestIndex},
          {"best", {{"kind", best.kind}, {"params", best.params}}},
          {"candidates", std::move(list)},
          {"refit_seconds", refitSeconds}};
}

Expected<Selection> selectByInnerCv(const Dataset& train, const std::vector<Candidate>& candidates, int folds,
                                    unsigned seed, const Scorer& scorer) {
  if (auto valid = train.validate(); !valid) return valid.error().withContext("inner cross-validation");
  if (candidates.empty()) return makeError(ErrorCode::kInvalidInput, "inner cross-validation: no candidates");
  auto split = stratifiedKFold(train.labels, folds, seed);
  if (!split) return split.error().withContext("inner cross-validation");
  Scorer score = scorer ? scorer : accuracyScorer(train.labels);
  // The most probable class of each row (the lowest index on ties), as Classifier::predictClasses decides.
  return selectByFolds(train, candidates, *split,
                       [score](const std::vector<std::size_t>& rows, const std::vector<float>& probabilities) {
                         std::size_t k = rows.empty() ? 1 : probabilities.size() / rows.size();
                         std::vector<int> classes(rows.size());
                         for (std::size_t r = 0; r < rows.size(); ++r) {
                           const float* row = probabilities.data() + r * k;
                           classes[r] = static_cast<int>(std::max_element(row, row + k) - row);
                         }
                         return score(rows, classes);
                       });
}

Expected<Selection> selectByFolds(const Dataset& train, const std::vector<Candidate>& candidates,
                                  const std::vector<std::vector<std::size_t>>& folds,
                                  const ProbabilityScorer& scorer) {
  if (auto valid = train.validate(); !valid) return valid.error().withContext("inner cross-validation");
  if (candidates.empty()) return makeError(ErrorCode::kInvalidInput, "inner cross-validation: no candidates");
  if (!scorer) return makeError(ErrorCode::kInvalidInput, "inner cross-validation: no scorer");
  if (folds.size() < 2) {
    return makeError(ErrorCode::kInvalidInput, "inner cross-validation: need at least 2 folds, got {}", folds.size());
  }
  for (std::size_t f = 0; f < folds.size(); ++f) {
    if (folds[f].empty() || folds[f].size() >= train.size()) {
      return makeError(ErrorCode::kInvalidInput, "inner cross-validation: fold {} holds {} of {} rows", f,
                       folds[f].size(), train.size());
    }
    for (std::size_t row : folds[f]) {
      if (row >= train.size()) {
        return makeError(ErrorCode::kInvalidInput, "inner cross-validation: fold {} names row {} of {}", f, row,
                         train.size());
      }
    }
  }
  // The training part of every inner fold, built once and shared by all candidates.
  std::vector<Dataset> foldTrain;
  std::vector<Dataset> foldTest;
  for (std::size_t f = 0; f < folds.size(); ++f) {
    std::vector<std::size_t> rest;
    rest.reserve(train.size());
    std::vector<bool> held(train.size(), false);
    for (std::size_t row : folds[f]) held[row] = true;
    for (std::size_t r = 0; r < train.size(); ++r) {
      if (!held[r]) rest.push_back(r);
    }
    foldTrain.push_back(train.subset(rest));
    foldTest.push_back(train.subset(folds[f]));
  }

  // XGBoost candidates that differ only in "rounds" share one fit with the most rounds per fold; each is then
  // scored on its own prefix of the trees, which predicts exactly like a fit with fewer rounds.
  struct Group {
    Candidate fit;                     // what is trained per fold
    std::vector<std::size_t> members;  // candidate indices scored from that fit
    std::vector<int> rounds;           // per member: trees to predict with (0 = all)
  };
  std::vector<Group> groups;
  std::map<std::string, std::size_t> groupOfKey;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const Candidate& candidate = candidates[c];
    auto xgb =
        candidate.kind == "xgboost"
            ? XgbParams::fromJson(candidate.params.is_null() ? nlohmann::json::object() : candidate.params)
            : Expected<XgbParams>(makeError(ErrorCode::kUsage, "not xgboost"));
    if (!xgb) {
      groups.push_back({candidate, {c}, {0}});
      continue;
    }
    nlohmann::json shared = xgb->toJson();
    shared.erase("rounds");
    auto [found, inserted] = groupOfKey.emplace(shared.dump(), groups.size());
    if (inserted) groups.push_back({{"xgboost", xgb->toJson()}, {}, {}});
    Group& group = groups[found->second];
    group.members.push_back(c);
    group.rounds.push_back(xgb->rounds);
    group.fit.params["rounds"] = std::max(group.fit.params["rounds"].get<int>(), xgb->rounds);
  }

  Selection selection;
  selection.candidates.resize(candidates.size());
  for (std::size_t c = 0; c < candidates.size(); ++c) selection.candidates[c].candidate = candidates[c];
  for (const Group& group : groups) {
    auto start = std::chrono::steady_clock::now();
    std::string error;
    std::vector<std::vector<double>> scores(group.members.size());
    for (std::size_t f = 0; f < folds.size() && error.empty(); ++f) {
      auto classifier = makeClassifier(group.fit);
      if (!classifier) {
        error = classifier.error().message();
        break;
      }
      if (auto fitted = (*classifier)->fit(foldTrain[f]); !fitted) {
        error = fmt::format("inner fold {}: {}", f, fitted.error().message());
        break;
      }
      const Dataset& test = foldTest[f];
      for (std::size_t m = 0; m < group.members.size() && error.empty(); ++m) {
        Expected<std::vector<float>> predicted =
            group.members.size() == 1
                ? (*classifier)->predictProbabilities(test.features.values.data(), test.size(), test.features.cols)
                : static_cast<const XgbClassifier&>(**classifier)
                      .predictProbabilitiesUpTo(test.features.values.data(), test.size(), test.features.cols,
                                                group.rounds[m]);
        if (!predicted) {
          error = fmt::format("inner fold {}: {}", f, predicted.error().message());
          break;
        }
        double foldScore = std::numeric_limits<double>::quiet_NaN();
        try {
          foldScore = scorer(folds[f], *predicted);
        } catch (const std::exception& e) {
          error = fmt::format("inner fold {}: scorer failed: {}", f, e.what());
          break;
        }
        if (!std::isfinite(foldScore)) {
          error = fmt::format("inner fold {}: scorer returned {}", f, foldScore);
          break;
        }
        scores[m].push_back(foldScore);
      }
    }
    double seconds = secondsSince(start) / static_cast<double>(group.members.size());
    for (std::size_t m = 0; m < group.members.size(); ++m) {
      CandidateResult& result = selection.candidates[group.members[m]];
      result.seconds = seconds;
      result.error = error;
      result.foldScores = scores[m];
      if (!error.empty()) {
        result.meanScore = -std::numeric_limits<double>::infinity();
        continue;
      }
      double sum = 0.0;
      for (double value : result.foldScores) sum += value;
      result.meanScore = sum / static_cast<double>(result.foldScores.size());
    }
  }
  bool found = false;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const CandidateResult& result = selection.candidates[c];
    if (result.ok() && (!found || result.meanScore > selection.candidates[selection.bestIndex].meanScore)) {
      selection.bestIndex = c;
      found = true;
    }
  }
  if (!found) {
    return makeError(ErrorCode::kInvalidInput, "inner cross-validation: all {} candidates failed; first: {}",
                     candidates.size(), selection.candidates.front().error);
  }
  selection.best = candidates[selection.bestIndex];
  auto start = std::chrono::steady_clock::now();
  auto model = makeClassifier(selection.best);
  if (!model) return model.error();
  if (auto fitted = (*model)->fit(train); !fitted)
    return fitted.error().withContext("refit of the best candidate");
  selection.refitSeconds = secondsSince(start);
  selection.model = std::move(*model);
  return selection;
}

}  // namespace mirtune::heads
