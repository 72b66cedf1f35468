// OpenMP head rows, ranking and leave-one-application-out evaluation.
#include "tasks/omp/OmpModel.h"

#include "support/Statistics.h"
#include "tasks/omp/OmpApp.h"
#include "tasks/omp/OmpSpace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace mirtune::omp {
namespace {

Configuration defaultFor(int cores) {
  return makeOmpSpace(cores, SpaceSize::kSmall).defaultConfiguration();
}

// Seconds a strategy ends up with when it picks `configuration`: a failure falls back to the default.
double secondsOf(const OmpSample& sample, const Configuration& configuration, double defaultSeconds) {
  const OmpMeasurement* m = sample.find(configuration);
  if (!m || m->status != MeasureStatus::kOk || !m->median) return defaultSeconds;
  return *m->median;
}

// Expected best speedup of the default plus `budget` other configurations drawn without replacement (what the
// random strategy measures).
double expectedRandomSpeedup(const OmpSample& sample, double defaultSeconds, std::size_t budget,
                             std::size_t draws, std::uint64_t seed) {
  const Configuration def = defaultFor(sample.cores);
  std::vector<double> seconds;
  for (const auto& m : sample.measurements) {
    if (m.configuration == def) continue;
    seconds.push_back(m.status == MeasureStatus::kOk && m.median ? *m.median : defaultSeconds);
  }
  return mirtune::expectedRandomSpeedup(seconds, defaultSeconds, budget, true, draws, seed);
}

}  // namespace

std::vector<float> programFeatures(const ProgramInputs& inputs) {
  std::vector<float> features = inputs.embedding;
  for (float f : sizeFeatures(inputs.arguments)) features.push_back(f);
  features.push_back(static_cast<float>(std::log2(std::max(inputs.defaultSeconds, 1e-9))));
  features.push_back(static_cast<float>(std::log2(std::max(inputs.cores, 1))));
  return features;
}

heads::XgbParams defaultOmpHeadParams() {
  heads::XgbParams params;
  params.rounds = 200;
  params.maxDepth = 4;
  params.eta = 0.1;
  params.subsample = 0.8;
  params.colsampleBytree = 0.5;
  params.nthread = 2;
  params.seed = 7;
  return params;
}

std::string_view headFormName(OmpHeadForm form) {
  return form == OmpHeadForm::kNearBest ? "near-best" : "regression";
}

Expected<OmpHeadForm> parseHeadForm(std::string_view name) {
  if (name == "near-best") return OmpHeadForm::kNearBest;
  if (name == "regression") return OmpHeadForm::kRegression;
  return Error(ErrorCode::kUsage, fmt::format("unknown head form '{}' (near-best or regression)", name));
}

Expected<heads::Dataset> ompTrainingRows(const std::vector<OmpSample>& samples,
                                         const std::map<std::string, std::vector<float>>& embeddings,
                                         std::vector<float>* gaps) {
  heads::Dataset data;
  data.classes = 2;
  std::size_t cols = 0;
  for (const auto& sample : samples) {
    auto embedding = embeddings.find(sample.app);
    if (embedding == embeddings.end()) {
      return Error(ErrorCode::kNotFound, fmt::format("no embedding for app '{}'", sample.app));
    }
    const OmpMeasurement* def = sample.find(defaultFor(sample.cores));
    const auto best = sample.bestMedian();
    if (!def || def->status != MeasureStatus::kOk || !def->median || !best) continue;
    const std::vector<float> program =
        programFeatures({embedding->second, sample.arguments, *def->median, sample.cores});
    for (const auto& m : sample.measurements) {
      if (m.status != MeasureStatus::kOk || !m.median) continue;
      std::vector<float> row = program;
      for (float f : configFeatures(m.configuration, sample.cores)) row.push_back(f);
      if (cols == 0) cols = row.size();
      if (row.size() != cols) return Error(ErrorCode::kInvalidInput, "embeddings of different dimensions");
      data.features.values.insert(data.features.values.end(), row.begin(), row.end());
      data.labels.push_back(*m.median <= (1.0 + kNearBestTolerance) * *best ? 1 : 0);
      if (gaps) gaps->push_back(static_cast<float>(std::log2(*m.median / *best)));
    }
  }
  data.features.rows = data.labels.size();
  data.features.cols = cols;
  return data;
}

ConfigurationScorer scorerOf(const heads::Classifier& head) {
  return [&head](const float* rows, std::size_t n, std::size_t cols) -> Expected<std::vector<float>> {
    auto probabilities = head.predictProbabilities(rows, n, cols);
    if (!probabilities) return probabilities.error();
    std::vector<float> scores(n);
    for (std::size_t i = 0; i < n; ++i) scores[i] = (*probabilities)[2 * i + 1];
    return scores;
  };
}

