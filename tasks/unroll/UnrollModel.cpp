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

// Expected speedup of `budget` configurations drawn uniformly without replacement; with keepDefault the
// default's own time is among the candidates (a tuning session measures it first).
double expectedRandomSpeedup(const LoopSample& sample, double defaultSeconds, std::size_t budget,
                             bool keepDefault, std::size_t draws, std::uint64_t seed) {
  std::vector<double> seconds;
  for (const auto& m : sample.measurements) {
    seconds.push_back(m.status == MeasureStatus::kOk && m.median ? *m.median : defaultSeconds);
  }
  return mirtune::expectedRandomSpeedup(seconds, defaultSeconds, budget, keepDefault, draws, seed);
}

const LoopEmbedding* embeddingOf(const std::map<std::string, LoopEmbedding>& embeddings,
                                 const LoopSample& sample) {
  auto it = embeddings.find(loopKey(sample.suite, sample.program, sample.line));
  return it == embeddings.end() ? nullptr : &it->second;
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
  // The unit a fold holds: a family (the protocol) or a single program (the ablation).
  auto groupOf = [&](const LoopSample& sample) {
    return options.groupByFamily ? sample.family : sample.suite + "/" + sample.program;
  };
  std::set<std::string> familySet;
  std::set<std::string> groupSet;
  std::set<std::string> programs;
  for (const auto& sample : samples) {
    familySet.insert(sample.family);
    groupSet.insert(groupOf(sample));
    programs.insert(sample.suite + "/" + sample.program);
  }
  const std::size_t folds = std::max<std::size_t>(2, options.folds);
  if (groupSet.size() < folds) {
    return Error(
        ErrorCode::kInvalidInput,
        fmt::format("{} {} cannot fill {} folds (collect more programs or pass fewer "
                    "--folds)",
                    groupSet.size(), options.groupByFamily ? "program families" : "programs", folds));
  }
  std::vector<std::string> families(groupSet.begin(), groupSet.end());
  std::uint64_t state = options.seed;
  for (std::size_t i = families.size(); i > 1; --i) {
    std::swap(families[i - 1], families[static_cast<std::size_t>(splitmix64(state) % i)]);
  }
  std::map<std::string, std::size_t> foldOf;
  UnrollEvalResult result;
  result.foldFamilies.resize(folds);
  for (std::size_t i = 0; i < families.size(); ++i) {
    foldOf[families[i]] = i % folds;
    result.foldFamilies[i % folds].push_back(families[i]);
  }
  for (auto& f : result.foldFamilies) std::sort(f.begin(), f.end());

  std::uint64_t drawSeed = options.seed * 7919 + 1;
  for (std::size_t fold = 0; fold < folds; ++fold) {
    std::vector<LoopSample> training;
    for (const auto& sample : samples) {
      if (foldOf[groupOf(sample)] != fold) training.push_back(sample);
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
    auto rows = unrollTrainingRows(training, embeddings, options.tolerance);
    if (!rows) return rows.error();
    heads::XgbClassifier head(options.params);
    if (auto fitted = head.fit(*rows); !fitted) return fitted.error();
    for (const auto& sample : samples) {
      if (foldOf[groupOf(sample)] != fold) continue;
      const auto defaultSeconds = sample.defaultMedian();
      const auto best = sample.bestMedian();
      if (!defaultSeconds || !best) continue;
      std::vector<Configuration> candidates;
      for (const auto& m : sample.measurements) candidates.push_back(m.configuration);
      auto ranked =
          rankConfigurations(head, sample.knob, loopFeatures(*embeddingOf(embeddings, sample)), candidates);
      if (!ranked) return ranked.error();
      LoopResult r;
      r.program = sample.program;
      r.family = sample.family;
      r.line = sample.line;
      r.fold = fold;
      r.defaultSeconds = *defaultSeconds;
      r.oracleSpeedup = *defaultSeconds / *best;
      for (const auto& m : sample.measurements) {
        if (m.status == MeasureStatus::kOk && m.median && *m.median == *best) {
          r.oracle = m.configuration;
          break;
        }
      }
      r.predicted = ranked->front().configuration;
      r.predictSpeedup = *defaultSeconds / secondsOf(sample, r.predicted, *defaultSeconds, &r.pickFailed);
      r.predictKeepSpeedup = std::max(1.0, r.predictSpeedup);
      double topk = *defaultSeconds;
      for (std::size_t i = 0; i < std::min(options.topK, ranked->size()); ++i) {
        topk = std::min(topk, secondsOf(sample, (*ranked)[i].configuration, *defaultSeconds));
      }
      r.topkSpeedup = *defaultSeconds / topk;
      r.fixedSpeedup = *defaultSeconds / secondsOf(sample, fixed, *defaultSeconds);
      r.random1Speedup =
          expectedRandomSpeedup(sample, *defaultSeconds, 1, false, options.randomDraws, drawSeed++);
      r.randomKSpeedup =
          expectedRandomSpeedup(sample, *defaultSeconds, options.topK, true, options.randomDraws, drawSeed++);
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
