// Unroll head rows, ranking and family-grouped cross-validation.
#include "tasks/unroll/UnrollModel.h"

#include "support/Statistics.h"

#include "database/CanonicalJson.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace mirtune::unroll {
namespace {

// Seconds a pick ends up with: a configuration that failed or was not measured counts as the default's time.
double secondsOf(const LoopSample& sample, const Configuration& configuration, double defaultSeconds,
                 bool* failed = nullptr) {
  const LoopMeasurement* m = sample.find(configuration);
  const bool ok = m && m->status == MeasureStatus::kOk && m->median;
  if (failed) *failed = !ok;
  return ok ? *m->median : defaultSeconds;
}

// Expected speedup of `budget` configurations drawn uniformly without replacement. With keepDefault the
// default is measured first and the draws are among the other configurations (the random strategy of a tuning
// session); without, the draws are among all of them, the default included (a random pick applied alone).
double expectedRandomSpeedup(const LoopSample& sample, double defaultSeconds, std::size_t budget,
                             bool keepDefault, std::size_t draws, std::uint64_t seed) {
  const Configuration def = makeUnrollSpace(sample.knob).defaultConfiguration();
  std::vector<double> seconds;
  for (const auto& m : sample.measurements) {
    if (keepDefault && m.configuration == def) continue;
    seconds.push_back(m.status == MeasureStatus::kOk && m.median ? *m.median : defaultSeconds);
  }
  return mirtune::expectedRandomSpeedup(seconds, defaultSeconds, budget, keepDefault, draws, seed);
}

const LoopEmbedding* embeddingOf(const std::map<std::string, LoopEmbedding>& embeddings,
                                 const LoopSample& sample) {
  auto it = embeddings.find(loopKey(sample.suite, sample.program, sample.line));
  return it == embeddings.end() ? nullptr : &it->second;
}

// The unit a fold holds: a single program, or a whole family (nothing of a held-out kernel trains).
std::string groupOf(const LoopSample& sample, bool byFamily) {
  return byFamily ? sample.family : sample.suite + "/" + sample.program;
}

// Groups shuffled with the seed and dealt round-robin into `folds` folds: group -> fold, and each fold's
// groups (sorted). kInvalidInput for fewer groups than folds.
Expected<std::pair<std::map<std::string, std::size_t>, std::vector<std::vector<std::string>>>> dealFolds(
    const std::vector<LoopSample>& samples, bool byFamily, std::size_t folds, std::uint64_t seed) {
  std::set<std::string> groupSet;
  for (const auto& sample : samples) groupSet.insert(groupOf(sample, byFamily));
  if (groupSet.size() < folds) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{} {} cannot fill {} folds (collect more programs or pass fewer --folds)",
                             groupSet.size(), byFamily ? "program families" : "programs", folds));
  }
  std::vector<std::string> groups(groupSet.begin(), groupSet.end());
  std::uint64_t state = seed;
  for (std::size_t i = groups.size(); i > 1; --i) {
    std::swap(groups[i - 1], groups[static_cast<std::size_t>(splitmix64(state) % i)]);
  }
  std::map<std::string, std::size_t> foldOf;
  std::vector<std::vector<std::string>> members(folds);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    foldOf[groups[i]] = i % folds;
    members[i % folds].push_back(groups[i]);
  }
  for (auto& f : members) std::sort(f.begin(), f.end());
  return std::make_pair(std::move(foldOf), std::move(members));
}

// A held-out loop whose default and best ran, with its configurations ranked by a head trained without it.
struct RankedLoop {
  const LoopSample* sample = nullptr;
  std::vector<RankedConfiguration> ranked;
};

// Fits a head on `training` and ranks every loop of `heldOut` (loops whose default or best did not run are
// left out).
Expected<std::vector<RankedLoop>> rankHeldOut(const std::vector<LoopSample>& training,
                                              const std::vector<const LoopSample*>& heldOut,
                                              const std::map<std::string, LoopEmbedding>& embeddings,
                                              const heads::XgbParams& params, double tolerance) {
  auto rows = unrollTrainingRows(training, embeddings, tolerance);
  if (!rows) return rows.error();
  heads::XgbClassifier head(params);
  if (auto fitted = head.fit(*rows); !fitted) return fitted.error();
  std::vector<RankedLoop> out;
  for (const LoopSample* sample : heldOut) {
    if (!sample->defaultMedian() || !sample->bestMedian()) continue;
    std::vector<Configuration> candidates;
    for (const auto& m : sample->measurements) candidates.push_back(m.configuration);
    auto ranked =
        rankConfigurations(head, sample->knob, loopFeatures(*embeddingOf(embeddings, *sample)), candidates);
    if (!ranked) return ranked.error();
    out.push_back({sample, std::move(*ranked)});
  }
  return out;
}

}  // namespace

