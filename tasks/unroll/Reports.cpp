// The JSON forms and text tables of the unroll results.
#include "tasks/unroll/Reports.h"

#include "frontend/LoopPragmas.h"
#include "tasks/unroll/UnrollSpace.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::unroll {

namespace {

std::string secondsText(const TunedConfiguration& result) {
  if (!result.median) return std::string(measureStatusName(result.status));
  return fmt::format("{:.5f} s ± {:.5f}", *result.median, result.spread.value_or(0.0));
}

nlohmann::json tunedJson(Knob knob, const TunedConfiguration& r) {
  nlohmann::json json = tunedConfigurationJson(r);
  json["factors"] = configurationToken(knob, r.configuration);
  return json;
}

}  // namespace

nlohmann::json toJson(const UnrollFileReport& report, const UnrollFileOptions& options) {
  const Knob knob = report.knob;
  nlohmann::json json = {{"file", options.file.string()}, {"knob", knobName(knob)}, {"loops", nlohmann::json::array()}};
  for (const auto& plan : report.loops) {
    nlohmann::json loop = {
        {"line", plan.site.line}, {"function", plan.site.function}, {"kind", loopKindName(plan.site.kind)}};
    if (!plan.ranking.empty()) {
      const auto& top = plan.ranking.front();
      loop["predicted"] = top.configuration;
      loop["factors"] = configurationToken(knob, top.configuration);
      loop["pragma"] = pragmaFor(knob, top.configuration, plan.site.line).text;
      loop["score"] = top.score;
    }
    if (plan.session) {
      const TuningResult& result = *plan.session;
      loop["session"] = result.sessionId;
      loop["results"] = nlohmann::json::array();
      for (const auto& r : result.results) loop["results"].push_back(tunedJson(knob, r));
      if (result.best) loop["chosen"] = tunedJson(knob, result.results[*result.best]);
    }
    json["loops"].push_back(std::move(loop));
  }
  if (options.apply) json["applied"] = options.output.string();
  return json;
}

std::string textReport(const UnrollFileReport& report, const UnrollFileOptions& options) {
  const Knob knob = report.knob;
  const std::string source = options.file.string();
  std::string text;
  for (const auto& plan : report.loops) {
    if (plan.ranking.empty()) continue;
    const auto& top = plan.ranking.front();
    const std::string pragma = pragmaFor(knob, top.configuration, plan.site.line).text;
    text += fmt::format("{}:{} {} ({}): {}  {}  p(near best)={:.2f}\n", source, plan.site.line, plan.site.function,
                        loopKindName(plan.site.kind), configurationToken(knob, top.configuration),
                        pragma.empty() ? "(no pragma: compiler default)" : "#pragma " + pragma, top.score);
  }
  for (const auto& plan : report.loops) {
    if (!plan.session) continue;
    const TuningResult& result = *plan.session;
    text += fmt::format("{}:{}: {} configurations measured (session {}{})\n", source, plan.site.line,
                        result.results.size(), result.sessionId, result.resumed ? ", resumed" : "");
    for (const auto& r : result.results) {
      text += fmt::format("  {:<10} {:<26} {}{}\n", configurationToken(knob, r.configuration), secondsText(r),
                          speedupText(r), r.message.empty() ? "" : "  (" + r.message + ")");
    }
    if (result.best) {
      const auto& best = result.results[*result.best];
      text += fmt::format("  chosen: {}  {:.3f}x over the compiler default\n",
                          configurationToken(knob, best.configuration), best.speedup.value_or(1.0));
    } else {
      text += "  no configuration ran correctly\n";
    }
  }
  return text;
}

bool everyMeasuredLoopChose(const UnrollFileReport& report) {
  for (const auto& plan : report.loops) {
    if (plan.session && !plan.session->best) return false;
  }
  return true;
}

