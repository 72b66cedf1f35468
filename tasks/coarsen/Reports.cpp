// coarsen's reports: the tables and JSON lists `mirtune coarsen` prints for prediction, runs, collections,
// CUDA sessions and the evaluation.
#include "tasks/coarsen/Reports.h"

#include "tasks/common/LaunchText.h"

#include "support/Csv.h"
#include "tasks/coarsen/CoarsenMetrics.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace mirtune::coarsen {

namespace {

namespace fs = std::filesystem;

std::string collectCell(const std::vector<Variant>& variants, std::size_t d) {
  const std::map<int, double> speedup = speedups(variants, d);
  std::optional<int> best = bestFactor(speedup);
  if (!best) {
    return variants.front().devices.size() > d
               ? std::string(measureStatusName(variants.front().devices[d].status))
               : "-";
  }
  return fmt::format("{} ({:.2f}x)", *best, speedup.at(*best));
}

std::string collectTable(
    const std::vector<OpenClDevice>& devices,
    const std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>>& rows) {
  std::size_t width = 6;
  for (const auto& row : rows) width = std::max(width, std::get<0>(row).size());
  std::string text;
  for (const OpenClDevice& device : devices)
    text += fmt::format("# device {}:{} {} {}\n", device.platformIndex, device.deviceIndex, device.type,
                        device.name);
  text += "# best factor (speedup of its median kernel time over factor 1) per device\n";
  text += fmt::format("{:<{}}  {:>10}", "kernel", width, "N");
  for (const OpenClDevice& device : devices)
    text += fmt::format("  {:>14}",
                        fmt::format("{}:{} {}", device.platformIndex, device.deviceIndex, device.type));
  text += "\n";
  for (const auto& [kernel, n, cells] : rows) {
    text += fmt::format("{:<{}}  {:>10}", kernel, width, n);
    for (const std::string& cell : cells) text += fmt::format("  {:>14}", cell);
    text += "\n";
  }
  return text;
}

std::string factorLabel(const Configuration& configuration) {
  return fmt::format("factor {:>2}", configuration.value("factor", 0));
}

std::string secondsCell(const TunedConfiguration& result) {
  if (!result.median) return std::string(measureStatusName(result.status));
  return fmt::format("{:.4f} ms (IQR {:.4f})", *result.median * 1e3, result.spread.value_or(0) * 1e3);
}

std::vector<std::optional<int>> predictedFactors(const KernelRun& run) {
  std::vector<std::optional<int>> factors;
  for (const auto& choice : run.predicted)
    factors.push_back(choice ? std::optional<int>(choice->factor) : std::nullopt);
  return factors;
}

/// The report of one measured program, as text and JSON.
void cudaReport(const CudaProgramRun& program, std::string& text, nlohmann::json& json) {
  const std::optional<FactorChoice>& predicted = program.predicted;
  const TuningResult& result = program.result;
  json = {{"file", program.file.string()},
          {"kernel", program.kernel},
          {"session", result.sessionId},
          {"results", nlohmann::json::array()},
          {"refused", nlohmann::json::array()}};
  text += fmt::format("{} {}: session {}{}", program.file.string(), program.kernel, result.sessionId,
                      result.resumed ? " (resumed)" : "");
  if (predicted) {
    json["predicted"] = predicted->factor;
    text += fmt::format(", predicted factor {}", predicted->factor);
  }
  text += "\n";
  for (const TunedConfiguration& measured : result.results) {
    nlohmann::json entry = tunedConfigurationJson(measured);
    const auto factor = measured.configuration.value("factor", 0);
    auto chosen = std::find_if(program.factors.begin(), program.factors.end(),
                               [&](const CudaFactor& f) { return static_cast<int>(f.factor) == factor; });
    if (chosen != program.factors.end()) entry["kernel"] = chosen->kernel;
    json["results"].push_back(std::move(entry));
    text +=
        fmt::format("  {}  {:<28} {}{}\n", factorLabel(measured.configuration), secondsCell(measured),
                    speedupText(measured), measured.message.empty() ? "" : "  (" + measured.message + ")");
  }
  for (const CudaFactor& factor : program.factors) {
    if (factor.refusal.empty()) continue;
    json["refused"].push_back(
        {{"factor", factor.factor}, {"reason", factor.refusal}, {"message", factor.refusalMessage}});
    text += fmt::format("  factor {:>2}  refused: {}\n", factor.factor, factor.refusalMessage);
  }
  if (result.best) {
    const TunedConfiguration& best = result.results[*result.best];
    json["best"] = best.configuration.value("factor", 1);
    text += fmt::format("  best: factor {}, {:.3f}x over factor 1\n", best.configuration.value("factor", 1),
                        best.speedup.value_or(1.0));
  } else {
    text += "  no factor ran correctly\n";
  }
}

}  // namespace

