// The trained thread-coarsening heads as one folder: manifest.json (encoder, head form, pooling, factors, how each
// head was chosen, the training command) and one head folder per head ("all" when pooled, else per GPU).
#pragma once

#include "embeddings/Encoder.h"
#include "tasks/coarsen/CoarsenCurves.h"
#include "tasks/coarsen/CoarsenEvaluate.h"
#include "tasks/coarsen/KernelEmbeddings.h"
#include "tasks/common/Head.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mirtune::coarsen {

/// Folder name of the shipped heads: tasks/coarsen/models/<kShippedCoarsenName>.
inline constexpr const char* kShippedCoarsenName = "coarsen-1.0";
/// Version of the manifest layout.
inline constexpr int kCoarsenModelFormat = 1;

struct CoarsenModel {
  std::filesystem::path directory;
  nlohmann::json manifest;
  std::string encoderId;
  IrSource irSource = IrSource::kSource;
  HeadForm form = HeadForm::kClass;
  Pooling pooling = Pooling::kPooled;
  std::map<std::string, std::unique_ptr<heads::Classifier>> heads;  ///< kPooledHead, or by platform name
  /// "classifier" (the heads above) or a curve method (curveMethodName), whose model is `curve`.
  std::string method = "classifier";
  std::unique_ptr<CurveModel> curve;

  /// The factor for a kernel with this fused embedding on `platform` (index into kPlatforms).
  Expected<FactorChoice> choose(const std::vector<float>& embedding, std::size_t platform) const;
};

/// $MIRTUNE_MODELS/coarsen-1.0, else tasks/coarsen/models/coarsen-1.0 in the source tree.
std::filesystem::path defaultCoarsenModelDirectory();

/// Loads a folder written by saveCoarsenModel; kVersion when the layout or the encoder differs from `encoder`.
Expected<CoarsenModel> loadCoarsenModel(const std::filesystem::path& directory, const Encoder& encoder);

/// Writes a curve head chosen by inner cross-validation (its folder kPooledHead) and the manifest into `directory`.
Status saveCoarsenCurveModel(const std::filesystem::path& directory, const Encoder& encoder, IrSource irSource,
                             const TrainedCurve& trained, const nlohmann::json& data, const std::string& command);

/// One trained head with its name and where its rows came from.
struct NamedHead {
  std::string name;
  TrainedHead head;
  nlohmann::json data;
};

/// Writes heads and manifest (atomically per file) into `directory`.
Status saveCoarsenModel(const std::filesystem::path& directory, const Encoder& encoder, IrSource irSource,
                        HeadForm form, Pooling pooling, const std::vector<NamedHead>& heads,
                        const std::string& command);

}  // namespace mirtune::coarsen
