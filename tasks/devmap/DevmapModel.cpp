// Saving and loading the device-mapping heads with their manifest, the launch-only heads and the novelty
// index.
#include "tasks/devmap/DevmapModel.h"

#include "tasks/common/TaskModel.h"
#include "tasks/devmap/Features.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::devmap {

namespace fs = std::filesystem;

namespace {
constexpr heads::TaskModelKind kDevmapModelKind{"devmap", "device-mapping", kDevmapModelFormat,
                                                "mirtune devmap train"};
constexpr heads::TaskModelKind kHeadsOnlyKind{"devmap", "device-mapping", kDevmapModelFormatHeadsOnly,
                                              "mirtune devmap train"};
constexpr const char* kNoveltyFile = "novelty.f32";

std::string auxFolder(const std::string& platform) {
  return platform + "-aux";
}

// Each platform's "safety" entry of a format-2 manifest, with its launch-only head.
Status loadSafety(const fs::path& directory, const nlohmann::json& manifest, DevmapModel& model) {
  const std::string manifestPath = (directory / "manifest.json").string();
  if (manifest.contains("novelty")) {
    auto index = heads::NoveltyIndex::load(directory, manifest["novelty"]);
    if (!index) return index.error();
    model.novelty = std::move(*index);
  }
  for (const auto& [name, entry] : manifest["platforms"].items()) {
    if (!entry.is_object() || !entry.contains("safety")) continue;
    const std::string where = fmt::format("{}: platforms.{}", manifestPath, name);
    if (!model.novelty)
      return makeError(ErrorCode::kInvalidInput, "{} has safety but the folder no novelty index", where);
    auto policy = SafePolicy::fromJson(entry["safety"]);
    if (!policy) return policy.error().withContext(where);
    PlatformSafety safety{*policy, nullptr};
    const nlohmann::json& safetyJson = entry["safety"];
    if (safetyJson.contains("aux_head")) {
      if (!safetyJson["aux_head"].is_string() || safetyJson["aux_head"].get<std::string>().empty() ||
          fs::path(safetyJson["aux_head"].get<std::string>()).filename() !=
              safetyJson["aux_head"].get<std::string>()) {
        return makeError(ErrorCode::kInvalidInput, "{}: safety.aux_head must be a plain folder name", where);
      }
      const fs::path folder = directory / safetyJson["aux_head"].get<std::string>();
      auto aux = heads::Classifier::load(folder);
      if (!aux) return aux.error();
      if ((*aux)->featureCount() != kAuxFeatures.size() || (*aux)->classCount() != 2) {
        return makeError(ErrorCode::kVersion, "{}: head expects {} features and {} classes, not {} and 2",
                         folder.string(), (*aux)->featureCount(), (*aux)->classCount(), kAuxFeatures.size());
      }
      safety.auxHead = std::move(*aux);
    }
    if (policy->fallback == Policy::kAuxHead && !safety.auxHead) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: the fallback is aux-head but safety.aux_head names no head", where);
    }
    model.safety.emplace(name, std::move(safety));
  }
  return success();
}

}  // namespace

fs::path defaultDevmapModelDirectory() {
  return heads::taskModelDirectory("devmap", kShippedDevmapName);
}

std::vector<std::string> DevmapModel::platforms() const {
  std::vector<std::string> names;
  for (const auto& [name, head] : heads) names.push_back(name);
  return names;
}

Expected<double> DevmapModel::gpuProbability(const std::string& platform,
                                             const std::vector<float>& features) const {
  auto found = heads.find(platform);
  if (found == heads.end()) {
    return makeError(ErrorCode::kNotFound, "{}: no head for platform '{}' (has: {})", directory.string(),
                     platform, fmt::join(platforms(), ", "));
  }
  auto probabilities = found->second->predictProbabilities(features.data(), 1, features.size());
  if (!probabilities) return probabilities.error();
  return static_cast<double>((*probabilities)[1]);
}

Expected<DevmapAnswer> DevmapModel::answer(const std::string& platform, const std::vector<float>& embedding,
                                           double transferBytes, double wgsize) const {
  DevmapAnswer answer;
  auto raw = gpuProbability(platform, rowFeatures(embedding, transferBytes, wgsize));
  if (!raw) return raw.error();
  answer.rawGpuProbability = *raw;
  if (!hasSafety(platform)) return answer;
  const PlatformSafety& platformSafety = safety.at(platform);
  auto novel = novelty->percentile(embedding);
  if (!novel) return novel.error().withContext(directory.string());
  answer.novelty = *novel;
  std::optional<double> aux;
  if (platformSafety.auxHead) {
    std::vector<float> launch = rowFeatures({}, transferBytes, wgsize);
    auto probabilities = platformSafety.auxHead->predictProbabilities(launch.data(), 1, launch.size());
    if (!probabilities) return probabilities.error();
    aux = (*probabilities)[1];
  }
  auto index = platformIndex(platform);
  const Device staticDevice = index ? kPlatforms[*index].staticDevice : Device::kCpu;
  answer.safe = decideSafely(platformSafety.policy, staticDevice, *raw, *novel, aux);
  return answer;
}

