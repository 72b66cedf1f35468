// A task's trained heads as one folder: manifest.json (task, layout format, the encoder whose embeddings the heads
// read, how they were trained) and one head folder per named head, shared by every task's model loader.
#pragma once

#include "support/Error.h"
#include "tasks/common/Head.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace mirtune::heads {

/// What a task's manifest must say, and how a user gets a matching one.
struct TaskModelKind {
  std::string_view task;          ///< the manifest's "task" ("devmap", "coarsen")
  std::string_view title;         ///< for messages ("device-mapping")
  int format = 1;                 ///< the manifest's "format" (layout version)
  std::string_view trainCommand;  ///< what rebuilds the heads ("mirtune devmap train")
};

/// $MIRTUNE_MODELS/<name>, else <shareDirectory()>/tasks/<task>/models/<name> (installed share folder or source tree).
std::filesystem::path taskModelDirectory(std::string_view task, std::string_view name);

/// Reads <directory>/manifest.json: kVersion when its task or format is not `kind`'s or its "encoder" is not
/// encoderId (the heads would read embeddings of another encoder), naming the file and what to do.
Expected<nlohmann::json> readTaskManifest(const std::filesystem::path& directory, const TaskModelKind& kind,
                                          const std::string& encoderId);

/// Loads <directory>/<name> for every key of manifest[key] (an object); kVersion when a head does not take
/// `features` inputs or does not predict `classes` classes.
Expected<std::map<std::string, std::unique_ptr<Classifier>>> loadNamedHeads(const std::filesystem::path& directory,
                                                                            const nlohmann::json& manifest,
                                                                            const std::string& key,
                                                                            std::size_t features, int classes);

/// Writes <directory>/manifest.json atomically: `manifest` plus task, format, encoder, mirtune version, git commit
/// and the training command.
Status writeTaskManifest(const std::filesystem::path& directory, const TaskModelKind& kind,
                         const std::string& encoderId, nlohmann::json manifest, const std::string& command);

}  // namespace mirtune::heads