std::string textReport(const PredictOutcome& outcome) {
  std::string text;
  for (const FactorAnswer& answer : outcome.answers) {
    const CoarsenPlatform& platform = kPlatforms[answer.platform];
    text += fmt::format("{}  {}  {:<7} ({})  factor {:>2}  probability {:.3f}\n", answer.file, answer.kernel,
                        platform.name, platform.hardware, answer.choice.factor, answer.choice.probability);
  }
  return text;
}

nlohmann::json toJson(const PredictOutcome& outcome) {
  nlohmann::json list = nlohmann::json::array();
  for (const FactorAnswer& answer : outcome.answers) {
    const CoarsenPlatform& platform = kPlatforms[answer.platform];
    list.push_back({{"file", answer.file},
                    {"kernel", answer.kernel},
                    {"platform", platform.name},
                    {"hardware", platform.hardware},
                    {"factor", answer.choice.factor},
                    {"probability", answer.choice.probability}});
  }
  return list;
}

std::string variantTable(const std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                         const std::vector<std::optional<int>>& predicted) {
  std::string text;
  for (std::size_t d = 0; d < devices.size(); ++d) {
    const OpenClDevice& device = devices[d];
    text += fmt::format("  device {}:{}  {:<4} {}\n", device.platformIndex, device.deviceIndex, device.type,
                        device.name);
    text += fmt::format("    {:>6}  {:<14}  {:>12}  {:>8}\n", "factor", "status", "kernel", "speedup");
    const std::map<int, double> speedup = speedups(variants, d);
    std::string lastReason;
    int lastRefused = 0;
    for (const Variant& variant : variants) {
      if (variant.refusal) {
        // The transform's reasons hold for every factor: said once, then referred to.
        const std::string reason =
            fmt::format("({}) {}", variant.refusalCode, variant.refusal->substr(0, 200));
        text += fmt::format("    {:>6}  {:<14}  {}\n", variant.factor, "refused",
                            reason == lastReason ? fmt::format("as factor {}", lastRefused) : reason);
        if (reason != lastReason) lastRefused = variant.factor;
        lastReason = reason;
        continue;
      }
      if (variant.overBudget) {
        text += fmt::format("    {:>6}  {:<14}  not measured (--budget)\n", variant.factor, "skipped");
        continue;
      }
      if (variant.devices.size() <= d) continue;
      const DeviceRunResult& result = variant.devices[d];
      if (!variant.measured[d]) {
        text += fmt::format("    {:>6}  {:<14}  {}\n", variant.factor, "skipped", result.message);
        continue;
      }
      auto found = speedup.find(variant.factor);
      text +=
          fmt::format("    {:>6}  {:<14}  {:>12}  {:>8}\n", variant.factor, measureStatusName(result.status),
                      result.status == MeasureStatus::kOk ? formatSeconds(result.medianKernelSeconds) : "-",
                      found != speedup.end() ? fmt::format("{:.2f}x", found->second) : "-");
      if (result.status != MeasureStatus::kOk && !result.message.empty()) {
        text += fmt::format("            {}\n", result.message.substr(0, 300));
      }
    }
    std::optional<int> best = bestFactor(speedup);
    if (!best) {
      text += "    best factor: none (factor 1 did not run ok)\n";
      continue;
    }
    text += fmt::format("    best factor {} ({:.2f}x)", *best, speedup.at(*best));
    if (d < predicted.size() && predicted[d]) {
      const int p = *predicted[d];
      auto found = speedup.find(p);
      if (p == *best) {
        text += fmt::format("; the predicted factor {} was the best", p);
      } else if (found != speedup.end()) {
        text += fmt::format("; the predicted factor {} was not the best ({:.2f}x)", p, found->second);
      } else {
        text += fmt::format("; the predicted factor {} has no ok measurement", p);
      }
    }
    text += "\n";
  }
  return text;
}

