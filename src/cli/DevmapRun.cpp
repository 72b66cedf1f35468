// `mirtune devmap FILE --run` and `devmap collect`: the reports of devmap::runKernels and devmap::collect
// (tasks/devmap/Workflows.h) as text or JSON.
#include "cli/DeviceRuns.h"
#include "cli/DevmapOptions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace mirtune::cli {

namespace {

using namespace mirtune::devmap;

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

/// Each line of a message, indented under its kernel.
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

std::string runJson(const RunReport& report, const RunRequest& request) {
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
        {"outputs_agree", verdict.outputsAgree ? nlohmann::json(*verdict.outputsAgree) : nlohmann::json(nullptr)},
        {"measured_best",
         verdict.measuredBest ? nlohmann::json(deviceName(*verdict.measuredBest)) : nlohmann::json(nullptr)},
        {"prediction_correct", verdict.correct ? nlohmann::json(*verdict.correct) : nlohmann::json(nullptr)},
        {"check", verdict.check}};
    if (run.prediction && run.prediction->error) {
      entry["prediction_error"] = run.prediction->error->message();
    } else if (!run.prediction && !report.modelError.empty()) {
      entry["prediction_error"] = report.modelError;
    }
    if (run.error) entry["error"] = run.error->message();
    list.push_back(std::move(entry));
  }
  return list.dump(2) + "\n";
}

std::string runText(const RunReport& report, const RunRequest& request) {
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

}  // namespace

int runDevmapRun(const DevmapPredictOptions& options, const GlobalOptions& global) {
  RunRequest request = options.request;
  request.setup.databasePath = resolveDatabasePath(global);
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  request.compile = *compile;
  auto report = runKernels(request);
  if (!report) return reportError(report.error());
  const int written = writeOutput(options.output, options.json ? runJson(*report, request) : runText(*report, request));
  return written != 0 ? written : report->exitStatus();
}

int runDevmapCollect(const DevmapCollectOptions& options, const GlobalOptions& global) {
  DevmapCollectOptions request = options;
  request.databasePath = resolveDatabasePath(global);
  auto report = collect(request);
  if (!report) return reportError(report.error());

  // The table: kernel, N, then per device its median time with transfers (or the failure).
  std::size_t kernelWidth = 6;
  for (const CollectRow& row : report->rows) kernelWidth = std::max(kernelWidth, row.kernel.size());
  std::string text;
  for (const OpenClDevice& device : report->devices) {
    text += fmt::format("# device {}:{} {} {}\n", device.platformIndex, device.deviceIndex, device.type, device.name);
  }
  text += fmt::format("# median time with transfers (writes + kernel + reads) per device\n");
  text += fmt::format("{:<{}}  {:>10}", "kernel", kernelWidth, "N");
  for (const OpenClDevice& device : report->devices) {
    text += fmt::format("  {:>14}", fmt::format("{}:{} {}", device.platformIndex, device.deviceIndex, device.type));
  }
  text += "\n";
  for (const CollectRow& row : report->rows) {
    text += fmt::format("{:<{}}  {:>10}", row.kernel, kernelWidth, row.n);
    for (const DeviceRunResult& device : row.devices) {
      text += fmt::format("  {:>14}", device.status == MeasureStatus::kOk ? formatSeconds(device.medianTotalSeconds)
                                                                          : std::string(measureStatusName(device.status)));
    }
    text += "\n";
  }
  text += fmt::format("# {} of {} measurements ok, recorded in {} (session {})\n", report->ok, report->total,
                      report->databasePath, report->sessionId);
  fmt::print("{}", text);
  return report->ok > 0 && report->recorded ? 0 : 1;
}

}  // namespace mirtune::cli
