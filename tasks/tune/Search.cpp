// Search strategies of `mirtune tune`: exhaustive, seeded random, a model-guided search (bootstrap ensemble
// of boosted trees, lower-confidence-bound acquisition, local moves around the incumbents, escapes from a basin
// that stops improving) and its transfer variant.
#include "tasks/tune/Search.h"

#include "support/Statistics.h"
#include "tasks/common/XgbRegressor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace mirtune::tune {

namespace {

/// splitmix64 (support/Statistics.h) as an object: a stream that is the same on every machine and standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix64(state_); }
  /// Uniform in [0, bound) for bound >= 1 (modulo; the bias is far below anything a search notices).
  std::size_t below(std::size_t bound) { return static_cast<std::size_t>(next() % bound); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

std::vector<std::size_t> seededPermutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  SplitMix64 random(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[random.below(i)]);
  return order;
}

std::vector<bool> observedMask(const std::vector<Observation>& history, std::size_t n) {
  std::vector<bool> observed(n, false);
  for (const auto& observation : history) {
    if (observation.candidate < n) observed[observation.candidate] = true;
  }
  return observed;
}

Error badHistory(std::size_t candidate, std::size_t size) {
  return makeError(ErrorCode::kInvalidInput, "an observation names candidate {} of a set of {}", candidate,
                   size);
}

Status checkHistory(const std::vector<Observation>& history, std::size_t size) {
  for (const auto& observation : history) {
    if (observation.candidate >= size) return badHistory(observation.candidate, size);
  }
  return success();
}

class ExhaustiveStrategy final : public SearchStrategy {
 public:
  explicit ExhaustiveStrategy(std::size_t size) : size_(size) {}
  StrategyKind kind() const override { return StrategyKind::kExhaustive; }
  Expected<std::vector<std::size_t>> propose(const std::vector<Observation>& history,
                                             std::size_t count) override {
    if (Status checked = checkHistory(history, size_); !checked) return checked.error();
    auto observed = observedMask(history, size_);
    std::vector<std::size_t> picked;
    for (std::size_t i = 0; i < size_ && picked.size() < count; ++i) {
      if (!observed[i]) picked.push_back(i);
    }
    return picked;
  }

 private:
  std::size_t size_;
};

class RandomStrategy final : public SearchStrategy {
 public:
  RandomStrategy(std::size_t size, std::uint64_t seed) : order_(seededPermutation(size, seed)) {}
  StrategyKind kind() const override { return StrategyKind::kRandom; }
  Expected<std::vector<std::size_t>> propose(const std::vector<Observation>& history,
                                             std::size_t count) override {
    if (Status checked = checkHistory(history, order_.size()); !checked) return checked.error();
    auto observed = observedMask(history, order_.size());
    std::vector<std::size_t> picked;
    for (std::size_t i : order_) {
      if (picked.size() >= count) break;
      if (!observed[i]) picked.push_back(i);
    }
    return picked;
  }

 private:
  std::vector<std::size_t> order_;
};

/// Each parameter's values in order (the distinct feature values of its column, sorted), so that a candidate
/// has a step index per parameter: neighbours differ in one parameter by one step.
class Geometry {
 public:
  explicit Geometry(const CandidateSet& candidates) : columns_(candidates.parameterNames.size()) {
    const std::size_t n = candidates.size();
    steps_.assign(n * columns_, 0);
    scaled_.assign(n * columns_, 0.0f);
    for (std::size_t c = 0; c < columns_; ++c) {
      std::vector<float> values;
      values.reserve(n);
      for (std::size_t i = 0; i < n; ++i) values.push_back(candidates.row(i)[c]);
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      const float span = values.size() > 1 ? static_cast<float>(values.size() - 1) : 1.0f;
      for (std::size_t i = 0; i < n; ++i) {
        auto step = std::lower_bound(values.begin(), values.end(), candidates.row(i)[c]) - values.begin();
        steps_[i * columns_ + c] = static_cast<int>(step);
        scaled_[i * columns_ + c] = static_cast<float>(step) / span;
      }
    }
    index_.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) index_.emplace(keyOf(&steps_[i * columns_]), i);
  }