ConfigurationScorer scorerOf(const heads::XgbRegressor& head) {
  return [&head](const float* rows, std::size_t n, std::size_t cols) -> Expected<std::vector<float>> {
    auto gaps = head.predict(rows, n, cols);
    if (!gaps) return gaps.error();
    for (float& gap : *gaps) gap = -gap;
    return gaps;
  };
}

Expected<std::vector<RankedConfiguration>> rankConfigurations(const ConfigurationScorer& scorer,
                                                              const std::vector<float>& program,
                                                              const std::vector<Configuration>& candidates,
                                                              int cores) {
  std::vector<float> rows;
  std::size_t cols = 0;
  for (const auto& configuration : candidates) {
    std::vector<float> row = program;
    for (float f : configFeatures(configuration, cores)) row.push_back(f);
    cols = row.size();
    rows.insert(rows.end(), row.begin(), row.end());
  }
  std::vector<RankedConfiguration> ranked;
  if (candidates.empty()) return ranked;
  auto scores = scorer(rows.data(), candidates.size(), cols);
  if (!scores) return scores.error();
  for (std::size_t i = 0; i < candidates.size(); ++i) ranked.push_back({candidates[i], (*scores)[i]});
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.score > b.score; });
  return ranked;
}

std::vector<RankedConfiguration> diversify(const std::vector<RankedConfiguration>& ranked) {
  std::vector<RankedConfiguration> first, rest;
  std::set<std::string> seen;
  for (const auto& r : ranked) {
    const std::string key =
        r.configuration.at("threads").dump() + "/" + r.configuration.at("schedule").dump();
    (seen.insert(key).second ? first : rest).push_back(r);
  }
  first.insert(first.end(), rest.begin(), rest.end());
  return first;
}

std::vector<RankedConfiguration> topKOrder(const std::vector<RankedConfiguration>& ranked,
                                           const Configuration& defaultConfiguration, bool diverse) {
  std::vector<RankedConfiguration> others = rankedBesides(ranked, defaultConfiguration);
  return diverse ? diversify(others) : others;
}

nlohmann::json OmpEvalResult::toJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : samples) {
    rows.push_back({{"app", s.app},
                    {"size", s.size},
                    {"platform", s.platform},
                    {"default_seconds", s.defaultSeconds},
                    {"oracle_speedup", s.oracleSpeedup},
                    {"predict_speedup", s.predictSpeedup},
                    {"predict_raw_speedup", s.predictRawSpeedup},
                    {"topk_speedup", s.topkSpeedup},
                    {"random1_speedup", s.random1Speedup},
                    {"randomk_speedup", s.randomKSpeedup},
                    {"oracle", s.oracle},
                    {"predicted", s.predicted}});
  }
  const auto& m = summary;
  return {{"samples", rows},
          {"summary",
           {{"samples", m.samples},
            {"mean_speedup",
             {{"oracle", m.meanOracle},
              {"predict", m.meanPredict},
              {"predict_raw", m.meanPredictRaw},
              {"topk", m.meanTopk},
              {"random1", m.meanRandom1},
              {"randomk", m.meanRandomK}}},
            {"geomean_speedup",
             {{"oracle", m.geomeanOracle},
              {"predict", m.geomeanPredict},
              {"topk", m.geomeanTopk},
              {"random1", m.geomeanRandom1},
              {"randomk", m.geomeanRandomK}}},
            {"percent_of_oracle",
             {{"default", m.percentDefault},
              {"predict", m.percentPredict},
              {"topk", m.percentTopk},
              {"random1", m.percentRandom1},
              {"randomk", m.percentRandomK}}}}}};
}

