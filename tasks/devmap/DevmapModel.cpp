// Saving and loading the device-mapping heads with their manifest.
#include "tasks/devmap/DevmapModel.h"

#include "tasks/common/TaskModel.h"
#include "tasks/devmap/Features.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::devmap {

namespace fs = std::filesystem;

namespace {
constexpr heads::TaskModelKind kDevmapModelKind{"devmap", "device-mapping", kDevmapModelFormat, "mirtune devmap train"};
}  // namespace

fs::path defaultDevmapModelDirectory() { return heads::taskModelDirectory("devmap", kShippedDevmapName); }

std::vector<std::string> DevmapModel::platforms() const {
  std::vector<std::string> names;
  for (const auto& [name, head] : heads) names.push_back(name);
  return names;
}

Expected<double> DevmapModel::gpuProbability(const std::string& platform, const std::vector<float>& features) const {
  auto found = heads.find(platform);
  if (found == heads.end()) {
    return makeError(ErrorCode::kNotFound, "{}: no head for platform '{}' (has: {})", directory.string(), platform,
                     fmt::join(platforms(), ", "));
  }
  auto probabilities = found->second->predictProbabilities(features.data(), 1, features.size());
  if (!probabilities) return probabilities.error();
  return static_cast<double>((*probabilities)[1]);
}

Expected<DevmapModel> loadDevmapModel(const fs::path& directory, const Encoder& encoder) {
  auto manifest = heads::readTaskManifest(directory, kDevmapModelKind, encoder.id());
  if (!manifest) return manifest.error();
  DevmapModel model;
  model.directory = directory;
  model.encoderId = encoder.id();
  auto irSource = parseIrSource(manifest->value("ir", "source"));
  if (!irSource) return irSource.error().withContext((directory / "manifest.json").string());
  model.irSource = *irSource;
  auto heads = heads::loadNamedHeads(directory, *manifest, "platforms",
                                     encoder.dimension(Modality::kFused) + kAuxFeatures.size(), 2);
  if (!heads) return heads.error();
  model.heads = std::move(*heads);
  model.manifest = std::move(*manifest);
  return model;
}

Status saveDevmapModel(const fs::path& directory, const Encoder& encoder, IrSource irSource,
                       const std::vector<PlatformHead>& heads, const std::string& command) {
  nlohmann::json platforms = nlohmann::json::object();
  for (const PlatformHead& entry : heads) {
    if (auto saved = entry.head.model->save(directory / entry.platform); !saved) return saved;
    platforms[entry.platform] = {{"head", entry.head.candidate.kind},
                                 {"params", entry.head.candidate.params},
                                 {"weighting", weightingName(entry.head.weighting)},
                                 {"inner_cv_accuracy", entry.head.innerAccuracy},
                                 {"rows", entry.rows},
                                 {"data", entry.data}};
  }
  nlohmann::json aux = nlohmann::json::array();
  for (const AuxFeature& feature : kAuxFeatures) aux.push_back({{"name", feature.name}, {"description", feature.description}});
  nlohmann::json manifest = {{"features", "fused embedding + auxiliary"},
                             {"auxiliary", aux},
                             {"ir", irSourceName(irSource)},
                             {"labels", {"CPU", "GPU"}},
                             {"platforms", platforms}};
  return heads::writeTaskManifest(directory, kDevmapModelKind, encoder.id(), std::move(manifest), command);
}

}  // namespace mirtune::devmap