  /// Candidates that differ from `i` in one parameter by one step.
  std::vector<std::size_t> neighbours(std::size_t i) const {
    std::vector<std::size_t> found;
    std::vector<int> steps(steps_.begin() + i * columns_, steps_.begin() + (i + 1) * columns_);
    for (std::size_t c = 0; c < columns_; ++c) {
      for (int delta : {-1, 1}) {
        steps[c] += delta;
        if (auto hit = index_.find(keyOf(steps.data())); hit != index_.end()) found.push_back(hit->second);
        steps[c] -= delta;
      }
    }
    return found;
  }

  /// Squared distance of two candidates with every parameter's steps scaled to [0, 1].
  float distance(std::size_t a, std::size_t b) const {
    float sum = 0;
    for (std::size_t c = 0; c < columns_; ++c) {
      float d = scaled_[a * columns_ + c] - scaled_[b * columns_ + c];
      sum += d * d;
    }
    return sum;
  }

 private:
  std::string keyOf(const int* steps) const {
    return std::string(reinterpret_cast<const char*>(steps), columns_ * sizeof(int));
  }

  std::size_t columns_;
  std::vector<int> steps_;
  std::vector<float> scaled_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// Hyper-parameters of the model-guided search. They are generic (not fitted to one space): see
/// experiments/RESULTS.md for why each was chosen.
struct ModelSettings {
  std::size_t ensemble = 8;  ///< bootstrap models giving a mean and a spread
  int rounds = 40;           ///< boosting rounds per model
  int maxDepth = 4;
  double eta = 0.3;
  double exploration = 1.0;          ///< kappa of mean - kappa * spread
  std::size_t incumbents = 3;        ///< local moves start from the best few observed
  double failurePenalty = 0.5;       ///< a failed configuration counts as the worst log time plus this
  std::size_t maxHistoryRows = 512;  ///< transfer: rows kept per earlier session
  double historyWeight = 0.5;  ///< transfer: weight of an earlier session's row against one of this session
  double minimumAgreement =
      0.2;                     ///< transfer: earlier sessions count only while their ranking agrees this much
  std::size_t localEvery = 2;  ///< every n-th model step is a local move around the incumbents
  double designFraction = 0.1;  ///< share of the budget spent on the space-filling initial design ...
  std::size_t designMin = 3;    ///< ... but at least this many points
  std::size_t designMax = 10;   ///< ... and at most this many
  /// After this many evaluations without a better time the search counts as stuck in a basin: its next global
  /// step (not a local one) goes elsewhere (screenedFarPick), and again after each further `patience` evaluations.
  std::size_t patience = 5;
  std::size_t escapeBatch = 8;   ///< an escape picks among this many space-filling candidates
  /// No escape before this many evaluations, nor in the first half of the budget: until then the search is still
  /// exploring, and an escape costs more than it finds (measured: experiments/RESULTS.md).
  std::size_t escapeAfter = 20;
};

/// One training row source for transfer: an earlier session's rows mapped onto the current parameters.
struct HistoryRows {
  std::vector<float> features;  ///< rows x columns (configuration columns then embedding)
  std::vector<float> targets;   ///< log(time / session median)
};

class ModelStrategy final : public SearchStrategy {
 public:
  ModelStrategy(const CandidateSet& candidates, const StrategyOptions& options)
      : candidates_(candidates),
        options_(options),
        geometry_(candidates),
        random_(options.seed ^ 0x5EA4C4ULL) {
    const std::size_t n = candidates.size();
    const std::size_t budget = options.budget == 0 ? 100 : options.budget;
    initialDesign_ = std::clamp<std::size_t>(
        static_cast<std::size_t>(static_cast<double>(budget) * settings_.designFraction), settings_.designMin,
        settings_.designMax);
    initialDesign_ = std::min(initialDesign_, n);
    escapeFrom_ = std::max(settings_.escapeAfter, (budget + 1) / 2);
    if (options.kind == StrategyKind::kTransfer && options.transfer != nullptr)
      prepareHistory(*options.transfer);
    columns_ = candidates.parameterNames.size() + embedding_.size();
  }