std::string loopKey(const std::string& suite, const std::string& program, int line) {
  return fmt::format("{}/{}:{}", suite, program, line);
}

std::vector<float> loopFeatures(const LoopEmbedding& embedding) {
  std::vector<float> features = embedding.loop;
  features.insert(features.end(), embedding.function.begin(), embedding.function.end());
  return features;
}

heads::XgbParams defaultUnrollHeadParams() {
  heads::XgbParams params;
  params.rounds = 150;
  params.maxDepth = 4;
  params.eta = 0.1;
  params.subsample = 0.8;
  params.colsampleBytree = 0.5;
  params.nthread = 2;
  params.seed = 11;
  return params;
}

Expected<heads::Dataset> unrollTrainingRows(const std::vector<LoopSample>& samples,
                                            const std::map<std::string, LoopEmbedding>& embeddings,
                                            double tolerance) {
  heads::Dataset data;
  data.classes = 2;
  std::size_t cols = 0;
  for (const auto& sample : samples) {
    const LoopEmbedding* embedding = embeddingOf(embeddings, sample);
    if (!embedding) {
      return Error(ErrorCode::kNotFound, fmt::format("no embedding for loop {}",
                                                     loopKey(sample.suite, sample.program, sample.line)));
    }
    const auto best = sample.bestMedian();
    if (!sample.defaultMedian() || !best) continue;
    const std::vector<float> loop = loopFeatures(*embedding);
    for (const auto& m : sample.measurements) {
      std::vector<float> row = loop;
      for (float f : configFeatures(sample.knob, m.configuration)) row.push_back(f);
      if (cols == 0) cols = row.size();
      if (row.size() != cols) return Error(ErrorCode::kInvalidInput, "embeddings of different dimensions");
      data.features.values.insert(data.features.values.end(), row.begin(), row.end());
      // A configuration that failed (wrong output, crash) is never near best: the head learns to avoid it.
      const bool ok = m.status == MeasureStatus::kOk && m.median;
      data.labels.push_back(ok && *m.median <= (1.0 + tolerance) * *best ? 1 : 0);
    }
  }
  data.features.rows = data.labels.size();
  data.features.cols = cols;
  if (data.labels.empty())
    return Error(ErrorCode::kInvalidInput, "no loop whose default configuration ran correctly");
  return data;
}

Expected<std::vector<RankedConfiguration>> rankConfigurations(const heads::Classifier& head, Knob knob,
                                                              const std::vector<float>& loop,
                                                              const std::vector<Configuration>& candidates) {
  std::vector<RankedConfiguration> ranked;
  if (candidates.empty()) return ranked;
  std::vector<float> rows;
  std::size_t cols = 0;
  for (const auto& configuration : candidates) {
    std::vector<float> row = loop;
    for (float f : configFeatures(knob, configuration)) row.push_back(f);
    cols = row.size();
    rows.insert(rows.end(), row.begin(), row.end());
  }
  auto probabilities = head.predictProbabilities(rows.data(), candidates.size(), cols);
  if (!probabilities) return probabilities.error();
  for (std::size_t i = 0; i < candidates.size(); ++i)
    ranked.push_back({candidates[i], (*probabilities)[2 * i + 1]});
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.score > b.score; });
  return ranked;
}

