// Local coarsening rows from `coarsen collect` measurements: per launch and device, the best time per factor.
#include "tasks/coarsen/LocalCoarsen.h"

#include "support/Files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

fs::path defaultLocalCoarsenModelDirectory() { return userModelDirectory("coarsen", "coarsen-local"); }

namespace {

/// A launch of one suite kernel, without device and factor: entries of the data are keyed by it.
struct LaunchKey {
  std::int64_t workloadId = 0;
  std::string kernel;
  std::string manifest;
  std::int64_t n = 0;
  int dimension = 0;
  std::string mode;
  std::string buildOptions;

  bool operator<(const LaunchKey& other) const {
    return std::tie(workloadId, kernel, manifest, n, dimension, mode, buildOptions) <
           std::tie(other.workloadId, other.kernel, other.manifest, other.n, other.dimension, other.mode,
                    other.buildOptions);
  }
};

using FactorTimes = std::array<double, kFactors.size()>;

FactorTimes unmeasured() {
  FactorTimes times;
  times.fill(std::numeric_limits<double>::quiet_NaN());
  return times;
}

}  // namespace

Expected<LocalCoarsenData> loadLocalCoarsenData(const Database& database,
                                                const std::string& platformFingerprint) {
  auto measurements = database.listMeasurements();
  if (!measurements) return measurements.error();
  LocalCoarsenData data;
  std::map<std::int64_t, bool> platformMatches;
  std::map<std::string, std::string> typeOf;                         // device name -> type
  std::map<LaunchKey, std::map<std::string, FactorTimes>> launches;  // device name -> best time per factor
  for (const MeasurementRecord& record : *measurements) {
    if (record.task != kCoarsenCollectTask) continue;
    auto known = platformMatches.find(record.platformId);
    if (known == platformMatches.end()) {
      auto platform = database.getPlatform(record.platformId);
      if (!platform) return platform.error();
      bool matches = *platform && (*platform)->fingerprint == platformFingerprint;
      known = platformMatches.emplace(record.platformId, matches).first;
      if (matches) data.platformId = record.platformId;
    }
    if (!known->second) continue;
    ++data.measurements;
    const nlohmann::json& config = record.configuration;
    const std::string device = config.value("device", "");
    typeOf[device] = config.value("device_type", "");
    LaunchKey key{record.workloadId,
                  config.value("kernel", ""),
                  config.value("manifest", ""),
                  config.value("n", std::int64_t{0}),
                  config.value("dimension", 0),
                  config.value("mode", ""),
                  config.value("build_options", "")};
    auto& perDevice = launches[key];
    if (perDevice.count(device) == 0) perDevice[device] = unmeasured();
    auto factor = factorIndex(config.value("factor", 0));
    if (!factor || record.status != MeasureStatus::kOk || !record.medianSeconds ||
        *record.medianSeconds <= 0) {
      continue;
    }
    ++data.okMeasurements;
    double& best = perDevice[device][*factor];
    if (std::isnan(best) || *record.medianSeconds < best) best = *record.medianSeconds;
  }

  // Slots: devices by type then name, so a CPU+GPU machine gives the same slots in every run.
  std::vector<std::pair<std::string, std::string>> devices;
  for (const auto& [name, type] : typeOf) devices.emplace_back(type, name);
  std::sort(devices.begin(), devices.end());
  for (std::size_t d = 0; d < devices.size(); ++d) {
    if (d < kPlatforms.size()) {
      data.devices.push_back(devices[d].second);
      data.deviceTypes.push_back(devices[d].first);
    } else {
      data.ignoredDevices.push_back(devices[d].second);
    }
  }

  std::map<std::int64_t, std::string> sourceOf;
  std::map<std::string, std::size_t> programOf;
  for (const auto& [key, perDevice] : launches) {
    CoarsenKernel kernel;
    kernel.name = fmt::format("{} N={}{}{}", key.manifest.empty() ? key.kernel : key.manifest, key.n,
                              key.dimension != 0 ? fmt::format(" dim {}", key.dimension) : "",
                              key.mode == "strided" ? " strided" : "");
    for (auto& row : kernel.runtime) row = unmeasured();
    bool complete = true;
    for (std::size_t slot = 0; slot < data.devices.size(); ++slot) {
      auto found = perDevice.find(data.devices[slot]);
      if (found == perDevice.end() || std::isnan(found->second[0])) {
        complete = false;
        break;
      }
      kernel.runtime[slot] = found->second;
      std::size_t best = 0;
      for (std::size_t f = 1; f < kFactors.size(); ++f) {
        if (!std::isnan(found->second[f]) && found->second[f] < found->second[best]) best = f;
      }
      kernel.oracleFactor[slot] = kFactors[best];
    }
    if (!complete) {
      ++data.incomplete;
      continue;
    }
    if (sourceOf.count(key.workloadId) == 0) {
      auto workload = database.getWorkload(key.workloadId);
      if (!workload) return workload.error();
      sourceOf[key.workloadId] = *workload ? (*workload)->path : "";
    }
    LocalKernel row;
    row.source = sourceOf[key.workloadId];
    row.kernel = key.kernel;
    row.manifest = key.manifest;
    row.defines = buildOptionDefines(key.buildOptions);
    row.n = key.n;
    const std::string program = row.source.string() + "\n" + row.kernel;
    data.program.push_back(programOf.emplace(program, programOf.size()).first->second);
    data.rows.push_back(std::move(row));
    data.data.kernels.push_back(std::move(kernel));
  }
  return data;
}

Status checkLocalCoarsenData(const LocalCoarsenData& data) {
  if (data.measurements == 0) {
    return makeError(
        ErrorCode::kNotFound,
        "no `coarsen collect` measurements of this machine in the database; run `mirtune coarsen "
        "collect` (or ingest an exported collection) first");
  }
  std::size_t programs =
      data.program.empty() ? 0 : *std::max_element(data.program.begin(), data.program.end()) + 1;
  if (programs < kMinLocalPrograms) {
    return makeError(
        ErrorCode::kInvalidInput,
        "too few kernels to train on: {} ran ok at factor 1 on every device ({} of {} measurements "
        "ok, {} launches lack a factor-1 time on some device); a head needs at least {} (run "
        "`mirtune coarsen collect` over more kernels)",
        programs, data.okMeasurements, data.measurements, data.incomplete, kMinLocalPrograms);
  }
  return {};
}

std::size_t localDeviceSlot(const nlohmann::json& headData, const std::string& deviceName,
                            const std::string& deviceType) {
  const nlohmann::json devices = headData.value("devices", nlohmann::json::array());
  for (std::size_t slot = 0; slot < devices.size(); ++slot) {
    if (devices[slot].value("name", "") == deviceName) return slot;
  }
  for (std::size_t slot = 0; slot < devices.size(); ++slot) {
    if (devices[slot].value("type", "") == deviceType) return slot;
  }
  return 0;
}

}  // namespace mirtune::coarsen
