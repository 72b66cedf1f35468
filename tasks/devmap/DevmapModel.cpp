// Saving and loading the device-mapping heads with their manifest.
#include "tasks/devmap/DevmapModel.h"

#include "support/Files.h"
#include "tasks/devmap/Features.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>

namespace mirtune::devmap {

namespace fs = std::filesystem;

fs::path defaultDevmapModelDirectory() {
  if (const char* models = std::getenv("MIRTUNE_MODELS"); models != nullptr && *models != '\0') {
    return fs::path(models) / kShippedDevmapName;
  }
  return sourceDirectory() / "tasks" / "devmap" / "models" / kShippedDevmapName;
}

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
  auto manifest = readJsonObject(directory / "manifest.json");
  if (!manifest) return manifest.error();
  fs::path manifestPath = directory / "manifest.json";
  if (manifest->value("format", 0) != kDevmapModelFormat || manifest->value("task", "") != "devmap") {
    return makeError(ErrorCode::kVersion, "{}: not a device-mapping model of format {}", manifestPath.string(),
                     kDevmapModelFormat);
  }
  DevmapModel model;
  model.directory = directory;
  model.encoderId = manifest->value("encoder", "");
  if (model.encoderId != encoder.id()) {
    return makeError(ErrorCode::kVersion,
                     "{}: the heads were trained on embeddings of encoder {}, but {} is loaded (retrain with "
                     "`mirtune devmap train` or pass the matching --model)",
                     manifestPath.string(), model.encoderId, encoder.id());
  }
  std::size_t expectedFeatures = encoder.dimension(Modality::kFused) + kAuxFeatures.size();
  auto irSource = parseIrSource(manifest->value("ir", "source"));
  if (!irSource) return irSource.error().withContext(manifestPath.string());
  model.irSource = *irSource;
  if (!manifest->contains("platforms") || !(*manifest)["platforms"].is_object()) {
    return makeError(ErrorCode::kInvalidInput, "{}: no 'platforms' object", manifestPath.string());
  }
  for (const auto& [platform, entry] : (*manifest)["platforms"].items()) {
    auto head = heads::Classifier::load(directory / platform);
    if (!head) return head.error();
    if ((*head)->featureCount() != expectedFeatures || (*head)->classCount() != 2) {
      return makeError(ErrorCode::kVersion, "{}: head expects {} features and {} classes, not {} and 2",
                       (directory / platform).string(), (*head)->featureCount(), (*head)->classCount(),
                       expectedFeatures);
    }
    model.heads.emplace(platform, std::move(*head));
  }
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
  nlohmann::json manifest = {{"task", "devmap"},
                             {"format", kDevmapModelFormat},
                             {"encoder", encoder.id()},
                             {"features", "fused embedding + auxiliary"},
                             {"auxiliary", aux},
                             {"ir", irSourceName(irSource)},
                             {"labels", {"CPU", "GPU"}},
                             {"platforms", platforms},
                             {"mirtune_version", toolVersion()},
                             {"git_commit", gitCommit()},
                             {"command", command}};
  return writeFileAtomically(directory / "manifest.json", manifest.dump(2) + "\n");
}

}  // namespace mirtune::devmap