nlohmann::json UnrollEvalResult::toJson(Knob knob) const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : loops) {
    rows.push_back({{"program", r.program},
                    {"family", r.family},
                    {"line", r.line},
                    {"fold", r.fold},
                    {"default_seconds", r.defaultSeconds},
                    {"oracle_speedup", r.oracleSpeedup},
                    {"predict_speedup", r.predictSpeedup},
                    {"predict_keep_speedup", r.predictKeepSpeedup},
                    {"topk_speedup", r.topkSpeedup},
                    {"random1_speedup", r.random1Speedup},
                    {"randomk_speedup", r.randomKSpeedup},
                    {"fixed_speedup", r.fixedSpeedup},
                    {"pick_failed", r.pickFailed},
                    {"oracle", configurationToken(knob, r.oracle)},
                    {"predicted", configurationToken(knob, r.predicted)}});
  }
  const auto& m = summary;
  nlohmann::json fixed = nlohmann::json::array();
  for (const auto& c : foldFixed) fixed.push_back(configurationToken(knob, c));
  return {{"knob", knobName(knob)},
          {"loops", rows},
          {"folds", foldFamilies},
          {"fold_fixed", fixed},
          {"summary",
           {{"loops", m.loops},
            {"programs", m.programs},
            {"families", m.families},
            {"failed_picks", m.failedPicks},
            {"loops_where_default_is_best", m.loopsWhereDefaultIsBest},
            {"mean_speedup",
             {{"oracle", m.meanOracle},
              {"predict", m.meanPredict},
              {"predict_keep", m.meanPredictKeep},
              {"topk", m.meanTopk},
              {"random1", m.meanRandom1},
              {"randomk", m.meanRandomK},
              {"fixed", m.meanFixed}}},
            {"geomean_speedup",
             {{"oracle", m.geomeanOracle},
              {"predict", m.geomeanPredict},
              {"predict_keep", m.geomeanPredictKeep},
              {"topk", m.geomeanTopk},
              {"random1", m.geomeanRandom1},
              {"randomk", m.geomeanRandomK},
              {"fixed", m.geomeanFixed}}},
            {"percent_of_oracle",
             {{"predict", m.percentPredict},
              {"predict_keep", m.percentPredictKeep},
              {"topk", m.percentTopk},
              {"random1", m.percentRandom1},
              {"randomk", m.percentRandomK},
              {"fixed", m.percentFixed}}}}}};
}

