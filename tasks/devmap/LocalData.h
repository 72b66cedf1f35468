// Device mapping for this machine: `devmap collect` measurements turned into rows (kernel, size, best CPU and
// GPU time with transfers), embedded and fitted into a head for the platform "local".
#pragma once

#include "database/Database.h"
#include "embeddings/BatchEmbed.h"
#include "frontend/Frontend.h"
#include "tasks/common/KernelSources.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/Evaluate.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mirtune::devmap {

/// Task name of the measurements `devmap collect` records.
inline constexpr const char* kCollectTask = "devmap-collect";
/// Name of the head trained on this machine's measurements.
inline constexpr const char* kLocalPlatform = "local";
/// Fewer (kernel, size) rows than this cannot be cross-validated into a head.
inline constexpr std::size_t kMinLocalRows = 4;

/// Where `devmap train --platform local` writes and `devmap --platform local` reads the heads by default:
/// userModelDirectory("devmap", "devmap-local") (the user's data folder, never the source tree).
std::filesystem::path defaultLocalModelDirectory();

/// One (kernel, N) that ran ok on at least one CPU and one GPU device: the kernel (source, name, manifest, -D
/// values, N) and what it measured.
struct LocalRow : LocalKernel {
  double transferBytes = 0;  ///< bytes moved per launch
  double wgsize = 0;         ///< work-items per work-group, 0 = driver's choice
  double cpuSeconds = 0;     ///< best median time with transfers over the CPU devices, seconds
  double gpuSeconds = 0;     ///< best median time with transfers over the GPU devices, seconds
  std::string cpuDevice;     ///< the device that gave cpuSeconds
  std::string gpuDevice;

  Device oracle() const { return gpuSeconds < cpuSeconds ? Device::kGpu : Device::kCpu; }
};

/// What the database holds for one platform.
struct LocalData {
  std::vector<LocalRow> rows;       ///< ordered by source, kernel, N
  std::size_t measurements = 0;     ///< collect measurements of the platform
  std::size_t okMeasurements = 0;   ///< of which ok
  std::size_t incompletePairs = 0;  ///< (kernel, N) without an ok CPU and an ok GPU time
  std::optional<std::int64_t> platformId;
  /// Device type ("CPU", "GPU", ...) -> names of the devices measured, ok or not.
  std::map<std::string, std::set<std::string>> devicesByType;
};

/// Reads every `devmap collect` measurement of the platform with this fingerprint (several collect runs
/// merge: the best time per device type wins). No measurement is not an error here (see checkLocalData).
Expected<LocalData> loadLocalData(const Database& database, const std::string& platformFingerprint);

/// Whether the data can train a head, with what to do when not: kNotFound without measurements ("run
/// `mirtune devmap collect` first"), kInvalidInput when one device type is missing (naming the devices
/// present) or fewer than kMinLocalRows rows have both.
Status checkLocalData(const LocalData& data);

/// -D values among OpenCL build options (tasks/common/KernelSources.h).
using mirtune::buildOptionDefines;

/// Fused embedding of every row's kernel the way predictKernels embeds a user's kernel (a file with one
/// kernel whole, else the kernel extracted), each distinct (source, defines, kernel) once. Lines up with
/// rows; an error names the row's file when one cannot be compiled or embedded.
Expected<std::vector<std::vector<float>>> embedLocalRows(const Encoder& encoder,
                                                         const std::vector<LocalRow>& rows,
                                                         const CompileOptions& compile, EmbeddingCache* cache,
                                                         unsigned threads);

/// Labels (1 = GPU faster), features rowFeatures(embedding, transfer, wgsize) and, for Weighting::kRuntime,
/// weights 1 + |log2(cpu / gpu)|. embeddings[i] belongs to rows[i].
heads::Dataset localDataset(const std::vector<LocalRow>& rows,
                            const std::vector<std::vector<float>>& embeddings, Weighting weighting);

/// Chooses a head (candidates x weightings) by stratified inner cross-validation with min(folds, rows)
/// folds and refits it on every row. kInvalidInput for fewer than kMinLocalRows rows.
Expected<TrainedHead> trainLocalHead(const std::vector<LocalRow>& rows,
                                     const std::vector<std::vector<float>>& embeddings,
                                     const EvalOptions& options);

}  // namespace mirtune::devmap