  StrategyKind kind() const override { return options_.kind; }

  Expected<std::vector<std::size_t>> propose(const std::vector<Observation>& history,
                                             std::size_t count) override {
    if (Status checked = checkHistory(history, candidates_.size()); !checked) return checked.error();
    auto observed = observedMask(history, candidates_.size());
    std::vector<std::size_t> picked;
    std::vector<Observation> extended = history;
    while (picked.size() < count) {
      auto next = proposeOne(extended, observed);
      if (!next) return next.error();
      if (!*next) break;
      picked.push_back(**next);
      observed[**next] = true;
      // Later picks of one batch must differ: the pick counts as observed, with the model's guess unknown.
      extended.push_back(Observation{**next, std::nullopt});
      pending_.insert(**next);
    }
    for (auto i : picked) pending_.erase(i);
    return picked;
  }

 private:
  void prepareHistory(const TransferData& transfer) {
    std::vector<HistoryRows> rows;
    for (const auto& session : transfer.sessions) {
      std::vector<int> column(candidates_.parameterNames.size(), -1);
      bool shared = false;
      for (std::size_t c = 0; c < column.size(); ++c) {
        for (std::size_t h = 0; h < session.parameterNames.size(); ++h) {
          if (session.parameterNames[h] == candidates_.parameterNames[c]) {
            column[c] = static_cast<int>(h);
            shared = true;
          }
        }
      }
      std::vector<std::size_t> usable;
      for (std::size_t r = 0; r < session.features.size() && r < session.times.size(); ++r) {
        if (session.times[r] > 0 && std::isfinite(session.times[r]) &&
            session.features[r].size() == session.parameterNames.size()) {
          usable.push_back(r);
        }
      }
      if (!shared || usable.size() < 2) continue;  // nothing this space can learn from
      std::vector<double> logs;
      for (auto r : usable) logs.push_back(std::log(session.times[r]));
      std::vector<double> sorted = logs;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
      const double median = sorted[sorted.size() / 2];
      // Keep the best rows (where the optimum lies) and a seeded sample of the rest.
      std::vector<std::size_t> order(usable.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (order.size() > settings_.maxHistoryRows) {
        std::sort(order.begin(), order.end(),
                  [&](std::size_t a, std::size_t b) { return logs[a] < logs[b]; });
        const std::size_t best = settings_.maxHistoryRows / 4;
        std::vector<std::size_t> rest(order.begin() + best, order.end());
        auto shuffle = seededPermutation(rest.size(), options_.seed ^ 0x7A45F3ULL);
        order.resize(best);
        for (std::size_t k = 0; k < settings_.maxHistoryRows - best; ++k) order.push_back(rest[shuffle[k]]);
      }
      HistoryRows sessionRows;
      for (auto k : order) {
        const auto& source = session.features[usable[k]];
        for (std::size_t c = 0; c < column.size(); ++c) {
          sessionRows.features.push_back(column[c] < 0 ? std::numeric_limits<float>::quiet_NaN()
                                                       : source[static_cast<std::size_t>(column[c])]);
        }
        for (std::size_t e = 0; e < transfer.embedding.size(); ++e) {
          sessionRows.features.push_back(e < session.embedding.size() ? session.embedding[e] : 0.0f);
        }
        sessionRows.targets.push_back(static_cast<float>(logs[k] - median));
      }
      rows.push_back(std::move(sessionRows));
    }
    if (rows.empty()) return;  // no shared parameters: plain model-guided search
    embedding_ = transfer.embedding;
    for (auto& sessionRows : rows) {
      historyFeatures_.insert(historyFeatures_.end(), sessionRows.features.begin(),
                              sessionRows.features.end());
      historyTargets_.insert(historyTargets_.end(), sessionRows.targets.begin(), sessionRows.targets.end());
    }
    // The earlier sessions stand in for the initial design, as long as they agree with this session's
    // results. A model of the earlier sessions alone: how well it ranks this session's results decides how
    // much they count.
    historyModel_ = std::make_unique<heads::XgbRegressor>(treeParams(0));
    heads::FeatureMatrix matrix;
    matrix.rows = historyTargets_.size();
    matrix.cols = candidates_.parameterNames.size() + embedding_.size();
    matrix.values = historyFeatures_;
    historyStatus_ = historyModel_->fit(matrix, historyTargets_);
  }

  bool hasHistory() const { return !historyTargets_.empty(); }

  heads::XgbParams treeParams(std::size_t member) const {
    heads::XgbParams params;
    params.rounds = settings_.rounds;
    params.maxDepth = settings_.maxDepth;
    params.eta = settings_.eta;
    params.minChildWeight = 1.0;
    params.lambda = 1.0;
    params.treeMethod = "exact";
    params.nthread = 1;
    params.seed = static_cast<unsigned>(member + 1);
    return params;
  }

  /// How far the earlier sessions' model ranks this session's ok results in the right order: the share of
  /// concordant pairs minus the share of discordant ones (Kendall's tau-a), clipped at 0. 1 until three
  /// results exist.
  Expected<double> historyAgreement(const std::vector<std::size_t>& okRows,
                                    const std::vector<double>& logs) const {
    if (okRows.size() < 3) return 1.0;
    std::vector<float> rows;
    for (auto i : okRows) appendFeatures(i, rows);
    auto predicted = historyModel_->predict(rows.data(), okRows.size(), columns_);
    if (!predicted) return predicted.error();
    double concordant = 0, discordant = 0;
    for (std::size_t a = 0; a < okRows.size(); ++a) {
      for (std::size_t b = a + 1; b < okRows.size(); ++b) {
        const double product = ((*predicted)[a] - (*predicted)[b]) * (logs[a] - logs[b]);
        if (product > 0) concordant += 1;
        if (product < 0) discordant += 1;
      }
    }
    const double pairs = static_cast<double>(okRows.size() * (okRows.size() - 1) / 2);
    return std::max(0.0, (concordant - discordant) / pairs);
  }

  /// A space-filling pick: among a seeded sample of unobserved candidates, the one farthest from everything
  /// observed (the first is a seeded uniform pick).
  std::optional<std::size_t> spaceFillingPick(const std::vector<Observation>& history,
                                              const std::vector<bool>& observed) {
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < observed.size(); ++i) {
      if (!observed[i]) open.push_back(i);
    }
    if (open.empty()) return std::nullopt;
    if (history.empty()) return open[random_.below(open.size())];
    const std::size_t pool = std::min<std::size_t>(open.size(), 256);
    std::size_t best = open[0];
    float bestDistance = -1;
    for (std::size_t k = 0; k < pool; ++k) {
      std::size_t i = open[random_.below(open.size())];
      float nearest = std::numeric_limits<float>::max();
      for (const auto& observation : history)
        nearest = std::min(nearest, geometry_.distance(i, observation.candidate));
      if (nearest > bestDistance) {
        bestDistance = nearest;
        best = i;
      }
    }
    return best;
  }