Expected<UnrollEvalResult> evaluateGroupedFolds(const std::vector<LoopSample>& samples,
                                                const std::map<std::string, LoopEmbedding>& embeddings,
                                                const UnrollEvalOptions& options) {
  std::set<std::string> familySet;
  std::set<std::string> programs;
  for (const auto& sample : samples) {
    familySet.insert(sample.family);
    programs.insert(sample.suite + "/" + sample.program);
  }
  const std::size_t folds = std::max<std::size_t>(2, options.folds);
  auto dealt = dealFolds(samples, options.groupByFamily, folds, options.seed);
  if (!dealt) return dealt.error();
  const auto& foldOf = dealt->first;
  UnrollEvalResult result;
  result.foldFamilies = dealt->second;

  std::uint64_t drawSeed = options.seed * 7919 + 1;
  for (std::size_t fold = 0; fold < folds; ++fold) {
    std::vector<LoopSample> training;
    std::vector<const LoopSample*> heldOut;
    for (const auto& sample : samples) {
      if (foldOf.at(groupOf(sample, options.groupByFamily)) == fold) {
        heldOut.push_back(&sample);
      } else {
        training.push_back(sample);
      }
    }
    // The baseline: one configuration for every loop, the best on average over the training loops.
    Configuration fixed =
        makeUnrollSpace(training.empty() ? Knob::kUnroll : training.front().knob).defaultConfiguration();
    {
      std::map<std::string, std::pair<Configuration, double>> total;
      for (const auto& sample : training) {
        const auto defaultSeconds = sample.defaultMedian();
        if (!defaultSeconds) continue;
        for (const auto& m : sample.measurements) {
          auto& entry = total[canonicalJson(m.configuration)];
          entry.first = m.configuration;
          entry.second += *defaultSeconds / secondsOf(sample, m.configuration, *defaultSeconds);
        }
      }
      double best = -1;
      for (const auto& [key, entry] : total) {
        if (entry.second > best) {
          best = entry.second;
          fixed = entry.first;
        }
      }
    }
    result.foldFixed.push_back(fixed);
    auto rankedLoops = rankHeldOut(training, heldOut, embeddings, options.params, options.tolerance);
    if (!rankedLoops) return rankedLoops.error();
    for (const auto& rankedLoop : *rankedLoops) {
      const LoopSample& sample = *rankedLoop.sample;
      const std::vector<RankedConfiguration>& ranked = rankedLoop.ranked;
      const double defaultSeconds = *sample.defaultMedian();
      const double best = *sample.bestMedian();
      LoopResult r;
      r.program = sample.program;
      r.family = sample.family;
      r.line = sample.line;
      r.fold = fold;
      r.defaultSeconds = defaultSeconds;
      r.oracleSpeedup = defaultSeconds / best;
      for (const auto& m : sample.measurements) {
        if (m.status == MeasureStatus::kOk && m.median && *m.median == best) {
          r.oracle = m.configuration;
          break;
        }
      }
      const Configuration def = makeUnrollSpace(sample.knob).defaultConfiguration();
      r.predicted = ranked.front().configuration;
      r.predictSpeedup = defaultSeconds / secondsOf(sample, r.predicted, defaultSeconds, &r.pickFailed);
      r.predictKeepSpeedup = std::max(1.0, r.predictSpeedup);
      // top-k measures the default and the k best-ranked other configurations (the topk strategy).
      double topk = defaultSeconds;
      const std::vector<RankedConfiguration> others = rankedBesides(ranked, def);
      for (std::size_t i = 0; i < std::min(options.topK, others.size()); ++i)
        topk = std::min(topk, secondsOf(sample, others[i].configuration, defaultSeconds));
      r.topkSpeedup = defaultSeconds / topk;
      r.fixedSpeedup = defaultSeconds / secondsOf(sample, fixed, defaultSeconds);
      r.random1Speedup =
          expectedRandomSpeedup(sample, defaultSeconds, 1, false, options.randomDraws, drawSeed++);
      r.randomKSpeedup =
          expectedRandomSpeedup(sample, defaultSeconds, options.topK, true, options.randomDraws, drawSeed++);
      result.loops.push_back(std::move(r));
    }
  }
  std::sort(result.loops.begin(), result.loops.end(), [](const LoopResult& a, const LoopResult& b) {
    return std::tie(a.program, a.line) < std::tie(b.program, b.line);
  });
  std::vector<double> oracle, predict, keep, topk, random1, randomK, fixedS, pPredict, pKeep, pTopk, pRandom1,
      pRandomK, pFixed;
  auto& s = result.summary;
  for (const auto& r : result.loops) {
    oracle.push_back(r.oracleSpeedup);
    predict.push_back(r.predictSpeedup);
    keep.push_back(r.predictKeepSpeedup);
    topk.push_back(r.topkSpeedup);
    random1.push_back(r.random1Speedup);
    randomK.push_back(r.randomKSpeedup);
    fixedS.push_back(r.fixedSpeedup);
    pFixed.push_back(100 * r.fixedSpeedup / r.oracleSpeedup);
    pPredict.push_back(100 * r.predictSpeedup / r.oracleSpeedup);
    pKeep.push_back(100 * r.predictKeepSpeedup / r.oracleSpeedup);
    pTopk.push_back(100 * r.topkSpeedup / r.oracleSpeedup);
    pRandom1.push_back(100 * r.random1Speedup / r.oracleSpeedup);
    pRandomK.push_back(100 * r.randomKSpeedup / r.oracleSpeedup);
    if (r.pickFailed) ++s.failedPicks;
    if (r.oracleSpeedup == 1.0) ++s.loopsWhereDefaultIsBest;
  }
  s.loops = result.loops.size();
  s.programs = programs.size();
  s.families = familySet.size();
  s.meanOracle = mean(oracle);
  s.meanPredict = mean(predict);
  s.meanPredictKeep = mean(keep);
  s.meanTopk = mean(topk);
  s.meanRandom1 = mean(random1);
  s.meanRandomK = mean(randomK);
  s.geomeanOracle = geomean(oracle);
  s.geomeanPredict = geomean(predict);
  s.geomeanPredictKeep = geomean(keep);
  s.geomeanTopk = geomean(topk);
  s.geomeanRandom1 = geomean(random1);
  s.geomeanRandomK = geomean(randomK);
  s.percentPredict = mean(pPredict);
  s.percentPredictKeep = mean(pKeep);
  s.percentTopk = mean(pTopk);
  s.percentRandom1 = mean(pRandom1);
  s.percentRandomK = mean(pRandomK);
  s.meanFixed = mean(fixedS);
  s.geomeanFixed = geomean(fixedS);
  s.percentFixed = mean(pFixed);
  return result;
}

}  // namespace mirtune::unroll
