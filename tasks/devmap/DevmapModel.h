// The trained device-mapping heads as one folder: manifest.json (the encoder and features they expect, how each
// head was chosen, the command that trained them) and one head folder per platform.
#pragma once

#include "embeddings/Encoder.h"
#include "tasks/common/Head.h"
#include "tasks/devmap/Evaluate.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace mirtune::devmap {

/// Folder name of the shipped heads: tasks/devmap/models/<kShippedDevmapName>.
inline constexpr const char* kShippedDevmapName = "devmap-1.0";
/// Version of the manifest layout.
inline constexpr int kDevmapModelFormat = 1;

struct DevmapModel {
  std::filesystem::path directory;
  nlohmann::json manifest;
  std::string encoderId;   ///< the encoder whose fused embeddings the heads were trained on
  IrSource irSource = IrSource::kSource;
  std::map<std::string, std::unique_ptr<heads::Classifier>> heads;  ///< by platform name

  /// Probability that the GPU is faster, for one feature row; kNotFound for a platform without a head.
  Expected<double> gpuProbability(const std::string& platform, const std::vector<float>& features) const;
  std::vector<std::string> platforms() const;
};

/// $MIRTUNE_MODELS/devmap-1.0, else tasks/devmap/models/devmap-1.0 in the source tree.
std::filesystem::path defaultDevmapModelDirectory();

/// Loads a folder written by saveDevmapModel; kVersion when the layout or the encoder differs from `encoder`.
Expected<DevmapModel> loadDevmapModel(const std::filesystem::path& directory, const Encoder& encoder);

/// One trained head and how it was chosen.
struct PlatformHead {
  std::string platform;
  TrainedHead head;
  std::size_t rows = 0;
  nlohmann::json data;  ///< where its rows came from
};

/// Writes heads and manifest (atomically per file) into `directory`.
Status saveDevmapModel(const std::filesystem::path& directory, const Encoder& encoder, IrSource irSource,
                       const std::vector<PlatformHead>& heads, const std::string& command);

}  // namespace mirtune::devmap
