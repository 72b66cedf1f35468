// Thread coarsening for this machine: `coarsen collect` measurements turned into the data set form the
// shipped heads learn from (one "kernel" per suite kernel and size, one platform slot per local OpenCL
// device).
#pragma once

#include "database/Database.h"
#include "tasks/coarsen/CoarsenData.h"
#include "tasks/common/KernelSources.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::coarsen {

/// Task name of the measurements `coarsen collect` records (also of an ingested export).
inline constexpr const char* kCoarsenCollectTask = "coarsen-collect";
/// Task name of the measurements and predictions of `coarsen FILE --run`.
inline constexpr const char* kCoarsenRunTask = "coarsen";
/// Name of the heads trained on this machine's measurements (the --platform value that selects them).
inline constexpr const char* kLocalCoarsenPlatform = "local";
/// Fewer suite kernels than this cannot be split into inner folds of whole programs.
inline constexpr std::size_t kMinLocalPrograms = 2;

/// Where `coarsen train --platform local` writes and `coarsen --platform local` reads the heads by default:
/// userModelDirectory("coarsen", "coarsen-local") (the user's data folder, never the source tree).
std::filesystem::path defaultLocalCoarsenModelDirectory();

/// The measurements of one machine in CoarsenData form. Local devices take the platform slots of the head
/// features (at most kPlatforms.size() of them, in the order of `devices`), so a head trained here has the
/// shipped heads' inputs: embedding, device one-hot, log2(factor). A factor that did not run ok (wrong
/// output, build failure, refused) is "not measured" (NaN).
struct LocalCoarsenData {
  CoarsenData data;  ///< one entry per (suite kernel, N, dimension, mode) with factor 1 ok everywhere
  std::vector<LocalKernel> rows;       ///< lines up with data.kernels: the source, kernel, -D values to embed
  std::vector<std::size_t> program;  ///< lines up with data.kernels: index of its source kernel (fold group)
  std::vector<std::string> devices;  ///< slot -> device name
  std::vector<std::string> deviceTypes;     ///< slot -> "CPU", "GPU", ...
  std::vector<std::string> ignoredDevices;  ///< beyond the slots (not used)
  std::size_t measurements = 0;             ///< collect measurements of this platform
  std::size_t okMeasurements = 0;
  std::size_t incomplete = 0;  ///< launches without an ok factor-1 time on every device
  std::optional<std::int64_t> platformId;
};

/// Reads every `coarsen collect` measurement of the platform with this fingerprint (several runs merge: the
/// fastest median per device and factor wins). No measurement is not an error here (see
/// checkLocalCoarsenData).
Expected<LocalCoarsenData> loadLocalCoarsenData(const Database& database,
                                                const std::string& platformFingerprint);

/// Whether the data can train a head: kNotFound without measurements ("run `mirtune coarsen collect` first"),
/// kInvalidInput with fewer than kMinLocalPrograms kernels that ran at factor 1 on every device.
Status checkLocalCoarsenData(const LocalCoarsenData& data);

/// The slot of a device in a local head's manifest entry ({"devices": [{"name", "type"}...]}): the same name,
/// else the first of the same type, else 0.
std::size_t localDeviceSlot(const nlohmann::json& headData, const std::string& deviceName,
                            const std::string& deviceType);

}  // namespace mirtune::coarsen