nlohmann::json variantsJson(const std::vector<Variant>& variants, const std::vector<OpenClDevice>& devices,
                            const std::vector<std::optional<int>>& predicted) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t d = 0; d < devices.size(); ++d) {
    const std::map<int, double> speedup = speedups(variants, d);
    nlohmann::json factors = nlohmann::json::array();
    for (const Variant& variant : variants) {
      nlohmann::json entry = {{"factor", variant.factor}, {"kernel", variant.kernel}};
      if (variant.refusal) {
        entry["status"] = "refused";
        entry["refusal"] = variant.refusalCode;
        entry["message"] = *variant.refusal;
      } else if (variant.overBudget) {
        entry["status"] = "skipped";
      } else if (variant.devices.size() > d && variant.measured[d]) {
        const DeviceRunResult& result = variant.devices[d];
        entry["status"] = measureStatusName(result.status);
        if (result.status == MeasureStatus::kOk) {
          entry["median_kernel_s"] = result.medianKernelSeconds;
          entry["iqr_kernel_s"] = result.iqrKernelSeconds;
          entry["repetitions"] = result.kernelSeconds.size();
        }
        if (!result.message.empty()) entry["message"] = result.message;
        if (auto found = speedup.find(variant.factor); found != speedup.end())
          entry["speedup"] = found->second;
        entry["global"] = variant.plan->globalSize;
        entry["local"] = variant.plan->localSize;
      } else {
        entry["status"] = "skipped";
      }
      factors.push_back(std::move(entry));
    }
    std::optional<int> best = bestFactor(speedup);
    nlohmann::json device = {
        {"device_index", fmt::format("{}:{}", devices[d].platformIndex, devices[d].deviceIndex)},
        {"name", devices[d].name},
        {"type", devices[d].type},
        {"factors", factors},
        {"best_factor", best ? nlohmann::json(*best) : nlohmann::json(nullptr)}};
    if (d < predicted.size() && predicted[d]) {
      device["predicted_factor"] = *predicted[d];
      device["predicted_best"] = best ? nlohmann::json(*best == *predicted[d]) : nlohmann::json(nullptr);
    }
    list.push_back(std::move(device));
  }
  return list;
}

std::string textReport(const RunReport& report) {
  std::string text;
  for (const KernelRun& run : report.runs) {
    text += fmt::format("{}  {}\n", run.file, run.kernel);
    if (run.plan) {
      text += fmt::format("  launch      global {}, local {}; dimension {}, {}\n",
                          formatSizes(run.plan->globalSize), formatSizes(run.plan->localSize), report.dimension,
                          coarsenModeName(report.mode));
    }
    if (!run.predicted.empty() && !report.modelId.empty()) {
      std::set<std::string> lines;
      for (const auto& choice : run.predicted) {
        if (choice) lines.insert(fmt::format("factor {}, probability {:.3f}", choice->factor, choice->probability));
      }
      text += fmt::format("  prediction  {} (heads {})\n", fmt::join(lines, "; "), report.modelId);
    }
    if (run.error) {
      text += fmt::format("  not run: {}\n", run.error->message());
    } else {
      text += variantTable(run.variants, report.devices, predictedFactors(run));
    }
  }
  return text;
}

nlohmann::json toJson(const RunReport& report) {
  nlohmann::json list = nlohmann::json::array();
  for (const KernelRun& run : report.runs) {
    nlohmann::json entry = {{"file", run.file},
                            {"kernel", run.kernel},
                            {"dimension", report.dimension},
                            {"mode", coarsenModeName(report.mode)}};
    if (run.plan) {
      entry["global"] = run.plan->globalSize;
      entry["local"] = run.plan->localSize;
    }
    if (!run.predicted.empty() && !report.modelId.empty()) {
      nlohmann::json predictions = nlohmann::json::array();
      for (std::size_t d = 0; d < run.predicted.size(); ++d) {
        if (!run.predicted[d]) continue;
        predictions.push_back({{"device", report.devices[d].name},
                               {"factor", run.predicted[d]->factor},
                               {"probability", run.predicted[d]->probability}});
      }
      entry["prediction"] = {{"model", report.modelId}, {"per_device", predictions}};
    }
    if (run.error) {
      entry["error"] = run.error->message();
    } else {
      entry["devices"] = variantsJson(run.variants, report.devices, predictedFactors(run));
    }
    list.push_back(std::move(entry));
  }
  return list;
}

