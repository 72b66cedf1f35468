// The trained device-mapping heads as one folder: manifest.json (the encoder and features they expect, how
// each head was chosen, the command that trained them, and what deciding safely needs: each platform's
// calibration, speedup table, fallback and novelty threshold), one head folder per platform, a launch-only
// head folder per platform (<platform>-aux) and the training kernels' novelty index (novelty.f32).
#pragma once

#include "embeddings/Encoder.h"
#include "tasks/common/Head.h"
#include "tasks/devmap/Evaluate.h"
#include "tasks/devmap/RowEmbeddings.h"
#include "tasks/devmap/SafeDecision.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mirtune::devmap {

/// Folder name of the shipped heads: tasks/devmap/models/<kShippedDevmapName>.
inline constexpr const char* kShippedDevmapName = "devmap-1.0";
/// Version of the manifest layout: 2 adds calibration, novelty and the fallback (optional per platform).
inline constexpr int kDevmapModelFormat = 2;
/// The layout before them, still read (its heads answer with their raw probability).
inline constexpr int kDevmapModelFormatHeadsOnly = 1;

/// What one platform's safe decision needs beyond its head.
struct PlatformSafety {
  SafePolicy policy;
  std::unique_ptr<heads::Classifier>
      auxHead;  ///< the launch-only head (needed when the fallback is aux-head)
};

/// One answer of the heads: the head's raw probability, and the safe decision where the folder has one.
struct DevmapAnswer {
  double rawGpuProbability = 0;
  std::optional<double> novelty;  ///< percentile of the kernel's embedding among the training kernels
  std::optional<SafeAnswer> safe;
};

struct DevmapModel {
  std::filesystem::path directory;
  nlohmann::json manifest;
  int format = kDevmapModelFormat;
  std::string encoderId;  ///< the encoder whose fused embeddings the heads were trained on
  IrSource irSource = IrSource::kSource;
  std::map<std::string, std::unique_ptr<heads::Classifier>> heads;  ///< by platform name
  std::map<std::string, PlatformSafety> safety;  ///< by platform name; empty for a format-1 folder
  std::optional<heads::NoveltyIndex> novelty;    ///< the training kernels' embeddings (with any safety)

  /// Probability that the GPU is faster, for one feature row; kNotFound for a platform without a head.
  Expected<double> gpuProbability(const std::string& platform, const std::vector<float>& features) const;
  /// The head's answer for a kernel's fused embedding at a launch, decided safely when the platform has
  /// safety.
  Expected<DevmapAnswer> answer(const std::string& platform, const std::vector<float>& embedding,
                                double transferBytes, double wgsize) const;
  bool hasSafety(const std::string& platform) const {
    return safety.count(platform) != 0 && novelty.has_value();
  }
  std::vector<std::string> platforms() const;
};

/// $MIRTUNE_MODELS/devmap-1.0, else tasks/devmap/models/devmap-1.0 in the source tree.
std::filesystem::path defaultDevmapModelDirectory();

/// Loads a folder written by saveDevmapModel (or a format-1 folder, without safety); kVersion when the layout
/// or the encoder differs from `encoder`.
Expected<DevmapModel> loadDevmapModel(const std::filesystem::path& directory, const Encoder& encoder);

/// One trained head and how it was chosen.
struct PlatformHead {
  std::string platform;
  TrainedHead head;
  std::size_t rows = 0;
  nlohmann::json data;                 ///< where its rows came from
  std::optional<FittedPolicy> policy;  ///< with auxHead and a novelty index: the folder decides safely
  std::optional<TrainedHead> auxHead;
};

/// Writes heads and manifest (atomically per file) into `directory`; with `novelty` also novelty.f32 and
/// every platform's policy and launch-only head.
Status saveDevmapModel(const std::filesystem::path& directory, const Encoder& encoder, IrSource irSource,
                       const std::vector<PlatformHead>& heads, const std::string& command,
                       const heads::NoveltyIndex* novelty = nullptr);

}  // namespace mirtune::devmap
