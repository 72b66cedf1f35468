// JSON and text forms of the resolved installation paths.
#include "support/ResolvedPaths.h"

#include "support/Files.h"

#include <fmt/format.h>

#include <algorithm>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

bool pathExists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace

std::vector<std::string> subfolderNames(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json toJson(const std::vector<ResolvedPath>& paths) {
  nlohmann::json output = {{"version", std::string(toolVersion())}, {"commit", std::string(gitCommit())}};
  nlohmann::json& listed = output["paths"] = nlohmann::json::object();
  for (const ResolvedPath& entry : paths) {
    nlohmann::json value = {{"path", entry.path.string()}, {"exists", pathExists(entry.path)}};
    if (entry.group.empty()) {
      listed[entry.name] = std::move(value);
    } else {
      listed[entry.group][entry.name] = std::move(value);
    }
  }
  return output;
}

std::string textReport(const std::vector<ResolvedPath>& paths) {
  std::string text = fmt::format("{:<22}{}\n{:<22}{}\n", "version", toolVersion(), "commit", gitCommit());
  for (const ResolvedPath& entry : paths) {
    std::string label = entry.group.empty() ? entry.name : fmt::format("{} {}", entry.group, entry.name);
    std::replace(label.begin(), label.end(), '_', ' ');
    text += fmt::format("{:<22}{}{}\n", label, entry.path.string(), pathExists(entry.path) ? "" : "  (missing)");
  }
  return text;
}

}  // namespace mirtune
