// The paths an installation resolves (`mirtune info`): named entries, as JSON and as an aligned table.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

/// One resolved path under a name ("encoder", "heads devmap", ...).
struct ResolvedPath {
  std::string group;  ///< "heads", "task_data" or empty for a path of its own
  std::string name;
  std::filesystem::path path;
};

/// Sorted names of the sub-folders of `folder` (none when it is missing or unreadable).
std::vector<std::string> subfolderNames(const std::filesystem::path& folder);

/// {version, commit, paths: {name: {path, exists}, group: {name: {path, exists}}}}.
nlohmann::json toJson(const std::vector<ResolvedPath>& paths);
/// "version", "commit" and one line per path ("heads devmap  /p/…"), "(missing)" after a path that does not
/// exist; underscores in labels read as spaces.
std::string textReport(const std::vector<ResolvedPath>& paths);

}  // namespace mirtune