  /// Of a seeded sample of the open candidates, the `escapeBatch` farthest from everything observed; of those,
  /// the one with the best (lowest) score. `score` is indexed like `open`.
  std::optional<std::size_t> screenedFarPick(const std::vector<Observation>& history,
                                             const std::vector<std::size_t>& open,
                                             const std::vector<double>& score) {
    if (open.empty()) return std::nullopt;
    std::vector<std::pair<float, std::size_t>> farthest;  // (-distance to the nearest observed, index into open)
    const std::size_t pool = std::min<std::size_t>(open.size(), 256);
    for (std::size_t d = 0; d < pool; ++d) {
      const std::size_t k = random_.below(open.size());
      float nearest = std::numeric_limits<float>::max();
      for (const auto& observation : history)
        nearest = std::min(nearest, geometry_.distance(open[k], observation.candidate));
      farthest.emplace_back(-nearest, k);
    }
    std::sort(farthest.begin(), farthest.end());
    std::size_t chosen = farthest[0].second;
    for (std::size_t d = 1; d < std::min(farthest.size(), settings_.escapeBatch); ++d) {
      if (score[farthest[d].second] < score[chosen]) chosen = farthest[d].second;
    }
    return open[chosen];
  }

  /// Evaluations (failed ones included) since the best time of this session last improved; picks of the current
  /// batch that are not evaluated yet do not count.
  std::size_t evaluationsSinceImprovement(const std::vector<Observation>& history) const {
    double best = std::numeric_limits<double>::infinity();
    std::size_t since = 0;
    for (const auto& observation : history) {
      if (pending_.count(observation.candidate) != 0) continue;
      const bool ok = observation.time && *observation.time > 0 && std::isfinite(*observation.time);
      if (ok && *observation.time < best) {
        best = *observation.time;
        since = 0;
      } else {
        ++since;
      }
    }
    return since;
  }

