// OpenCL measurements: the recorder (database session, workloads, one row per device outcome), launch
// helpers, and OpenClMeasurer, which measures here or through an exported folder.
#include "tuner/OpenClMeasurer.h"

#include "database/CanonicalJson.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Sha256.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <sstream>

namespace mirtune {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------
// OpenClRecorder

Status OpenClRecorder::open(const fs::path& databasePath, const std::string& command,
                            const nlohmann::json& options, const std::vector<std::string>& modelIds) {
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  return openFor(platformRecordFromProbe(probePlatform(probe)), databasePath, command, options, modelIds);
}

Status OpenClRecorder::openFor(const PlatformRecord& record, const fs::path& databasePath,
                               const std::string& command, const nlohmann::json& options,
                               const std::vector<std::string>& modelIds) {
  session_.modelIds = modelIds;
  if (Status opened = openForIngest(databasePath, command, options); !opened) return opened;
  if (Status used = usePlatform(record); !used) return used;
  // A session of measurements made or read now begins at once, as its command starts.
  SessionRecord session = session_;
  session.platformId = platformId_;
  auto id = database_->beginSession(session);
  if (!id) return id.error();
  platforms_[current_].sessionId = *id;
  return {};
}

Status OpenClRecorder::openForIngest(const fs::path& databasePath, const std::string& command,
                                     const nlohmann::json& options) {
  auto opened = Database::open(databasePath);
  if (!opened) return opened.error();
  database_.emplace(std::move(*opened));
  session_.toolVersion = toolVersion();
  session_.gitCommit = gitCommit();
  session_.command = command;
  session_.options = options;
  return {};
}

Status OpenClRecorder::usePlatform(const PlatformRecord& record) {
  for (std::size_t i = 0; i < platforms_.size(); ++i) {
    if (platforms_[i].fingerprint != record.fingerprint) continue;
    current_ = i;
    fingerprint_ = record.fingerprint;
    platformId_ = platforms_[i].platformId;
    return {};
  }
  auto platform = database_->upsertPlatform(record);
  if (!platform) return platform.error();
  platforms_.push_back({record.fingerprint, *platform, 0});
  current_ = platforms_.size() - 1;
  fingerprint_ = record.fingerprint;
  platformId_ = *platform;
  return {};
}

void OpenClRecorder::setIngestPlace(const std::string& exportId, const std::string& planFolder) {
  ingestPlace_ = std::make_pair(exportId, planFolder);
}

std::int64_t OpenClRecorder::sessionId() const {
  return current_ < platforms_.size() ? platforms_[current_].sessionId : 0;
}

std::int64_t OpenClRecorder::currentSession() {
  if (current_ >= platforms_.size()) {
    keep(Error(ErrorCode::kInternal, "a measurement without a platform"));
    return 0;
  }
  PlatformSession& platform = platforms_[current_];
  if (platform.sessionId != 0) return platform.sessionId;
  SessionRecord session = session_;
  session.platformId = platform.platformId;
  auto id = database_->beginSession(session);
  if (!id) {
    keep(id.error());
    return 0;
  }
  platform.sessionId = *id;
  return *id;
}

std::optional<std::int64_t> OpenClRecorder::workload(const fs::path& file, const std::string& irSha256) {
  const std::string path = fs::absolute(file).lexically_normal().string();
  if (auto known = workloads_.find(path); known != workloads_.end()) return known->second;
  auto content = sha256File(path);
  if (!content) {
    keep(content.error());
    return std::nullopt;
  }
  WorkloadRecord record{0, *content, std::nullopt, "opencl", path, {}};
  if (!irSha256.empty()) record.irSha256 = irSha256;
  auto id = database_->upsertWorkload(record);
  if (!id) {
    keep(id.error());
    return std::nullopt;
  }
  workloads_[path] = *id;
  return *id;
}

void OpenClRecorder::measurement(std::int64_t workloadId, const std::string& task, nlohmann::json configuration,
                                 const DeviceRunResult& device, TimeBasis basis) {
  MeasurementRecord record;
  if (ingestPlace_) {
    const std::string unit = fmt::format("{}/{}", canonicalJsonSha256(configuration), deviceIndex(device));
    record.ingestKey = ingestKey(ingestPlace_->first, ingestPlace_->second, unit);
    auto known = database_->hasIngestKey(*record.ingestKey);
    if (!known) {
      keep(known.error());
      return;
    }
    if (*known) {
      ++alreadyStored_;
      return;
    }
  }
  configuration["device"] = device.name;
  configuration["device_type"] = device.type;
  configuration["device_index"] = deviceIndex(device);
  record.sessionId = currentSession();
  if (record.sessionId == 0) return;
  record.workloadId = workloadId;
  record.platformId = platformId_;
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
  if (!record.ingestKey) {
    if (auto stored = database_->insertMeasurement(record); !stored) keep(stored.error());
    return;
  }
  auto stored = database_->insertMeasurementOnce(record);
  if (!stored) {
    keep(stored.error());
  } else if (stored->inserted) {
    ++storedNew_;
  } else {
    ++alreadyStored_;  // another ingest of the same folder stored it just now
  }
}

void OpenClRecorder::prediction(PredictionRecord record) {
  record.sessionId = currentSession();
  if (record.sessionId == 0) return;
  if (auto stored = database_->insertPrediction(record); !stored) keep(stored.error());
}

void OpenClRecorder::keep(const Error& error) {
  if (firstError_) return;
  logWarn("database: {}", error.message());
  firstError_ =
      Error(error.code(), fmt::format("{} (the results are not all recorded in the database)", error.message()));
}

bool OpenClRecorder::end() {
  if (database_) {
    for (const PlatformSession& platform : platforms_) {
      if (platform.sessionId == 0) continue;
      if (auto ended = database_->endSession(platform.sessionId); !ended) keep(ended.error());
    }
  }
  if (firstError_) logError("{}", firstError_->message());
  return !firstError_;
}

// ---------------------------------------------------------------------------------------------------------
// Launch helpers

std::string deviceIndex(const DeviceRunResult& device) {
  return fmt::format("{}:{}", device.platformIndex, device.deviceIndex);
}

std::string formatSeconds(double seconds) {
  if (seconds >= 1) return fmt::format("{:.3f} s", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.3f} ms", seconds * 1e3);
  return fmt::format("{:.1f} us", seconds * 1e6);
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

std::string nameTheSource(const std::string& text, const std::string& file) {
  static const std::regex temporary(R"([^\s:'"]*tempfile_[A-Za-z0-9]+\.cl)");
  return std::regex_replace(text, temporary, file);
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

std::string runnerBuildOptions(const std::vector<std::string>& defines,
                               const std::vector<std::string>& includeDirectories) {
  std::vector<std::string> options;
  for (const std::string& define : defines) options.push_back("-D" + define);
  for (const std::string& include : includeDirectories) options.push_back("-I" + include);
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

Expected<std::vector<OpenClDevice>> localOpenClDevices(const fs::path& runner) {
  auto devices = probeOpenClDevices(runner);
  if (!devices) return devices.error();
  if (devices->empty()) {
    return Error(ErrorCode::kNotFound,
                 "no OpenCL device: the ICD loader lists no platform (install an "
                 "ICD such as pocl-opencl-icd or set OCL_ICD_VENDORS)");
  }
  return devices;
}

Expected<std::vector<OpenClDevice>> exportedOpenClDevices(const fs::path& folder, const nlohmann::json& probe) {
  const fs::path listFile = folder / "devices.txt";
  const fs::path probeFile = folder / "probe.json";
  auto listText = readFile(listFile);
  if (!listText)
    return listText.error().withContext("the export was not run to its end (run-all.sh writes it last)");
  const auto textOf = [](const nlohmann::json& object, const char* key) {
    return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : std::string();
  };
  std::vector<OpenClDevice> devices;
  std::istringstream words(*listText);
  std::string word;
  while (words >> word) {
    OpenClDevice device;
    char end = '\0';
    if (std::sscanf(word.c_str(), "%d:%d%c", &device.platformIndex, &device.deviceIndex, &end) != 2 ||
        device.platformIndex < 0 || device.deviceIndex < 0) {
      return makeError(ErrorCode::kInvalidInput, "{}: '{}' is not P:D", listFile.string(), word);
    }
    const auto platforms = probe.contains("platforms") ? probe["platforms"] : nlohmann::json::array();
    const auto index = [](int i) { return static_cast<std::size_t>(i); };
    if (!platforms.is_array() || index(device.platformIndex) >= platforms.size() ||
        !platforms[index(device.platformIndex)].is_object()) {
      return makeError(ErrorCode::kInvalidInput, "{}: device {} is not one of {}", listFile.string(), word,
                       probeFile.string());
    }
    const auto& platform = platforms[index(device.platformIndex)];
    const auto list = platform.contains("devices") ? platform["devices"] : nlohmann::json::array();
    if (!list.is_array() || index(device.deviceIndex) >= list.size() ||
        !list[index(device.deviceIndex)].is_object()) {
      return makeError(ErrorCode::kInvalidInput, "{}: device {} is not one of {}", listFile.string(), word,
                       probeFile.string());
    }
    device.platformName = textOf(platform, "name");
    device.name = textOf(list[index(device.deviceIndex)], "name");
    device.type = textOf(list[index(device.deviceIndex)], "type");
    devices.push_back(std::move(device));
  }
  return devices;
}

Expected<PlatformRecord> exportedOpenClPlatform(const fs::path& folder) {
  nlohmann::json remote;
  auto exported = exportedPlatform(folder, &remote);
  if (!exported) return exported.error();
  auto probeText = readFile(folder / "probe.json");
  if (!probeText) return probeText.error();
  const nlohmann::json probe = nlohmann::json::parse(*probeText, nullptr, false);
  if (!probe.is_object()) {
    return makeError(ErrorCode::kInvalidInput, "{}: not the runner's probe JSON", (folder / "probe.json").string());
  }
  PlatformRecord platform = *exported;
  platform.openclDevices = probe;
  platform.fingerprint = canonicalJsonSha256({{"machine", remote}, {"opencl", probe}});
  return platform;
}

Expected<std::optional<OpenClMachineRecords>> exportedOpenClMachine(const fs::path& exported,
                                                                    const fs::path& item) {
  const fs::path folder = machineRecordFolder(exported, item);
  std::error_code error;
  // Neither a campaign task nor run-all.sh recorded a machine yet: no results to read.
  if (!fs::exists(folder / kPlatformRecordFile, error)) return std::optional<OpenClMachineRecords>();
  // devices.txt is written after every plan ran: without it the run did not get to its end (yet). A machine
  // record that is there is checked, finished or not (exportedOpenClPlatform checks it for a finished run).
  if (!fs::exists(folder / "devices.txt", error)) {
    if (auto machine = exportedPlatform(folder); !machine) return machine.error();
    return std::optional<OpenClMachineRecords>();
  }
  OpenClMachineRecords records;
  records.folder = folder;
  auto platform = exportedOpenClPlatform(folder);
  if (!platform) return platform.error();
  records.platform = std::move(*platform);
  auto devices = exportedOpenClDevices(folder, records.platform.openclDevices);
  if (!devices) return devices.error();
  records.devices = std::move(*devices);
  return std::optional<OpenClMachineRecords>(std::move(records));
}

bool anyMachineRecord(const fs::path& exported) {
  std::error_code error;
  if (fs::exists(exported / kPlatformRecordFile, error)) return true;
  for (fs::directory_iterator entry(exported, error), end; !error && entry != end; entry.increment(error)) {
    if (entry->is_directory(error) && fs::is_regular_file(entry->path() / kPlatformRecordFile, error))
      return true;
  }
  return false;
}

std::size_t ExportedBatch::notMeasured() const {
  return static_cast<std::size_t>(
      std::count_if(items.begin(), items.end(), [](const ExportedItem& item) { return !item.machine; }));
}

// ---------------------------------------------------------------------------------------------------------
// OpenClMeasurer

namespace {

const OpenClRunRequest* requestOf(const MeasureInput& input) {
  return std::get_if<OpenClRunRequest>(&input.plan);
}

// The plan as an exported folder holds it: the source beside it, outputs into the current folder of the run.
runner::RunPlan exportedPlan(const runner::RunPlan& plan) {
  runner::RunPlan exported = plan;
  exported.source = fs::path(plan.source).filename().string();
  exported.outputDirectory = "outputs";
  return exported;
}

}  // namespace

OpenClMeasurer::OpenClMeasurer(OpenClRecorder& recorder, OpenClMeasurerOptions options)
    : recorder_(recorder), options_(std::move(options)) {}

MeasureResult OpenClMeasurer::record(std::size_t input, const MeasureInput& item, DeviceRunResult device) {
  const OpenClRunRequest* request = requestOf(item);
  const fs::path source = !item.workload.empty() ? item.workload
                          : request != nullptr  ? fs::path(request->plan.source)
                                                : fs::path();
  if (options_.nameSources && !source.empty()) {
    device.message = nameTheSource(device.message, source.string());
    device.buildLog = nameTheSource(device.buildLog, source.string());
  }
  if (!source.empty()) {
    if (auto workload = recorder_.workload(source)) {
      recorder_.measurement(*workload, options_.task, item.configuration, device, options_.basis);
    }
  }
  MeasureResult result;
  result.input = input;
  result.device = fmt::format("{} {} {}", deviceIndex(device), device.type, device.name);
  result.status = device.status;
  result.message = device.message;
  const bool kernel = options_.basis == TimeBasis::kKernel;
  result.samples = kernel ? device.kernelSeconds : device.totalSeconds;
  if (device.status == MeasureStatus::kOk) {
    result.median = kernel ? device.medianKernelSeconds : device.medianTotalSeconds;
    result.spread = kernel ? device.iqrKernelSeconds : device.iqrTotalSeconds;
  }
  result.detail = std::move(device);
  return result;
}

Expected<std::vector<MeasureResult>> OpenClMeasurer::measure(const std::vector<MeasureInput>& batch) {
  std::vector<MeasureResult> results;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const OpenClRunRequest* given = requestOf(batch[i]);
    std::vector<DeviceRunResult> devices;
    if (given == nullptr) {
      devices = failedOnEvery(options_.devices, MeasureStatus::kRunFailed,
                              "not an OpenCL launch: the OpenCL backend measures OpenCL plans only");
    } else {
      OpenClRunRequest request = *given;
      if (request.devices.empty()) request.devices = options_.devices;
      auto ran = runOnAllDevices(request, options_.runner);
      devices = ran ? std::move(ran->devices)
                    : failedOnEvery(request.devices, MeasureStatus::kRunFailed, ran.error().message());
    }
    for (DeviceRunResult& device : devices) results.push_back(record(i, batch[i], std::move(device)));
  }
  return results;
}

Status OpenClMeasurer::exportBatch(const std::vector<MeasureInput>& batch, const fs::path& folder) {
  nlohmann::json index = {{"task", options_.task}, {"items", nlohmann::json::array()}};
  std::error_code madeFolder;
  fs::create_directories(folder, madeFolder);
  if (madeFolder) return makeError(ErrorCode::kIo, "{}: {}", folder.string(), madeFolder.message());
  if (auto id = writeExportId(folder); !id) return id.error();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const OpenClRunRequest* request = requestOf(batch[i]);
    if (request == nullptr) {
      return makeError(ErrorCode::kInvalidInput, "input {}: not an OpenCL launch", i);
    }
    const fs::path itemFolder = folder / std::to_string(i);
    std::error_code created;
    fs::create_directories(itemFolder, created);
    if (created) return makeError(ErrorCode::kIo, "{}: {}", itemFolder.string(), created.message());
    auto text = readFile(request->plan.source);
    if (!text) return text.error();
    runner::RunPlan plan = exportedPlan(request->plan);
    if (request->timeoutSeconds > 0) plan.timeoutSeconds = request->timeoutSeconds;
    if (Status written = writeFileAtomically(itemFolder / plan.source, *text); !written) return written;
    if (Status written = writeFileAtomically(itemFolder / "plan.json", runner::runPlanToJson(plan).dump(2) + "\n");
        !written) {
      return written;
    }
    index["items"].push_back({{"folder", std::to_string(i)},
                              {"configuration", batch[i].configuration},
                              {"workload", batch[i].workload.string()}});
  }
  if (Status written = writeFileAtomically(folder / "batch.json", index.dump(2) + "\n"); !written) return written;
  return writeFileAtomically(folder / "run-all.sh",
                             openClRunAllScript("OpenCL plan", " with the command that exported it.", "*/plan.json",
                                                "$dir/device-$(echo \"$device\" | tr ':' '-')"));
}

Expected<ExportedBatch> OpenClMeasurer::readExported(const std::vector<MeasureInput>& batch,
                                                     const fs::path& folder) const {
  const fs::path indexFile = folder / "batch.json";
  auto index = readExportIndex(indexFile);
  if (!index) return index.error();
  if ((*index)["items"].size() != batch.size()) {
    return makeError(ErrorCode::kInvalidInput, "{}: {} items, but the batch has {}", indexFile.string(),
                     (*index)["items"].size(), batch.size());
  }
  if (!anyMachineRecord(folder)) return exportedPlatform(folder).error();
  ExportedBatch exported;
  auto id = exportId(folder, indexFile);
  if (!id) return id.error();
  exported.exportId = *id;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const OpenClRunRequest* request = requestOf(batch[i]);
    if (request == nullptr) return makeError(ErrorCode::kInvalidInput, "input {}: not an OpenCL launch", i);
    auto item = indexString((*index)["items"][i], "folder", indexFile, fmt::format("items[{}].folder", i));
    if (!item) return item.error();
    auto itemFolder = pathInsideFolder(folder, *item, indexFile, fmt::format("items[{}].folder", i));
    if (!itemFolder) return itemFolder.error();
    ExportedItem outcome;
    outcome.folder = *item;
    auto machine = exportedOpenClMachine(folder, *itemFolder);
    if (!machine) return machine.error();
    outcome.machine = std::move(*machine);
    std::vector<fs::path> resultFiles;
    if (outcome.machine) {
      for (const OpenClDevice& device : outcome.machine->devices) {
        resultFiles.push_back(*itemFolder /
                              fmt::format("device-{}-{}", device.platformIndex, device.deviceIndex) /
                              "result.json");
      }
      // A result file still absent (a run killed, to be run again): the plan folder is not measured yet.
      std::error_code error;
      if (!std::all_of(resultFiles.begin(), resultFiles.end(),
                       [&](const fs::path& file) { return fs::exists(file, error); })) {
        outcome.machine.reset();
      }
    }
    if (outcome.machine) {
      const runner::RunPlan plan = exportedPlan(request->plan);
      for (std::size_t d = 0; d < resultFiles.size(); ++d) {
        const OpenClDevice& device = outcome.machine->devices[d];
        const fs::path& resultFile = resultFiles[d];
        auto result = readCheckedOpenClResult(resultFile, plan, device);
        if (!result) return result.error();
        outcome.devices.push_back(std::move(*result));
      }
    }
    exported.items.push_back(std::move(outcome));
  }
  return exported;
}

MeasureResult OpenClMeasurer::store(std::size_t input, const MeasureInput& item, DeviceRunResult device) {
  return record(input, item, std::move(device));
}

Expected<std::vector<MeasureResult>> OpenClMeasurer::ingest(const std::vector<MeasureInput>& batch,
                                                            const fs::path& folder) {
  // Every result checked before anything is stored.
  auto exported = readExported(batch, folder);
  if (!exported) return exported.error();
  std::vector<MeasureResult> results;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ExportedItem& item = exported->items[i];
    if (!item.machine) continue;
    if (Status used = recorder_.usePlatform(item.machine->platform); !used) return used.error();
    recorder_.setIngestPlace(exported->exportId, item.folder);
    for (DeviceRunResult& device : item.devices) results.push_back(record(i, batch[i], std::move(device)));
  }
  return results;
}

}  // namespace mirtune