Expected<DevmapModel> loadDevmapModel(const fs::path& directory, const Encoder& encoder) {
  int format = kDevmapModelFormat;
  auto manifest = heads::readTaskManifest(directory, kDevmapModelKind, encoder.id());
  if (!manifest && manifest.error().code() == ErrorCode::kVersion) {
    // A folder written before calibration and novelty existed: its heads still answer, unguarded.
    if (auto older = heads::readTaskManifest(directory, kHeadsOnlyKind, encoder.id())) {
      manifest = std::move(older);
      format = kDevmapModelFormatHeadsOnly;
    }
  }
  if (!manifest) return manifest.error();
  DevmapModel model;
  model.directory = directory;
  model.format = format;
  model.encoderId = encoder.id();
  auto irSource = parseIrSource(manifest->value("ir", "source"));
  if (!irSource) return irSource.error().withContext((directory / "manifest.json").string());
  model.irSource = *irSource;
  auto heads = heads::loadNamedHeads(directory, *manifest, "platforms",
                                     encoder.dimension(Modality::kFused) + kAuxFeatures.size(), 2);
  if (!heads) return heads.error();
  model.heads = std::move(*heads);
  if (format >= 2) {
    if (Status loaded = loadSafety(directory, *manifest, model); !loaded) return loaded.error();
    if (model.novelty && model.novelty->dimension() != encoder.dimension(Modality::kFused)) {
      return makeError(ErrorCode::kVersion,
                       "{}: the novelty index holds vectors of {} values, the encoder gives {}",
                       (directory / kNoveltyFile).string(), model.novelty->dimension(),
                       encoder.dimension(Modality::kFused));
    }
  }
  model.manifest = std::move(*manifest);
  return model;
}

Status saveDevmapModel(const fs::path& directory, const Encoder& encoder, IrSource irSource,
                       const std::vector<PlatformHead>& heads, const std::string& command,
                       const heads::NoveltyIndex* novelty) {
  nlohmann::json platforms = nlohmann::json::object();
  for (const PlatformHead& entry : heads) {
    if (auto saved = entry.head.model->save(directory / entry.platform); !saved) return saved;
    platforms[entry.platform] = {{"head", entry.head.candidate.kind},
                                 {"params", entry.head.candidate.params},
                                 {"weighting", weightingName(entry.head.weighting)},
                                 {"inner_cv_accuracy", entry.head.innerAccuracy},
                                 {"rows", entry.rows},
                                 {"data", entry.data}};
    if (novelty == nullptr || !entry.policy || !entry.auxHead) continue;
    const std::string folder = auxFolder(entry.platform);
    if (auto saved = entry.auxHead->model->save(directory / folder); !saved) return saved;
    nlohmann::json safety = entry.policy->policy.toJson();
    safety["aux_head"] = folder;
    safety["aux_head_params"] = {{"head", entry.auxHead->candidate.kind},
                                 {"params", entry.auxHead->candidate.params},
                                 {"weighting", weightingName(entry.auxHead->weighting)},
                                 {"inner_cv_accuracy", entry.auxHead->innerAccuracy}};
    safety["evidence"] = entry.policy->diagnostics;
    platforms[entry.platform]["safety"] = std::move(safety);
  }
  nlohmann::json aux = nlohmann::json::array();
  for (const AuxFeature& feature : kAuxFeatures)
    aux.push_back({{"name", feature.name}, {"description", feature.description}});
  nlohmann::json manifest = {{"features", "fused embedding + auxiliary"},
                             {"auxiliary", aux},
                             {"ir", irSourceName(irSource)},
                             {"labels", {"CPU", "GPU"}},
                             {"platforms", platforms}};
  if (novelty != nullptr) {
    auto entry = novelty->save(directory, kNoveltyFile);
    if (!entry) return entry.error();
    manifest["novelty"] = std::move(*entry);
  }
  return heads::writeTaskManifest(directory, kDevmapModelKind, encoder.id(), std::move(manifest), command);
}

}  // namespace mirtune::devmap