std::string textReport(const CollectReport& report, bool ingested) {
  std::vector<std::tuple<std::string, std::int64_t, std::vector<std::string>>> rows;
  for (const CollectedLaunch& launch : report.launches) {
    std::vector<std::string> cells;
    for (std::size_t d = 0; d < report.devices.size(); ++d) {
      const bool elsewhere = !launch.variants.empty() && launch.variants.front().measured.size() > d &&
                             !launch.variants.front().measured[d];  // measured on another machine's devices
      cells.push_back(launch.variants.empty() ? std::string("error")
                      : elsewhere             ? std::string("-")
                                              : collectCell(launch.variants, d));
    }
    rows.emplace_back(launch.kernel, launch.n, std::move(cells));
  }
  std::string text = collectTable(report.devices, rows);
  if (ingested) {
    std::vector<std::string> platforms;
    for (const IngestedPlatform& platform : report.platforms) {
      platforms.push_back(
          platform.sessionId != 0
              ? fmt::format("session {}, platform {}", platform.sessionId, platform.fingerprint)
              : fmt::format("no new session, platform {}", platform.fingerprint));
    }
    if (report.platforms.empty()) {
      platforms.push_back(
          report.platformFingerprint.empty()
              ? std::string("nothing measured yet")
              : fmt::format("session {}, platform {}", report.sessionId, report.platformFingerprint));
    }
    text += fmt::format("# {} of {} measurements ok, recorded in {} ({})\n", report.ok, report.total,
                        report.databasePath, fmt::join(platforms, "; "));
    if (report.ingest) text += "# " + ingestCountsText(report.ingestedFolder, *report.ingest) + "\n";
  } else {
    text += fmt::format("# {} of {} measurements ok, recorded in {} (session {})\n", report.ok, report.total,
                        report.databasePath, report.sessionId);
  }
  return text;
}

std::string exportText(const fs::path& folder, const ExportSummary& summary) {
  const std::string name = folder.string();
  return fmt::format(
      "{}: {} plans for {} kernel launches; run `sh {}/run-all.sh path/to/mirtune-run` there, then `mirtune "
      "coarsen collect --ingest {}`\n",
      name, summary.plans, summary.launches, name, name);
}

std::string textReport(const CudaProgramRun& run) {
  std::string text;
  nlohmann::json json;
  cudaReport(run, text, json);
  return text;
}

nlohmann::json toJson(const CudaProgramRun& run) {
  std::string text;
  nlohmann::json json;
  cudaReport(run, text, json);
  return json;
}

std::string textReport(const CudaRunReport& report) {
  std::string text;
  for (const CudaProgramRun& run : report.programs) text += textReport(run);
  return text;
}

nlohmann::json toJson(const CudaRunReport& report) {
  nlohmann::json list = nlohmann::json::array();
  for (const CudaProgramRun& run : report.programs) list.push_back(toJson(run));
  return list;
}

std::string textReport(const CudaIngestReport& report) {
  std::string text;
  for (const CudaProgramRun& run : report.programs) text += textReport(run);
  for (const PlatformRecord& platform : report.platforms) {
    text += fmt::format(
        "stored as platform {} ({}{})\n", platform.fingerprint.substr(0, 12), platform.cpuModel,
        platform.gpu.is_array() && !platform.gpu.empty() ? ", " + platform.gpu[0].value("name", std::string())
                                                         : std::string());
  }
  text += ingestCountsText(report.folder, report.counts) + "\n";
  return text;
}

nlohmann::json toJson(const CudaIngestReport& report) {
  nlohmann::json list = nlohmann::json::array();
  for (const CudaProgramRun& run : report.programs) list.push_back(toJson(run));
  return list;
}

std::string exportText(const CudaExportSummary& summary) {
  const std::string folder = summary.folder.string();
  return fmt::format(
      "{}: {} programs, {} factors in all; run `sh {}/run-all.sh path/to/mirtune-run` on the GPU machine "
      "(nvcc on its PATH or in /usr/local/cuda/bin), then `mirtune coarsen --ingest {}`\n",
      folder, summary.programs, summary.measurements, folder, folder);
}

