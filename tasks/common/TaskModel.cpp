// Task model folders: manifest checks (task, format, encoder), named heads, and writing the manifest.
#include "tasks/common/TaskModel.h"

#include "support/Files.h"

#include <cstdlib>

namespace fs = std::filesystem;

namespace mirtune::heads {

fs::path taskModelDirectory(std::string_view task, std::string_view name) {
  if (const char* models = std::getenv("MIRTUNE_MODELS"); models != nullptr && *models != '\0') {
    return fs::path(models) / name;
  }
  return shareDirectory() / "tasks" / task / "models" / name;
}

Expected<nlohmann::json> readTaskManifest(const fs::path& directory, const TaskModelKind& kind,
                                          const std::string& encoderId) {
  fs::path manifestPath = directory / "manifest.json";
  auto manifest = readJsonObject(manifestPath);
  if (!manifest) return manifest.error();
  // Type-checked reads: a manifest with a key of another type is a clear error, not an exception.
  const auto textOf = [&](const char* key) {
    return manifest->contains(key) && (*manifest)[key].is_string() ? (*manifest)[key].get<std::string>()
                                                                   : std::string();
  };
  const bool formatMatches = manifest->contains("format") && (*manifest)["format"].is_number_integer() &&
                             (*manifest)["format"].get<std::int64_t>() == kind.format;
  if (!formatMatches || textOf("task") != kind.task) {
    return makeError(ErrorCode::kVersion, "{}: not a {} model of format {}", manifestPath.string(), kind.title,
                     kind.format);
  }
  std::string trainedOn = textOf("encoder");
  if (trainedOn != encoderId) {
    return makeError(ErrorCode::kVersion,
                     "{}: the heads were trained on embeddings of encoder {}, but {} is loaded (retrain with "
                     "`{}` or pass the matching --model)",
                     manifestPath.string(), trainedOn, encoderId, kind.trainCommand);
  }
  return manifest;
}

Expected<std::map<std::string, std::unique_ptr<Classifier>>> loadNamedHeads(const fs::path& directory,
                                                                            const nlohmann::json& manifest,
                                                                            const std::string& key,
                                                                            std::size_t features, int classes) {
  fs::path manifestPath = directory / "manifest.json";
  if (!manifest.contains(key) || !manifest[key].is_object()) {
    return makeError(ErrorCode::kInvalidInput, "{}: no '{}' object", manifestPath.string(), key);
  }
  std::map<std::string, std::unique_ptr<Classifier>> heads;
  for (const auto& [name, entry] : manifest[key].items()) {
    if (name.empty() || fs::path(name).filename().string() != name) {
      return makeError(ErrorCode::kInvalidInput, "{}: head name \"{}\" must be a plain folder name",
                       manifestPath.string(), name);
    }
    auto head = Classifier::load(directory / name);
    if (!head) return head.error();
    if ((*head)->featureCount() != features || (*head)->classCount() != classes) {
      return makeError(ErrorCode::kVersion, "{}: head expects {} features and {} classes, not {} and {}",
                       (directory / name).string(), (*head)->featureCount(), (*head)->classCount(), features,
                       classes);
    }
    heads.emplace(name, std::move(*head));
  }
  return heads;
}

Status writeTaskManifest(const fs::path& directory, const TaskModelKind& kind, const std::string& encoderId,
                         nlohmann::json manifest, const std::string& command) {
  manifest["task"] = std::string(kind.task);
  manifest["format"] = kind.format;
  manifest["encoder"] = encoderId;
  manifest["mirtune_version"] = std::string(toolVersion());
  manifest["git_commit"] = std::string(gitCommit());
  manifest["command"] = command;
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot create: {}", directory.string(), ec.message());
  return writeFileAtomically(directory / "manifest.json", manifest.dump(2) + "\n");
}

}  // namespace mirtune::heads
