// The JSON forms and text tables of the OpenMP results.
#include "tasks/omp/Reports.h"

#include "tuner/Comparison.h"

#include "tasks/omp/OmpSpace.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::omp {

namespace {

std::string secondsText(const TunedConfiguration& result) {
  if (!result.median) return std::string(measureStatusName(result.status));
  return fmt::format("{:.4f} s ± {:.4f}", *result.median, result.spread.value_or(0.0));
}

nlohmann::json tunedJson(const SearchSpace& space, const TunedConfiguration& r) {
  nlohmann::json json = tunedConfigurationJson(r);
  json["label"] = configurationLabel(space, r.configuration);
  return json;
}

}  // namespace

nlohmann::json toJson(const OmpTuneReport& report, const OmpTuneOptions& options) {
  const TuningResult& session = report.session;
  nlohmann::json json = {{"app", options.app.string()},
                         {"arguments", report.arguments},
                         {"strategy", options.strategy},
                         {"session", session.sessionId},
                         {"resumed", session.resumed},
                         {"cores", report.cores},
                         {"results", nlohmann::json::array()}};
  for (const auto& r : session.results) json["results"].push_back(tunedJson(report.space, r));
  if (session.best) {
    json["chosen"] = tunedJson(report.space, session.results[*session.best]);
    // The generic tuner's statistics of the best against the default (the same as `mirtune tune` reports).
    if (report.generic.bestAgainstDefault) {
      const Comparison& c = *report.generic.bestAgainstDefault;
      json["chosen"]["against_default"] = {{"verdict", comparisonVerdictName(c.verdict)},
                                           {"speedup", c.speedup},
                                           {"interval", {c.low, c.high}},
                                           {"p_value", c.pValue}};
    }
  }
  if (!report.ranking.empty()) json["predicted"] = report.ranking.front().configuration;
  return json;
}

std::string textReport(const OmpTuneReport& report, const OmpTuneOptions& options) {
  const SearchSpace& space = report.space;
  const TuningResult& session = report.session;
  const auto& results = session.results;
  const TunedConfiguration& def = results.front();
  std::string out;
  out += fmt::format("{} {}: {} configurations measured on {} cores (session {}{})\n", options.app.string(),
                     fmt::join(report.arguments, " "), results.size(), report.cores, session.sessionId,
                     session.resumed ? ", resumed" : "");
  for (const auto& r : results) {
    out += fmt::format("  {:<40} {:<26} {}{}\n", configurationLabel(space, r.configuration), secondsText(r),
                       speedupText(r), r.message.empty() ? "" : "  (" + r.message + ")");
  }
  if (def.status != MeasureStatus::kOk) {
    out += fmt::format("the default configuration failed ({}): {}\n", measureStatusName(def.status),
                       def.message);
  }
  if (session.best) {
    const auto& best = results[*session.best];
    // A speedup is claimed only beyond the spread of both configurations' repetitions.
    const std::string against = report.generic.bestAgainstDefault
                                    ? comparisonText(*report.generic.bestAgainstDefault)
                                    : std::string("the default itself");
    out += fmt::format("chosen: {}  OMP_NUM_THREADS={} OMP_SCHEDULE={}  {} ({:.4f} s vs {:.4f} s)\n",
                       configurationLabel(space, best.configuration), best.configuration["threads"].get<int>(),
                       ompScheduleValue(best.configuration), against, best.median.value_or(0),
                       def.median.value_or(0));
  } else {
    out += "no configuration ran correctly\n";
  }
  return out;
}

std::string textReport(const OmpExportReport& report, const std::string& folder) {
  return fmt::format(
      "{}: {} plans of {} configurations each for {} cores; run `sh {}/run-all.sh path/to/mirtune-run` there, "
      "then `mirtune omp collect --ingest {}`\n",
      folder, report.plans, report.configurations, report.cores, folder, folder);
}

std::string ingestText(const OmpCollectReport& report, const std::string& folder) {
  return ingestCountsText(folder, report.counts) + "\n";
}

std::string textReport(const OmpEvalResult& result, std::size_t topK) {
  std::string out = fmt::format(
      "| app | size | default s | oracle | predict | top-{} | random-1 | random-{} | predicted | oracle "
      "config |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---|---|\n",
      topK, topK);
  auto label = [](const Configuration& c) {
    if (c.is_null()) return std::string("-");
    const auto& chunk = c["chunk"];
    return fmt::format("{}t {} {}", c["threads"].get<int>(), c["schedule"].get<std::string>(),
                       chunk.is_string() ? chunk.get<std::string>() : chunk.dump());
  };
  for (const auto& s : result.samples) {
    out += fmt::format("| {} | {} | {:.4f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} | {} |\n", s.app,
                       s.size, s.defaultSeconds, s.oracleSpeedup, s.predictSpeedup, s.topkSpeedup,
                       s.random1Speedup, s.randomKSpeedup, label(s.predicted), label(s.oracle));
  }
  const auto& m = result.summary;
  out += fmt::format(
      "\n| {} samples | oracle | predict | top-{} | random-1 | random-{} |\n|---|---:|---:|---:|---:|---:|\n",
      m.samples, topK, topK);
  out += fmt::format("| mean speedup over default | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n",
                     m.meanOracle, m.meanPredict, m.meanTopk, m.meanRandom1, m.meanRandomK);
  out += fmt::format("| geomean speedup | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", m.geomeanOracle,
                     m.geomeanPredict, m.geomeanTopk, m.geomeanRandom1, m.geomeanRandomK);
  out += fmt::format("| % of oracle (mean) | 100.0 | {:.1f} | {:.1f} | {:.1f} | {:.1f} |\n", m.percentPredict,
                     m.percentTopk, m.percentRandom1, m.percentRandomK);
  out += fmt::format("\nThe default alone reaches {:.1f}% of the oracle.\n", m.percentDefault);
  out += fmt::format(
      "\nThe predicted configuration alone (without keeping the default when it is slower): mean "
      "speedup {:.3f}.\n",
      m.meanPredictRaw);
  return out;
}

}  // namespace mirtune::omp
