// The JSON forms and text reports of the device-mapping results.
#include "tasks/devmap/Reports.h"

#include "support/Csv.h"
#include "tasks/devmap/Features.h"
#include "tasks/common/LaunchText.h"
#include "tuner/OpenClMeasurer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace mirtune::devmap {

namespace {

nlohmann::json deviceJson(const DeviceRunResult& device) {
  nlohmann::json json = {{"device_index", deviceIndex(device)},
                         {"platform", device.platformName},
                         {"name", device.name},
                         {"type", device.type},
                         {"status", measureStatusName(device.status)},
                         {"repetitions", device.totalSeconds.size()}};
  if (!device.totalSeconds.empty()) {
    json["median_kernel_s"] = device.medianKernelSeconds;
    json["iqr_kernel_s"] = device.iqrKernelSeconds;
    json["median_total_s"] = device.medianTotalSeconds;
    json["iqr_total_s"] = device.iqrTotalSeconds;
  }
  if (!device.message.empty()) json["message"] = device.message;
  if (!device.buildLog.empty()) json["build_log"] = device.buildLog;
  return json;
}

// Each line of a message, indented under its kernel.
std::string indent(const std::string& message) {
  std::string out;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    if (end > start) out += "      " + message.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string deviceLine(const DeviceRunResult& device) {
  std::string line = fmt::format("  device {}  {:<4} {}  {}", deviceIndex(device), device.type, device.name,
                                 measureStatusName(device.status));
  if (!device.totalSeconds.empty()) {
    line += fmt::format("  kernel {}  with transfers {}  IQR {}  {} repetitions",
                        formatSeconds(device.medianKernelSeconds), formatSeconds(device.medianTotalSeconds),
                        formatSeconds(device.iqrTotalSeconds), device.totalSeconds.size());
  }
  line += "\n";
  if (device.status != MeasureStatus::kOk && !device.message.empty()) line += indent(device.message);
  if (!device.buildLog.empty() && device.message.find(device.buildLog) == std::string::npos) {
    line += indent(device.buildLog);
  }
  return line;
}

template <typename T>
nlohmann::json optionalJson(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json predictionsJson(const std::vector<KernelPrediction>& predictions, const std::string& platform) {
  nlohmann::json list = nlohmann::json::array();
  for (const KernelPrediction& prediction : predictions) {
    if (prediction.error) continue;
    list.push_back({{"file", prediction.file},
                    {"kernel", prediction.kernel},
                    {"device", deviceName(prediction.device)},
                    {"probability", chosenProbability(prediction)},
                    {"platform", platform},
                    {"transfer", prediction.transferBytes},
                    {"wgsize", prediction.wgsize}});
  }
  return list;
}

std::string predictionsText(const std::vector<KernelPrediction>& predictions) {
  std::string text;
  for (const KernelPrediction& prediction : predictions) {
    if (prediction.error) continue;
    text += fmt::format("{}  {}  {}  probability {:.3f}\n", prediction.file, prediction.kernel,
                        deviceName(prediction.device), chosenProbability(prediction));
  }
  return text;
}

std::string predictionAssumptions(const std::string& platform, double transfer, bool defaultTransfer, double wgsize,
                                  bool defaultWgsize) {
  std::string hardware = platform;
  for (const DevmapPlatform& known : kPlatforms) {
    if (known.name == platform) hardware = fmt::format("{}: Intel Core i7-3820 vs {}", known.name, known.hardware);
  }
  return fmt::format("platform {}; transfer {:.0f} bytes{}; work-group size {:.0f}{}\n", hardware, transfer,
                     defaultTransfer ? " (default: the data set's median, set --transfer)" : "", wgsize,
                     defaultWgsize ? " (default, set --wgsize)" : "");
}

Expected<std::vector<KernelQuery>> readKernelQueries(const std::string& path) {
  auto table = CsvTable::read(path);
  if (!table) return table.error();
  auto fileColumn = table->requireColumn("file");
  if (!fileColumn) return fileColumn.error();
  auto kernelColumn = table->column("kernel");
  auto transferColumn = table->column("transfer");
  auto wgsizeColumn = table->column("wgsize");
  std::vector<KernelQuery> queries;
  for (std::size_t r = 0; r < table->rows(); ++r) {
    KernelQuery query{table->record(r)[*fileColumn], kernelColumn ? table->record(r)[*kernelColumn] : "",
                      kDefaultTransferBytes, kDefaultWgsize};
    for (auto [column, target] : {std::pair{transferColumn, &query.transferBytes}, std::pair{wgsizeColumn, &query.wgsize}}) {
      if (!column || table->record(r)[*column].empty()) continue;
      auto value = table->number(r, *column);
      if (!value) return value.error();
      if (!std::isfinite(*value) || *value < 0) {
        return makeError(ErrorCode::kInvalidInput, "{}: row {}: '{}' must be a finite number >= 0", path, r + 1,
                         table->record(r)[*column]);
      }
      *target = *value;
    }
    queries.push_back(std::move(query));
  }
  return queries;
}

std::string predictionsCsv(const std::vector<KernelPrediction>& predictions) {
  std::string out = "file,kernel,transfer,wgsize,device,probability,error\n";
  for (const KernelPrediction& prediction : predictions) {
    out += fmt::format("{},{},{:.0f},{:.0f},", csvField(prediction.file), csvField(prediction.kernel),
                       prediction.transferBytes, prediction.wgsize);
    if (prediction.error) {
      out += ",," + csvField(prediction.error->message()) + "\n";
    } else {
      out += fmt::format("{},{:.6f},\n", deviceName(prediction.device), chosenProbability(prediction));
    }
  }
  return out;
}

nlohmann::json toJson(const RunReport& report, const RunRequest& request) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t r = 0; r < report.runs.size(); ++r) {
    const KernelRun& run = report.runs[r];
    const Verdict& verdict = report.verdicts[r];
    nlohmann::json prediction = nullptr;
    if (run.prediction && !run.prediction->error) {
      const KernelPrediction& p = *run.prediction;
      prediction = {{"device", deviceName(p.device)},
                    {"probability", chosenProbability(p)},
                    {"gpu_probability", p.gpuProbability},
                    {"platform", request.setup.platform},
                    {"model", report.modelId},
                    {"transfer", p.transferBytes},
                    {"wgsize", p.wgsize}};
    }
    nlohmann::json devicesJson = nlohmann::json::array();
    for (const DeviceRunResult& device : run.devices) devicesJson.push_back(deviceJson(device));
    nlohmann::json entry = {
        {"file", run.file},
        {"kernel", run.kernel},
        {"launch",
         {{"global", run.plan ? run.plan->globalSize : request.globalSize},
          {"local", run.plan ? run.plan->localSize : request.localSize},
          {"transfer", run.transferBytes},
          {"args", run.plan ? nlohmann::json(scalarArguments(*run.plan)) : nlohmann::json::array()}}},
        {"prediction", prediction},
        {"devices", devicesJson},
        {"outputs_agree", optionalJson(verdict.outputsAgree)},
        {"measured_best",
         verdict.measuredBest ? nlohmann::json(deviceName(*verdict.measuredBest)) : nlohmann::json(nullptr)},
        {"prediction_correct", optionalJson(verdict.correct)},
        {"check", verdict.check}};
    if (run.prediction && run.prediction->error) {
      entry["prediction_error"] = run.prediction->error->message();
    } else if (!run.prediction && !report.modelError.empty()) {
      entry["prediction_error"] = report.modelError;
    }
    if (run.error) entry["error"] = run.error->message();
    list.push_back(std::move(entry));
  }
  return list;
}

std::string textReport(const RunReport& report, const RunRequest& request) {
  std::string text;
  for (std::size_t r = 0; r < report.runs.size(); ++r) {
    const KernelRun& run = report.runs[r];
    const Verdict& verdict = report.verdicts[r];
    text += fmt::format("{}  {}\n", run.file, run.kernel.empty() ? "(every kernel)" : run.kernel);
    if (run.plan) {
      std::vector<std::string> args = scalarArguments(*run.plan);
      text += fmt::format("  launch      global {}, local {}; {:.0f} bytes moved per launch (in + out){}\n",
                          formatSizes(run.plan->globalSize), formatSizes(run.plan->localSize), run.transferBytes,
                          args.empty() ? "" : fmt::format("; {}", fmt::join(args, " ")));
    }
    if (run.prediction && !run.prediction->error) {
      const KernelPrediction& p = *run.prediction;
      text += fmt::format("  prediction  {}, probability {:.3f} (platform {}; transfer {:.0f} bytes, work-group {:.0f})\n",
                          deviceName(p.device), chosenProbability(p), request.setup.platform, p.transferBytes,
                          p.wgsize);
    } else if (run.prediction && run.prediction->error) {
      text += fmt::format("  prediction  none: {}\n", run.prediction->error->message());
    } else if (!run.buildFailed && !report.modelError.empty()) {
      text += fmt::format("  prediction  none: {}\n", report.modelError);
    }
    if (run.buildFailed) {
      text += fmt::format("  build_failed on every device:\n");
      for (const DeviceRunResult& device : run.devices) {
        text += fmt::format("  device {}  {:<4} {}  build_failed\n", deviceIndex(device), device.type, device.name);
      }
      text += indent(run.error->message());
      continue;
    }
    if (run.error) {
      text += "  not run:\n" + indent(run.error->message());
      continue;
    }
    for (const DeviceRunResult& device : run.devices) text += deviceLine(device);
    text += fmt::format("  outputs     {}\n", verdict.outputs);
    text += fmt::format("  measured    {}\n", verdict.check);
  }
  return text;
}

std::string textReport(const CollectReport& report) {
  // The table: kernel, N, then per device its median time with transfers (or the failure).
  std::size_t kernelWidth = 6;
  for (const CollectRow& row : report.rows) kernelWidth = std::max(kernelWidth, row.kernel.size());
  std::string text;
  for (const OpenClDevice& device : report.devices) {
    text += fmt::format("# device {}:{} {} {}\n", device.platformIndex, device.deviceIndex, device.type, device.name);
  }
  text += fmt::format("# median time with transfers (writes + kernel + reads) per device\n");
  text += fmt::format("{:<{}}  {:>10}", "kernel", kernelWidth, "N");
  for (const OpenClDevice& device : report.devices) {
    text += fmt::format("  {:>14}", fmt::format("{}:{} {}", device.platformIndex, device.deviceIndex, device.type));
  }
  text += "\n";
  for (const CollectRow& row : report.rows) {
    text += fmt::format("{:<{}}  {:>10}", row.kernel, kernelWidth, row.n);
    for (const DeviceRunResult& device : row.devices) {
      text += fmt::format("  {:>14}", device.status == MeasureStatus::kOk ? formatSeconds(device.medianTotalSeconds)
                                                                          : std::string(measureStatusName(device.status)));
    }
    text += "\n";
  }
  text += fmt::format("# {} of {} measurements ok, recorded in {} (session {})\n", report.ok, report.total,
                      report.databasePath, report.sessionId);
  return text;
}

nlohmann::json toJson(const CollectReport& report) {
  nlohmann::json devices = nlohmann::json::array();
  for (const OpenClDevice& device : report.devices) {
    devices.push_back({{"device_index", fmt::format("{}:{}", device.platformIndex, device.deviceIndex)},
                       {"type", device.type},
                       {"name", device.name}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const CollectRow& row : report.rows) {
    nlohmann::json results = nlohmann::json::array();
    for (const DeviceRunResult& device : row.devices) results.push_back(deviceJson(device));
    rows.push_back({{"kernel", row.kernel}, {"n", row.n}, {"devices", std::move(results)}});
  }
  return {{"devices", std::move(devices)}, {"rows", std::move(rows)},          {"ok", report.ok},
          {"total", report.total},         {"database", report.databasePath}, {"session", report.sessionId}};
}

namespace {

// A code-free reference's score: accuracy, the speedups and the fraction of the oracle's mean speedup.
nlohmann::json scoreJson(const Score& score) {
  return {{"rows", score.rows},
          {"accuracy", score.accuracy},
          {"speedup", score.meanSpeedup},
          {"geomean_speedup", score.geomeanSpeedup},
          {"oracle_speedup", score.oracleMeanSpeedup},
          {"oracle_fraction", score.oracleFraction}};
}

// "accuracy  mean speedup  oracle fraction" of one cell of the side-by-side table.
std::string scoreCell(const Score& score) {
  return fmt::format("{:6.2f}% {:6.3f} {:5.1f}%", 100 * score.accuracy, score.meanSpeedup,
                     100 * score.oracleFraction);
}

// Ends the line being written without the padding of its last column.
void endLine(std::string& text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  text += "\n";
}

}  // namespace

nlohmann::json toJson(const EvalReport& report) {
  const EvalRequest& request = report.request;
  nlohmann::json splitNames = nlohmann::json::array();
  for (const SplitEvaluation& split : report.splits) splitNames.push_back(splitName(split.split));
  nlohmann::json json = {{"rows", std::stoi(request.rows)}, {"ir", request.ir},
                         {"features", request.features},    {"heads", request.headKind},
                         {"encoder", report.encoderId},     {"splits", splitNames}};
  if (report.rowsUsingLlFile) {
    json["rows_using_ll_file"] = *report.rowsUsingLlFile;
    json["source_texts_not_compiled"] = report.sourceTextsNotCompiled;
  }
  for (const SplitEvaluation& split : report.splits) {
    nlohmann::json entry = {{"outer_folds", split.folds}};
    nlohmann::json references = {{"always_cpu", nlohmann::json::object()},
                                 {"always_gpu", nlohmann::json::object()},
                                 {"best_fixed", nlohmann::json::object()}};
    for (const PlatformEvaluation& evaluation : split.platforms) {
      const std::string platform(kPlatforms[evaluation.platform].name);
      entry[platform] = evaluation.result.toJson();
      references["always_cpu"][platform] = scoreJson(evaluation.alwaysCpu);
      references["always_gpu"][platform] = scoreJson(evaluation.alwaysGpu);
      references["best_fixed"][platform] = scoreJson(evaluation.bestFixed());
      references["best_fixed"][platform]["device"] = deviceName(evaluation.bestFixedDevice());
      if (evaluation.aux) references["aux"][platform] = evaluation.aux->toJson();
    }
    entry["references"] = std::move(references);
    json[std::string(splitName(split.split))] = std::move(entry);
  }
  return json;
}

std::string textReport(const EvalReport& report) {
  const EvalRequest& request = report.request;
  std::string text = fmt::format("device mapping, {} rows, features {} (IR from {}), heads {}, encoder {}\n",
                                 request.rows, request.features, request.ir, request.headKind, report.encoderId);
  if (report.rowsUsingLlFile) {
    text += fmt::format("{} rows use the data set's .ll file ({} source texts Clang 14 does not compile)\n",
                        *report.rowsUsingLlFile, report.sourceTextsNotCompiled);
  }
  if (report.splits.empty()) return text;
  text +=
      "per split: accuracy, mean speedup over the static mapping, fraction of the oracle's mean speedup\n";
  constexpr int kLabelWidth = 26;
  text += fmt::format("{:<7} {:<{}}", "", "", kLabelWidth);
  for (const SplitEvaluation& split : report.splits) {
    text += fmt::format("  {:<23}", fmt::format("{} ({} folds)", splitName(split.split), split.folds));
  }
  endLine(text);
  // Rows: the learned heads, the auxiliary-input reference, the best fixed device and both fixed devices.
  const std::vector<PlatformEvaluation>& first = report.splits.front().platforms;
  for (std::size_t p = 0; p < first.size(); ++p) {
    const PlatformEvaluation& shape = first[p];
    std::vector<std::pair<std::string, std::function<const Score*(const PlatformEvaluation&)>>> lines;
    lines.push_back({request.features == "aux" ? "aux only (learned)" : request.features + " + aux (learned)",
                     [](const PlatformEvaluation& e) { return &e.result.score; }});
    if (shape.aux) {
      lines.push_back({"aux only (learned)",
                       [](const PlatformEvaluation& e) { return e.aux ? &e.aux->score : nullptr; }});
    }
    lines.push_back({fmt::format("best fixed device ({})", deviceName(shape.bestFixedDevice())),
                     [](const PlatformEvaluation& e) { return &e.bestFixed(); }});
    lines.push_back({"always CPU", [](const PlatformEvaluation& e) { return &e.alwaysCpu; }});
    lines.push_back({"always GPU", [](const PlatformEvaluation& e) { return &e.alwaysGpu; }});
    for (const auto& [label, scoreOf] : lines) {
      text += fmt::format("{:<7} {:<{}}", kPlatforms[shape.platform].name, label, kLabelWidth);
      for (const SplitEvaluation& split : report.splits) {
        const Score* score = p < split.platforms.size() ? scoreOf(split.platforms[p]) : nullptr;
        text += fmt::format("  {:<23}", score != nullptr ? scoreCell(*score) : std::string("-"));
      }
      endLine(text);
    }
  }
  return text;
}

std::string predictionsCsv(const EvalReport& report) {
  std::string csv = "split,platform,row,benchmark,dataset,fold,oracle,predicted,gpu_probability,speedup\n";
  for (const EvalRowPrediction& p : report.predictions) {
    csv += fmt::format("{},{},{},{},{},{},{},{},{:.6f},{:.6f}\n", splitName(p.split),
                       kPlatforms[p.platform].name, p.row, csvField(p.benchmark), csvField(p.dataset),
                       csvField(p.fold), deviceName(p.oracle), deviceName(p.predicted), p.gpuProbability,
                       p.speedup);
  }
  return csv;
}

}  // namespace mirtune::devmap
