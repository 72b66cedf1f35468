// Local device-mapping rows from `devmap collect` measurements, their embeddings and the head fitted on them.
#include "tasks/devmap/LocalData.h"
#include "tasks/devmap/Predict.h"

#include "support/Files.h"
#include "support/Parallel.h"
#include "tasks/devmap/Features.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>
#include <tuple>

namespace mirtune::devmap {

namespace fs = std::filesystem;

fs::path defaultLocalModelDirectory() { return userModelDirectory("devmap", "devmap-local"); }


namespace {

/// The launch a measurement belongs to, without the device: rows are keyed by it.
struct LaunchKey {
  std::int64_t workloadId = 0;
  std::string kernel;
  std::int64_t n = 0;
  std::string launch;  ///< canonical JSON of global, local, transfer, build options

  bool operator<(const LaunchKey& other) const {
    return std::tie(workloadId, kernel, n, launch) <
           std::tie(other.workloadId, other.kernel, other.n, other.launch);
  }
};

struct Best {
  double seconds = std::numeric_limits<double>::infinity();
  std::string device;
};

struct LaunchTimes {
  std::string manifest;
  std::string buildOptions;
  double transfer = 0;
  double wgsize = 0;
  std::map<std::string, Best> bestByType;  ///< device type -> fastest ok device
};

double localWorkGroup(const nlohmann::json& local) {
  if (!local.is_array() || local.empty()) return 0;
  double product = 1;
  for (const auto& size : local) product *= size.get<double>();
  return product;
}

}  // namespace

Expected<LocalData> loadLocalData(const Database& database, const std::string& platformFingerprint) {
  auto measurements = database.listMeasurements();
  if (!measurements) return measurements.error();
  LocalData data;
  std::map<std::int64_t, bool> platformMatches;
  std::map<LaunchKey, LaunchTimes> launches;
  for (const MeasurementRecord& record : *measurements) {
    if (record.task != kCollectTask) continue;
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
    const std::string type = config.value("device_type", "");
    const std::string device = config.value("device", "");
    data.devicesByType[type].insert(device);
    LaunchKey key{record.workloadId, config.value("kernel", ""), config.value("n", std::int64_t{0}),
                  nlohmann::json{{"global", config.value("global", nlohmann::json::array())},
                                 {"local", config.value("local", nlohmann::json::array())},
                                 {"transfer", config.value("transfer", 0.0)},
                                 {"build_options", config.value("build_options", "")}}
                      .dump()};
    LaunchTimes& times = launches[key];
    times.manifest = config.value("manifest", "");
    times.buildOptions = config.value("build_options", "");
    times.transfer = config.value("transfer", 0.0);
    times.wgsize = localWorkGroup(config.value("local", nlohmann::json::array()));
    if (record.status != MeasureStatus::kOk || !record.medianSeconds) continue;
    ++data.okMeasurements;
    Best& best = times.bestByType[type];
    if (*record.medianSeconds < best.seconds) best = {*record.medianSeconds, device};
  }

  std::map<std::int64_t, std::string> sourceOf;
  for (const auto& [key, times] : launches) {
    auto cpu = times.bestByType.find("CPU");
    auto gpu = times.bestByType.find("GPU");
    if (cpu == times.bestByType.end() || gpu == times.bestByType.end()) {
      ++data.incompletePairs;
      continue;
    }
    if (sourceOf.count(key.workloadId) == 0) {
      auto workload = database.getWorkload(key.workloadId);
      if (!workload) return workload.error();
      sourceOf[key.workloadId] = *workload ? (*workload)->path : "";
    }
    LocalRow row;
    row.source = sourceOf[key.workloadId];
    row.kernel = key.kernel;
    row.manifest = times.manifest;
    row.defines = buildOptionDefines(times.buildOptions);
    row.n = key.n;
    row.transferBytes = times.transfer;
    row.wgsize = times.wgsize;
    row.cpuSeconds = cpu->second.seconds;
    row.cpuDevice = cpu->second.device;
    row.gpuSeconds = gpu->second.seconds;
    row.gpuDevice = gpu->second.device;
    data.rows.push_back(std::move(row));
  }
  std::stable_sort(data.rows.begin(), data.rows.end(), [](const LocalRow& a, const LocalRow& b) {
    return std::tie(a.source, a.kernel, a.n) < std::tie(b.source, b.kernel, b.n);
  });
  return data;
}

Status checkLocalData(const LocalData& data) {
  if (data.measurements == 0) {
    return makeError(ErrorCode::kNotFound,
                     "no `devmap collect` measurements of this machine in the database; run `mirtune devmap "
                     "collect` first");
  }
  auto has = [&](const char* type) { return data.devicesByType.count(type) != 0; };
  if (!has("CPU") || !has("GPU")) {
    std::vector<std::string> present;
    for (const auto& [type, names] : data.devicesByType) {
      present.push_back(fmt::format("{} ({})", type.empty() ? "unknown type" : type, fmt::join(names, ", ")));
    }
    return makeError(
        ErrorCode::kInvalidInput,
        "a local device-mapping head needs both a CPU and a GPU OpenCL device; this machine has only {} "
        "in its {} `devmap collect` measurements",
        fmt::join(present, " and "), data.measurements);
  }
  if (data.rows.size() < kMinLocalRows) {
    return makeError(
        ErrorCode::kInvalidInput,
        "too few rows to train on: {} (kernel, size) pairs ran ok on both a CPU and a GPU device "
        "({} of {} measurements ok, {} pairs lack one of them); a head needs at least {} (run "
        "`mirtune devmap collect` with more kernels or --sizes all)",
        data.rows.size(), data.okMeasurements, data.measurements, data.incompletePairs, kMinLocalRows);
  }
  return {};
}

Expected<std::vector<std::vector<float>>> embedLocalRows(const Encoder& encoder,
                                                         const std::vector<LocalRow>& rows,
                                                         const CompileOptions& compile, EmbeddingCache* cache,
                                                         unsigned threads) {
  const std::vector<LocalKernel> kernels(rows.begin(), rows.end());
  return embedLocalKernels(encoder, kernels, compile, cache, threads);
}

heads::Dataset localDataset(const std::vector<LocalRow>& rows,
                            const std::vector<std::vector<float>>& embeddings, Weighting weighting) {
  std::size_t dimension = embeddings.empty() ? 0 : embeddings.front().size();
  heads::Dataset dataset;
  dataset.classes = 2;
  dataset.features = heads::FeatureMatrix(rows.size(), dimension + kAuxFeatures.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::vector<float> features = rowFeatures(embeddings[r], rows[r].transferBytes, rows[r].wgsize);
    std::copy(features.begin(), features.end(), dataset.features.row(r));
    dataset.labels.push_back(rows[r].oracle() == Device::kGpu ? 1 : 0);
    if (weighting == Weighting::kRuntime) {
      dataset.weights.push_back(runtimeWeight(rows[r].cpuSeconds, rows[r].gpuSeconds));
    }
  }
  return dataset;
}

Expected<TrainedHead> trainLocalHead(const std::vector<LocalRow>& rows,
                                     const std::vector<std::vector<float>>& embeddings,
                                     const EvalOptions& options) {
  if (rows.size() < kMinLocalRows) {
    return makeError(ErrorCode::kInvalidInput, "too few rows to train on: {} (at least {})", rows.size(),
                     kMinLocalRows);
  }
  if (embeddings.size() != rows.size()) {
    return makeError(ErrorCode::kInternal, "{} embeddings for {} rows", embeddings.size(), rows.size());
  }
  const int folds = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(std::max(2, options.innerFolds)), rows.size()));
  return selectHead([&](Weighting weighting) { return localDataset(rows, embeddings, weighting); }, options, folds);
}

}  // namespace mirtune::devmap