Expected<OmpEvalResult> evaluateLeaveOneAppOut(const std::vector<OmpSample>& samples,
                                               const std::map<std::string, std::vector<float>>& embeddings,
                                               const OmpEvalOptions& options) {
  std::set<std::string> apps;
  for (const auto& sample : samples) apps.insert(sample.app);
  if (apps.size() < 2) return Error(ErrorCode::kInvalidInput, "leave-one-app-out needs at least two apps");
  OmpEvalResult result;
  std::uint64_t drawSeed = options.seed;
  for (const std::string& heldOut : apps) {
    std::vector<OmpSample> training;
    for (const auto& sample : samples) {
      if (sample.app != heldOut) training.push_back(sample);
    }
    std::vector<float> gaps;
    auto rows = ompTrainingRows(training, embeddings, &gaps);
    if (!rows) return rows.error();
    heads::XgbClassifier classifier(options.params);
    heads::XgbRegressor regressor(options.params);
    ConfigurationScorer scorer;
    if (options.form == OmpHeadForm::kNearBest) {
      if (auto fitted = classifier.fit(*rows); !fitted) return fitted.error();
      scorer = scorerOf(classifier);
    } else {
      if (auto fitted = regressor.fit(rows->features, gaps); !fitted) return fitted.error();
      scorer = scorerOf(regressor);
    }
    for (const auto& sample : samples) {
      if (sample.app != heldOut) continue;
      const Configuration def = defaultFor(sample.cores);
      const OmpMeasurement* defaultMeasurement = sample.find(def);
      const auto best = sample.bestMedian();
      if (!defaultMeasurement || defaultMeasurement->status != MeasureStatus::kOk || !best) continue;
      const double defaultSeconds = *defaultMeasurement->median;
      std::vector<Configuration> candidates;
      for (const auto& m : sample.measurements) candidates.push_back(m.configuration);
      const std::vector<float> program =
          programFeatures({embeddings.at(sample.app), sample.arguments, defaultSeconds, sample.cores});
      auto ranked = rankConfigurations(scorer, program, candidates, sample.cores);
      if (!ranked) return ranked.error();
      OmpSampleResult r;
      r.app = sample.app;
      r.size = sample.size;
      r.platform = sample.platform;
      r.defaultSeconds = defaultSeconds;
      r.oracleSpeedup = defaultSeconds / *best;
      for (const auto& m : sample.measurements) {
        if (m.status == MeasureStatus::kOk && m.median && *m.median == *best) {
          r.oracle = m.configuration;
          break;
        }
      }
      r.predicted = ranked->front().configuration;
      r.predictRawSpeedup = defaultSeconds / secondsOf(sample, r.predicted, defaultSeconds);
      r.predictSpeedup = std::max(1.0, r.predictRawSpeedup);
      // top-k measures the default and the k best-ranked other configurations (the topk strategy).
      const std::vector<RankedConfiguration> order = topKOrder(*ranked, def, options.diverseTopK);
      double topk = defaultSeconds;
      for (std::size_t i = 0; i < std::min(options.topK, order.size()); ++i) {
        topk = std::min(topk, secondsOf(sample, order[i].configuration, defaultSeconds));
      }
      r.topkSpeedup = defaultSeconds / topk;
      r.random1Speedup = expectedRandomSpeedup(sample, defaultSeconds, 1, options.randomDraws, drawSeed++);
      r.randomKSpeedup =
          expectedRandomSpeedup(sample, defaultSeconds, options.topK, options.randomDraws, drawSeed++);
      result.samples.push_back(std::move(r));
    }
  }
  std::vector<double> predictRaw, pDefault;
  for (const auto& r : result.samples) {
    predictRaw.push_back(r.predictRawSpeedup);
    pDefault.push_back(100 / r.oracleSpeedup);
  }
  std::vector<double> oracle, predict, topk, random1, randomK, pPredict, pTopk, pRandom1, pRandomK;
  for (const auto& r : result.samples) {
    oracle.push_back(r.oracleSpeedup);
    predict.push_back(r.predictSpeedup);
    topk.push_back(r.topkSpeedup);
    random1.push_back(r.random1Speedup);
    randomK.push_back(r.randomKSpeedup);
    pPredict.push_back(100 * r.predictSpeedup / r.oracleSpeedup);
    pTopk.push_back(100 * r.topkSpeedup / r.oracleSpeedup);
    pRandom1.push_back(100 * r.random1Speedup / r.oracleSpeedup);
    pRandomK.push_back(100 * r.randomKSpeedup / r.oracleSpeedup);
  }
  auto& s = result.summary;
  s.samples = result.samples.size();
  s.meanOracle = mean(oracle);
  s.meanPredict = mean(predict);
  s.meanPredictRaw = mean(predictRaw);
  s.meanTopk = mean(topk);
  s.meanRandom1 = mean(random1);
  s.meanRandomK = mean(randomK);
  s.geomeanOracle = geomean(oracle);
  s.geomeanPredict = geomean(predict);
  s.geomeanTopk = geomean(topk);
  s.geomeanRandom1 = geomean(random1);
  s.geomeanRandomK = geomean(randomK);
  s.percentDefault = mean(pDefault);
  s.percentPredict = mean(pPredict);
  s.percentTopk = mean(pTopk);
  s.percentRandom1 = mean(pRandom1);
  s.percentRandomK = mean(pRandomK);
  return result;
}

}  // namespace mirtune::omp