  void appendFeatures(std::size_t candidate, std::vector<float>& out) const {
    const float* row = candidates_.row(candidate);
    out.insert(out.end(), row, row + candidates_.parameterNames.size());
    out.insert(out.end(), embedding_.begin(), embedding_.end());
  }

  Expected<std::optional<std::size_t>> proposeOne(const std::vector<Observation>& history,
                                                  const std::vector<bool>& observed) {
    // This session's results: log times (normalised by their median when earlier sessions are mixed in);
    // failures count as worse than the worst time seen.
    std::vector<std::size_t> okRows, failedRows;
    std::vector<double> logs;
    for (const auto& observation : history) {
      if (pending_.count(observation.candidate) != 0) continue;
      if (observation.time && *observation.time > 0 && std::isfinite(*observation.time)) {
        okRows.push_back(observation.candidate);
        logs.push_back(std::log(*observation.time));
      } else {
        failedRows.push_back(observation.candidate);
      }
    }
    const std::size_t stagnant = evaluationsSinceImprovement(history);
    double historyWeight = 0;
    if (hasHistory()) {
      if (!historyStatus_) return historyStatus_.error();
      auto agreement = historyAgreement(okRows, logs);
      if (!agreement) return agreement.error();
      // Earlier sessions that rank this session's results no better than chance are dropped: the search goes
      // on as the plain model-guided one, with its own initial design.
      if (*agreement >= settings_.minimumAgreement) historyWeight = settings_.historyWeight * *agreement;
    }
    if (historyWeight == 0 && (okRows.empty() || designPicks_ < initialDesign_)) {
      ++designPicks_;
      return spaceFillingPick(history, observed);
    }

    std::vector<float> features, targets;
    if (!okRows.empty()) {
      std::vector<double> sorted = logs;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
      const double shift = hasHistory() ? sorted[sorted.size() / 2] : 0.0;
      const double worst = *std::max_element(logs.begin(), logs.end());
      for (std::size_t k = 0; k < okRows.size(); ++k) {
        appendFeatures(okRows[k], features);
        targets.push_back(static_cast<float>(logs[k] - shift));
      }
      for (auto i : failedRows) {
        appendFeatures(i, features);
        targets.push_back(static_cast<float>(worst - shift + settings_.failurePenalty));
      }
    }
    const std::size_t ownRows = targets.size();
    if (historyWeight > 0) {
      features.insert(features.end(), historyFeatures_.begin(), historyFeatures_.end());
      targets.insert(targets.end(), historyTargets_.begin(), historyTargets_.end());
    }

    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < observed.size(); ++i) {
      if (!observed[i]) open.push_back(i);
    }
    if (open.empty()) return std::optional<std::size_t>();
    std::vector<float> openFeatures;
    openFeatures.reserve(open.size() * columns_);
    for (auto i : open) appendFeatures(i, openFeatures);