std::string predictionsCsv(const EvaluationReport& report) {
  const CoarsenData& data = report.data;
  std::string csv =
      "platform,kernel,oracle_factor,predicted_factor,clipped_factor,probability,speedup,oracle_speedup\n";
  for (std::size_t i = 0; i < report.platforms.size(); ++i) {
    const std::size_t p = report.platforms[i];
    for (std::size_t k = 0; k < data.kernels.size(); ++k) {
      const CoarsenKernel& kernel = data.kernels[k];
      int predicted = report.result.predicted[i][k];
      csv += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{:.6f}\n", kPlatforms[p].name, csvField(kernel.name),
                         kernel.oracleFactor[p], predicted, kernel.clip(p, predicted),
                         report.result.probability[i][k], kernel.speedup(p, predicted), kernel.oracleSpeedup(p));
    }
  }
  return csv;
}

nlohmann::json toJson(const EvaluationReport& evaluation) {
  const EvaluationRequest& options = evaluation.request;
  nlohmann::json report = evaluation.result.toJson(evaluation.data);
  report["kernels"] = evaluation.data.kernels.size();
  report["features"] = options.features;
  report["method"] = options.method;
  report["magni_features"] = options.magni;
  report["form"] = options.method == "classifier" ? nlohmann::json(options.form) : nlohmann::json(nullptr);
  report["pooling"] = options.method == "classifier" ? nlohmann::json(options.pooling) : nlohmann::json(nullptr);
  report["ir"] = options.ir;
  report["heads"] = options.candidates.empty() ? options.headKind : options.candidates;
  report["inner_folds"] = options.innerFolds;
  report["encoder"] = evaluation.encoderId;
  report["kernels_using_ll_file"] = evaluation.kernelsUsingLlFile;
  report["held_out_together"] = evaluation.heldOutTogether;
  return report;
}

std::string textReport(const EvaluationReport& evaluation) {
  const EvaluationRequest& options = evaluation.request;
  const std::vector<std::size_t>& platforms = evaluation.platforms;
  const std::vector<std::string>& shared = evaluation.heldOutTogether;
  const EvalResult& result = evaluation.result;
  std::string text = fmt::format(
      "thread coarsening, leave-one-kernel-out over {} kernels; held out together as one program: {}\n"
      "features {}{} (IR from {}; {} kernels use the data set's .ll), method {}, encoder {}\n"
      "mean speedup over coarsening factor 1 (arithmetic mean over kernels, as published)\n\n",
      evaluation.data.kernels.size(), shared.empty() ? "none" : fmt::format("{}", fmt::join(shared, "; ")),
      options.features, options.magni ? " + Magni PCA1..PCA7" : "", options.ir, evaluation.kernelsUsingLlFile,
      options.method == "classifier"
          ? fmt::format("classifier (head form {}, {}, heads {})", options.form, options.pooling,
                        options.candidates.empty() ? options.headKind : options.candidates)
          : options.method + " (chosen by inner cross-validation per fold)",
      evaluation.encoderId);
  text += "| method |";
  for (std::size_t p : platforms) text += fmt::format(" {} |", kPlatforms[p].column);
  text += platforms.size() > 1 ? " mean |\n|---|" : "\n|---|";
  for (std::size_t i = 0; i < platforms.size() + (platforms.size() > 1 ? 1 : 0); ++i) text += "---|";
  text += "\n";
  for (const PublishedRow& row : kPublished) {
    text += fmt::format("| {} (published) |", row.method);
    for (std::size_t p : platforms) text += fmt::format(" {:.3f} |", row.speedup[p]);
    text += platforms.size() > 1 ? fmt::format(" {:.3f} |\n", row.mean) : "\n";
  }
  text += "| **mirtune** |";
  for (const Score& score : result.scores) text += fmt::format(" **{:.3f}** |", score.meanSpeedup);
  text += platforms.size() > 1 ? fmt::format(" **{:.3f}** |\n", result.meanSpeedup) : "\n";
  text += "\n";
  for (std::size_t i = 0; i < platforms.size(); ++i) {
    const Score& score = result.scores[i];
    text += fmt::format(
        "{:<8} speedup {:.3f}  geomean {:.3f}  oracle {:.3f}  {:.1f}% of oracle  best factor for {}/{}"
        "  with an oracle guard {:.3f}\n",
        kPlatforms[platforms[i]].name, score.meanSpeedup, score.geomeanSpeedup, score.oracleSpeedup,
        100 * score.fractionOfOracle, score.optimal, score.kernels, score.guardedSpeedup);
  }
  text +=
      "(oracle guard: factor 1 wherever the predicted factor is slower; no detector of harmful coarsening on "
      "top of "
      "these predictions can do better)\n";
  return text;
}

}  // namespace mirtune::coarsen
