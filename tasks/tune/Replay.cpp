// Replay of a brute-forced space: seeded repeats of a strategy over a cache's valid configurations, scored by
// the fraction of the optimum reached.
#include "tasks/tune/Replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace mirtune::tune {

namespace {

/// Linear interpolation between order statistics (numpy's default).
double quantile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) return 0;
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double weight = position - static_cast<double>(below);
  return sorted[below] * (1 - weight) + sorted[above] * weight;
}

Distribution distributionOf(const std::vector<double>& sample) {
  Distribution d;
  if (sample.empty()) return d;
  d.median = quantile(sample, 0.5);
  d.q1 = quantile(sample, 0.25);
  d.q3 = quantile(sample, 0.75);
  d.min = *std::min_element(sample.begin(), sample.end());
  d.max = *std::max_element(sample.begin(), sample.end());
  double sum = 0;
  for (double value : sample) sum += value;
  d.mean = sum / static_cast<double>(sample.size());
  return d;
}

}  // namespace

TransferSession transferSessionFromCache(const KernelTunerCache& cache) {
  TransferSession session;
  session.kernel = cache.kernelName;
  const CandidateSet layout = candidateSetFrom(cache.validSpace());
  session.parameterNames = layout.parameterNames;
  std::unordered_map<std::string, double> timeByKey;
  for (const auto& record : cache.records) {
    if (record.time) timeByKey[cache.key(record.configuration)] = *record.time;
  }
  for (std::size_t i = 0; i < layout.size(); ++i) {
    session.features.emplace_back(layout.row(i), layout.row(i) + layout.parameterNames.size());
    session.times.push_back(timeByKey.at(cache.key(layout.configurations[i])));
  }
  return session;
}

Expected<ReplayReport> replay(const KernelTunerCache& cache, const ReplayRequest& request) {
  if (request.budget == 0)
    return makeError(ErrorCode::kUsage, "replay: the budget must be at least 1 evaluation");
  if (request.repeats == 0) return makeError(ErrorCode::kUsage, "replay: at least 1 repeat is needed");
  const SearchSpace space = cache.validSpace();
  const CandidateSet candidates = candidateSetFrom(space);
  if (candidates.size() == 0)
    return makeError(ErrorCode::kInvalidInput, "replay: the cache has no configuration with a time");

  // Time of each candidate, looked up by the cache's key.
  std::unordered_map<std::string, double> timeByKey;
  for (const auto& record : cache.records) {
    if (record.time) timeByKey[cache.key(record.configuration)] = *record.time;
  }
  std::vector<double> times(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i)
    times[i] = timeByKey.at(cache.key(candidates.configurations[i]));
  const double optimum = *std::min_element(times.begin(), times.end());
  if (!(optimum > 0))
    return makeError(ErrorCode::kInvalidInput, "replay: the best time of the cache is {} ms, not > 0",
                     optimum);

  ReplayReport report;
  report.strategy = std::string(tuneStrategyName(request.strategy));
  report.budget = request.budget;
  report.repeats = request.repeats;
  report.spaceSize = candidates.size();
  report.optimum = optimum;
  std::vector<std::vector<double>> curves(request.repeats);
  double strategySeconds = 0;
  std::size_t proposals = 0;
  for (std::size_t r = 0; r < request.repeats; ++r) {
    StrategyOptions options;
    options.kind = request.strategy;
    options.seed = request.seed + r;
    options.budget = request.budget;
    options.transfer = request.transfer;
    auto strategy = makeStrategy(candidates, options);
    if (!strategy) return strategy.error();
    std::vector<Observation> history;
    double best = std::numeric_limits<double>::infinity();
    while (history.size() < request.budget) {
      const auto start = std::chrono::steady_clock::now();
      auto picked = (*strategy)->propose(history, 1);
      strategySeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++proposals;
      if (!picked) return picked.error().withContext("replay");
      if (picked->empty()) break;  // the space is exhausted
      const std::size_t candidate = picked->front();
      history.push_back(Observation{candidate, times[candidate]});
      best = std::min(best, times[candidate]);
      curves[r].push_back(optimum / best);
    }
    // A space smaller than the budget: the best stays what it was for the evaluations never made.
    while (curves[r].size() < request.budget) curves[r].push_back(curves[r].back());
    report.fractions.push_back(curves[r].back());
  }
  report.fractionOfOptimum = distributionOf(report.fractions);
  for (std::size_t step = 0; step < request.budget; ++step) {
    std::vector<double> column;
    for (const auto& curve : curves) column.push_back(curve[step]);
    report.medianCurve.push_back(quantile(column, 0.5));
  }
  report.secondsPerEvaluation = proposals == 0 ? 0 : strategySeconds / static_cast<double>(proposals);
  return report;
}

nlohmann::json replayReportJson(const ReplayReport& report) {
  const Distribution& d = report.fractionOfOptimum;
  return {
      {"strategy", report.strategy},
      {"budget", report.budget},
      {"repeats", report.repeats},
      {"space_size", report.spaceSize},
      {"optimum_ms", report.optimum},
      {"fraction_of_optimum",
       {{"median", d.median}, {"mean", d.mean}, {"q1", d.q1}, {"q3", d.q3}, {"min", d.min}, {"max", d.max}}},
      {"fractions", report.fractions},
      {"median_curve", report.medianCurve},
      {"seconds_per_evaluation", report.secondsPerEvaluation}};
}

std::string replayReportText(const ReplayReport& report) {
  const Distribution& d = report.fractionOfOptimum;
  std::string text = fmt::format(
      "strategy {}: {} evaluations x {} repeats over {} valid configurations (optimum {:.4g} ms)\n",
      report.strategy, report.budget, report.repeats, report.spaceSize, report.optimum);
  text += fmt::format(
      "fraction of optimum: median {:.3f}, mean {:.3f}, quartiles {:.3f} .. {:.3f}, range {:.3f} .. {:.3f}\n",
      d.median, d.mean, d.q1, d.q3, d.min, d.max);
  std::string curve;
  const std::size_t last = report.medianCurve.size();
  for (std::size_t step : {std::size_t{1}, std::size_t{5}, std::size_t{10}, std::size_t{20}, std::size_t{50},
                           std::size_t{100}, std::size_t{200}}) {
    if (step >= last) break;
    curve += fmt::format(" {}:{:.3f}", step, report.medianCurve[step - 1]);
  }
  if (last > 0) curve += fmt::format(" {}:{:.3f}", last, report.medianCurve[last - 1]);
  text += fmt::format("median fraction after evaluations:{}\n", curve);
  text += fmt::format("strategy time: {:.2f} ms per proposal\n", report.secondsPerEvaluation * 1000);
  return text;
}

}  // namespace mirtune::tune