    // Bootstrap ensemble: each model sees a resample of the rows (as integer weights), giving a mean and
    // spread.
    const std::size_t rows = targets.size();
    std::vector<double> mean(open.size(), 0.0), square(open.size(), 0.0);
    heads::FeatureMatrix matrix;
    matrix.rows = rows;
    matrix.cols = columns_;
    matrix.values = std::move(features);
    for (std::size_t m = 0; m < settings_.ensemble; ++m) {
      std::vector<float> counts(rows, 0.0f);
      for (std::size_t k = 0; k < ownRows; ++k) counts[random_.below(ownRows)] += 1.0f;
      const std::size_t historyRows = rows - ownRows;
      for (std::size_t k = 0; k < historyRows; ++k)
        counts[ownRows + random_.below(historyRows)] += static_cast<float>(historyWeight);
      heads::XgbRegressor model(treeParams(m));
      if (Status fitted = model.fit(matrix, targets, counts); !fitted) return fitted.error();
      auto predicted = model.predict(openFeatures.data(), open.size(), columns_);
      if (!predicted) return predicted.error();
      for (std::size_t k = 0; k < open.size(); ++k) {
        mean[k] += (*predicted)[k];
        square[k] += static_cast<double>((*predicted)[k]) * (*predicted)[k];
      }
    }
    const double models = static_cast<double>(settings_.ensemble);
    std::vector<double> score(open.size());
    for (std::size_t k = 0; k < open.size(); ++k) {
      mean[k] /= models;
      double spread = std::sqrt(std::max(0.0, square[k] / models - mean[k] * mean[k]));
      // Trees predict piecewise-constant values, so many candidates tie: a tiny seeded jitter breaks ties at
      // random instead of by enumeration order (which would favour the first parameters' smallest values).
      score[k] = mean[k] - settings_.exploration * spread + 1e-9 * random_.uniform();
    }

    // Alternate global picks (the whole space by the acquisition) with local ones (the neighbours of the best
    // incumbent that has unevaluated neighbours, by the same acquisition), which refine the best region.
    ++modelSteps_;
    if (settings_.localEvery > 0 && modelSteps_ % settings_.localEvery == 0 && !okRows.empty()) {
      std::vector<std::size_t> best(okRows.size());
      std::iota(best.begin(), best.end(), std::size_t{0});
      std::sort(best.begin(), best.end(), [&](std::size_t a, std::size_t b) { return logs[a] < logs[b]; });
      std::unordered_map<std::size_t, std::size_t> position;
      for (std::size_t k = 0; k < open.size(); ++k) position.emplace(open[k], k);
      std::optional<std::size_t> local;
      for (std::size_t rank = 0; rank < std::min(settings_.incumbents, best.size()); ++rank) {
        for (auto neighbour : geometry_.neighbours(okRows[best[rank]])) {
          auto found = position.find(neighbour);
          if (found == position.end()) continue;
          if (!local || score[found->second] < score[*local]) local = found->second;
        }
        if (local) break;
      }
      if (local) return std::optional<std::size_t>(open[*local]);
    }
    if (!okRows.empty() && stagnant >= settings_.patience && history.size() >= escapeFrom_ &&
        history.size() - lastEscape_ >= settings_.patience) {
      lastEscape_ = history.size();
      // Escape: of a fresh space-filling batch (the candidates farthest from everything evaluated), the one the
      // acquisition likes best. The acquisition alone keeps choosing the basin where the evaluations cluster.
      if (auto far = screenedFarPick(history, open, score)) return far;
    }
    std::size_t pick = 0;
    for (std::size_t k = 1; k < open.size(); ++k) {
      if (score[k] < score[pick]) pick = k;
    }
    return std::optional<std::size_t>(open[pick]);
  }

