// The measurement log and launch helpers of the commands that run OpenCL kernels on this machine's devices.
#include "cli/DeviceRuns.h"

#include "tasks/common/DatabaseCache.h"

#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <regex>

namespace mirtune::cli {

namespace fs = std::filesystem;

std::string formatSeconds(double seconds) {
  if (seconds >= 1) return fmt::format("{:.3f} s", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.3f} ms", seconds * 1e3);
  return fmt::format("{:.1f} us", seconds * 1e6);
}

std::string formatSizes(const std::vector<std::uint64_t>& sizes) {
  return sizes.empty() ? std::string("driver's choice") : fmt::format("{}", fmt::join(sizes, "x"));
}

std::string deviceIndex(const DeviceRunResult& device) {
  return fmt::format("{}:{}", device.platformIndex, device.deviceIndex);
}

std::string nameTheSource(const std::string& text, const std::string& file) {
  static const std::regex temporary(R"([^\s:'"]*tempfile_[A-Za-z0-9]+\.cl)");
  return std::regex_replace(text, temporary, file);
}

std::vector<DeviceRunResult> failedOnEvery(const std::vector<OpenClDevice>& devices, MeasureStatus status,
                                           const std::string& message) {
  std::vector<DeviceRunResult> results;
  for (const OpenClDevice& device : devices) {
    DeviceRunResult result = deviceRunResultFor(device);
    result.status = status;
    result.message = message;
    results.push_back(std::move(result));
  }
  return results;
}

Expected<std::map<std::string, std::string>> parseScalarArguments(const std::vector<std::string>& args) {
  std::map<std::string, std::string> values;
  for (const std::string& arg : args) {
    auto equals = arg.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == arg.size()) {
      return makeError(ErrorCode::kUsage, "--arg '{}': expected NAME=VALUE, e.g. --arg n=1024", arg);
    }
    values[arg.substr(0, equals)] = arg.substr(equals + 1);
  }
  return values;
}

std::string runnerBuildOptions(const CompileOptions& compile) {
  std::vector<std::string> options;
  for (const std::string& define : compile.defines) options.push_back("-D" + define);
  for (const std::string& include : compile.includeDirectories) options.push_back("-I" + include);
  return fmt::format("{}", fmt::join(options, " "));
}

Expected<std::vector<std::size_t>> parseSizeIndices(const std::string& text) {
  std::vector<std::size_t> indices;
  if (text == "all") return indices;  // empty = every size
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) {
      return makeError(ErrorCode::kUsage, "--sizes '{}': expected all or comma-separated indices such as 0,2",
                       text);
    }
    if (item.size() > 9) {
      return makeError(ErrorCode::kUsage, "--sizes '{}': size index {} is out of range", text, item);
    }
    indices.push_back(static_cast<std::size_t>(std::stoul(item)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return indices;
}

Status Recorder::open(const GlobalOptions& global, const std::string& command, const nlohmann::json& options,
                      const std::vector<std::string>& modelIds) {
  auto opened = Database::open(resolveDatabasePath(global));
  if (!opened) return opened.error();
  database.emplace(std::move(*opened));
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  PlatformInfo info = probePlatform(probe);
  fingerprint = info.fingerprint;
  auto platform = database->upsertPlatform(platformRecordFromProbe(info));
  if (!platform) return platform.error();
  platformId = *platform;
  SessionRecord session;
  session.toolVersion = toolVersion();
  session.gitCommit = gitCommit();
  session.command = command;
  session.options = options;
  session.modelIds = modelIds;
  session.platformId = platformId;
  auto id = database->beginSession(session);
  if (!id) return id.error();
  sessionId = *id;
  return {};
}

std::optional<std::int64_t> Recorder::workload(const fs::path& file, const std::string& irSha256) {
  const std::string path = fs::absolute(file).lexically_normal().string();
  if (auto known = workloads.find(path); known != workloads.end()) return known->second;
  auto content = sha256File(path);
  if (!content) {
    keep(content.error());
    return std::nullopt;
  }
  WorkloadRecord record{0, *content, std::nullopt, "opencl", path, {}};
  if (!irSha256.empty()) record.irSha256 = irSha256;
  auto id = database->upsertWorkload(record);
  if (!id) {
    keep(id.error());
    return std::nullopt;
  }
  workloads[path] = *id;
  return *id;
}

void Recorder::measurement(std::int64_t workloadId, const std::string& task, nlohmann::json configuration,
                           const DeviceRunResult& device, TimeBasis basis) {
  configuration["device"] = device.name;
  configuration["device_type"] = device.type;
  configuration["device_index"] = deviceIndex(device);
  MeasurementRecord record;
  record.sessionId = sessionId;
  record.workloadId = workloadId;
  record.platformId = platformId;
  record.task = task;
  record.configuration = std::move(configuration);
  record.status = device.status;
  const bool kernel = basis == TimeBasis::kKernel;
  record.timesSeconds = kernel ? device.kernelSeconds : device.totalSeconds;
  if (!record.timesSeconds.empty()) {
    record.medianSeconds = kernel ? device.medianKernelSeconds : device.medianTotalSeconds;
    record.spreadSeconds = kernel ? device.iqrKernelSeconds : device.iqrTotalSeconds;
  }
  if (device.status != MeasureStatus::kOk) {
    std::string excerpt = device.message;
    if (!device.buildLog.empty() && excerpt.find(device.buildLog) == std::string::npos) {
      excerpt += "\n" + device.buildLog;
    }
    if (!device.standardError.empty() && excerpt.find(device.standardError) == std::string::npos) {
      excerpt += "\n" + device.standardError;
    }
    record.stderrExcerpt = excerpt;
  }
  if (auto stored = database->insertMeasurement(record); !stored) keep(stored.error());
}

void Recorder::keep(const Error& error) {
  if (firstError) return;
  logWarn("database: {}", error.message());
  firstError = notAllRecorded(error, "results");
}

bool Recorder::end() {
  if (database && sessionId != 0) {
    if (auto ended = database->endSession(sessionId); !ended) keep(ended.error());
  }
  if (firstError) logError("{}", firstError->message());
  return !firstError;
}

}  // namespace mirtune::cli
