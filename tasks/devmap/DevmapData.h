// The device-mapping data set (DeepTune/CGO'17: 680 rows x 2 platforms) with its published folds, the NCC IR
// file of each row and the 669-row subset IR2Vec reports on.
#pragma once

#include "support/Error.h"

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::devmap {

enum class Device { kCpu = 0, kGpu = 1 };
inline std::string_view deviceName(Device device) { return device == Device::kGpu ? "GPU" : "CPU"; }
Expected<Device> parseDevice(std::string_view name);

/// The platforms of the data set, declared once: index, option name, hardware and the static mapping.
struct DevmapPlatform {
  std::string_view name;         ///< "amd" | "nvidia" (the --platform value)
  std::string_view csvFile;      ///< relative to the devmap folder
  std::string_view hardware;     ///< the GPU the runtimes were measured on (CPU: Intel Core i7-3820)
  Device staticDevice;           ///< the device that is best most often; speedups are relative to it
};
inline constexpr std::array<DevmapPlatform, 2> kPlatforms = {{
    {"amd", "cgo17-amd.csv", "AMD Tahiti 7970", Device::kCpu},
    {"nvidia", "cgo17-nvidia.csv", "NVIDIA GTX 970", Device::kGpu},
}};
/// Index into kPlatforms; kUsage naming the valid names otherwise.
Expected<std::size_t> platformIndex(std::string_view name);

/// The platforms an option names: "all" (both, in kPlatforms order) or one platform's name.
Expected<std::vector<std::size_t>> platformIndices(std::string_view name);

/// One (kernel, input) row; per-platform values are indexed like kPlatforms.
struct DevmapRow {
  std::size_t row = 0;       ///< 0-based row of the CSVs
  std::string benchmark;     ///< "<suite>-<version>-<program>-<kernel>"
  std::string dataset;       ///< "default", NPB class, Parboil input name
  std::array<double, 2> transfer{};  ///< bytes moved host<->device (differs between the platforms' files)
  std::array<double, 2> wgsize{};    ///< work-items per work-group at launch (ditto)
  double runtimeCpu = 0;     ///< ms, Intel Core i7-3820 (same in both files)
  std::array<double, 2> runtimeGpu{};  ///< ms
  std::array<Device, 2> oracle{};      ///< the faster device
  std::array<int, 2> fold{};           ///< published fold 0..9 (folds_pact17_seed204.csv)
  std::string source;        ///< OpenCL source after the data set's normaliser (the `src` column)
  std::string irFile;        ///< NCC's .ll for this row, relative to the devmap folder
  bool in669 = false;        ///< part of IR2Vec's 669-row set

  double runtime(std::size_t platform, Device device) const {
    return device == Device::kCpu ? runtimeCpu : runtimeGpu[platform];
  }
};

struct DevmapData {
  std::filesystem::path directory;  ///< the devmap folder the rows were read from
  std::vector<DevmapRow> rows;      ///< 680, in CSV order
};

/// The devmap folder: <dataDirectory()>/devmap.
std::filesystem::path defaultDevmapDirectory();

/// Reads and cross-checks both CSVs, the folds, row_to_ir.csv and ir2vec_669rows/. Errors name the file and
/// line; a missing folder says where the data set comes from.
Expected<DevmapData> loadDevmapData(const std::filesystem::path& directory);

/// Row indices of a row set: "680" (all) or "669" (IR2Vec's subset).
Expected<std::vector<std::size_t>> rowSet(const DevmapData& data, std::string_view name);

}  // namespace mirtune::devmap