std::string textReport(const UnrollEvalResult& result, Knob knob, std::size_t topK, const std::string& group) {
  const auto& m = result.summary;
  std::string out = fmt::format(
      "{} loops of {} programs in {} families ({} knob), {}-fold cross-validation grouped by {}.\n\n"
      "| strategy | mean speedup over default | geomean | % of oracle (mean per loop) "
      "|\n|---|---:|---:|---:|\n",
      m.loops, m.programs, m.families, knobName(knob), result.foldFamilies.size(), group);
  out += fmt::format("| oracle (best measured per loop) | {:.3f} | {:.3f} | 100.0 |\n", m.meanOracle,
                     m.geomeanOracle);
  out += fmt::format("| predicted factors alone | {:.3f} | {:.3f} | {:.1f} |\n", m.meanPredict,
                     m.geomeanPredict, m.percentPredict);
  out += fmt::format("| predicted, default kept if faster | {:.3f} | {:.3f} | {:.1f} |\n", m.meanPredictKeep,
                     m.geomeanPredictKeep, m.percentPredictKeep);
  out += fmt::format("| top-{} + default | {:.3f} | {:.3f} | {:.1f} |\n", topK, m.meanTopk, m.geomeanTopk,
                     m.percentTopk);
  out += fmt::format("| random, 1 configuration alone | {:.3f} | {:.3f} | {:.1f} |\n", m.meanRandom1,
                     m.geomeanRandom1, m.percentRandom1);
  out += fmt::format("| random {} + default | {:.3f} | {:.3f} | {:.1f} |\n", topK, m.meanRandomK,
                     m.geomeanRandomK, m.percentRandomK);
  out += fmt::format("| best fixed configuration of the training folds | {:.3f} | {:.3f} | {:.1f} |\n",
                     m.meanFixed, m.geomeanFixed, m.percentFixed);
  double defaultPercent = 0;
  for (const auto& r : result.loops) defaultPercent += 100.0 / r.oracleSpeedup;
  if (!result.loops.empty()) defaultPercent /= static_cast<double>(result.loops.size());
  out += fmt::format("| compiler default | 1.000 | 1.000 | {:.1f} |\n", defaultPercent);
  out += fmt::format(
      "\nPredicted configurations that failed (wrong output, crash; counted at the default's time): {}. "
      "Loops where the default is the best measured: {}.\n",
      m.failedPicks, m.loopsWhereDefaultIsBest);
  if (group == "family") {
    out += "\nFolds (held-out families):\n";
    for (std::size_t i = 0; i < result.foldFamilies.size(); ++i) {
      out += fmt::format("- fold {}: {} (best fixed configuration of the other folds: {})\n", i + 1,
                         fmt::join(result.foldFamilies[i], ", "),
                         i < result.foldFixed.size() ? configurationToken(knob, result.foldFixed[i]) : "-");
    }
  }
  out +=
      "\n| program | line | default s | oracle | predicted | speedup | oracle config | predicted config |\n"
      "|---|---:|---:|---:|---:|---:|---|---|\n";
  for (const auto& r : result.loops) {
    out += fmt::format("| {} | {} | {:.5f} | {:.3f} | {:.3f} | {:.3f}{} | {} | {} |\n", r.program, r.line,
                       r.defaultSeconds, r.oracleSpeedup, r.predictSpeedup, r.predictKeepSpeedup,
                       r.pickFailed ? " (failed)" : "", configurationToken(knob, r.oracle),
                       configurationToken(knob, r.predicted));
  }
  return out;
}

std::string textReport(const UnrollExportReport& report, const std::string& folder) {
  return fmt::format(
      "{}: {} loop plans of {} configurations each ({} programs skipped); run `sh {}/run-all.sh "
      "path/to/mirtune-run` there or `mirtune campaign submit {}`, then `mirtune unroll collect --ingest {}`\n",
      folder, report.plans, report.configurations, report.skippedPrograms, folder, folder, folder);
}

}  // namespace mirtune::unroll