  const CandidateSet& candidates_;
  StrategyOptions options_;
  ModelSettings settings_;
  Geometry geometry_;
  SplitMix64 random_;
  std::size_t initialDesign_ = 0;
  std::size_t columns_ = 0;
  std::size_t modelSteps_ = 0;
  std::size_t designPicks_ = 0;
  std::size_t escapeFrom_ = 0;  ///< the first history size at which an escape may happen
  std::size_t lastEscape_ = 0;  ///< history size at the last escape
  std::unordered_set<std::size_t> pending_;
  std::vector<float> embedding_;
  std::vector<float> historyFeatures_;
  std::vector<float> historyTargets_;
  std::unique_ptr<heads::XgbRegressor> historyModel_;
  Status historyStatus_;
};

}  // namespace

CandidateSet candidateSetFrom(const SearchSpace& space) {
  CandidateSet set;
  const auto& parameters = space.parameters();
  for (const auto& parameter : parameters) set.parameterNames.push_back(parameter.name);
  set.configurations = space.enumerate();
  set.features.reserve(set.configurations.size() * parameters.size());
  for (const auto& configuration : set.configurations) {
    for (const auto& parameter : parameters) {
      const auto& value = configuration.at(parameter.name);
      float feature = 0;
      if (value.is_boolean()) {
        feature = value.get<bool>() ? 1.0f : 0.0f;
      } else if (value.is_number()) {
        feature = value.get<float>();
      } else {
        auto found = std::find(parameter.values.begin(), parameter.values.end(), value);
        feature = static_cast<float>(found - parameter.values.begin());
      }
      set.features.push_back(feature);
    }
  }
  return set;
}

std::string_view tuneStrategyName(StrategyKind kind) {
  return kTuneStrategyNames[static_cast<std::size_t>(kind)];
}

Expected<StrategyKind> parseTuneStrategy(std::string_view name) {
  for (std::size_t i = 0; i < kTuneStrategyNames.size(); ++i) {
    if (kTuneStrategyNames[i] == name) return static_cast<StrategyKind>(i);
  }
  return makeError(ErrorCode::kUsage, "unknown strategy \"{}\" (expected one of: {})", name,
                   fmt::join(kTuneStrategyNames, ", "));
}

Expected<std::unique_ptr<SearchStrategy>> makeStrategy(const CandidateSet& candidates,
                                                       const StrategyOptions& options) {
  if (candidates.size() == 0)
    return makeError(ErrorCode::kInvalidInput, "the search space has no valid configuration");
  if (candidates.features.size() != candidates.size() * candidates.parameterNames.size()) {
    return makeError(ErrorCode::kInvalidInput, "the candidate set has {} features for {} x {} configurations",
                     candidates.features.size(), candidates.size(), candidates.parameterNames.size());
  }
  switch (options.kind) {
    case StrategyKind::kExhaustive:
      return std::unique_ptr<SearchStrategy>(std::make_unique<ExhaustiveStrategy>(candidates.size()));
    case StrategyKind::kRandom:
      return std::unique_ptr<SearchStrategy>(
          std::make_unique<RandomStrategy>(candidates.size(), options.seed));
    case StrategyKind::kModel:
      return std::unique_ptr<SearchStrategy>(std::make_unique<ModelStrategy>(candidates, options));
    case StrategyKind::kTransfer:
      if (options.transfer == nullptr) {
        return makeError(ErrorCode::kInvalidInput,
                         "the transfer strategy needs earlier sessions (none were given); use model instead");
      }
      return std::unique_ptr<SearchStrategy>(std::make_unique<ModelStrategy>(candidates, options));
  }
  return makeError(ErrorCode::kInternal, "unknown strategy kind");
}

}  // namespace mirtune::tune
