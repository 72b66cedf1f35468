// `mirtune info`: version, commit and every folder and file mirtune would use here, each with whether it
// exists.
#include "cli/Commands.h"
#include "embeddings/Encoder.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"
#include "support/Platform.h"
#include "tasks/common/TaskModel.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mirtune::cli {

namespace {

namespace fs = std::filesystem;

struct InfoOptions {
  bool json = false;
};

/// One resolved path under a name ("encoder", "heads devmap-1.0", ...).
struct ResolvedPath {
  std::string group;  ///< "heads", "task data" or empty for a path of its own
  std::string name;
  fs::path path;
};

bool pathExists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

/// Sorted names of the sub-folders of `folder` (none when it is missing).
std::vector<std::string> subfolders(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<ResolvedPath> resolvedPaths(const GlobalOptions& global) {
  const fs::path share = shareDirectory();
  std::vector<ResolvedPath> paths = {{"", "share", share},
                                     {"", "encoder", Encoder::defaultDirectory()},
                                     {"", "tokenizer", Tokenizer::defaultDirectory()}};
  // The shipped heads of each task, found by listing the share folder so a new task or head needs no entry
  // here; taskModelDirectory applies $MIRTUNE_MODELS.
  const std::vector<std::string> tasks = subfolders(share / "tasks");
  for (const std::string& task : tasks) {
    const std::vector<std::string> names = subfolders(share / "tasks" / task / "models");
    for (const std::string& name : names) {
      // Keyed by task; a task shipping several heads folders lists each as <task>/<name>.
      paths.push_back(
          {"heads", names.size() == 1 ? task : task + "/" + name, heads::taskModelDirectory(task, name)});
    }
  }
  paths.push_back({"", "kernels", share / "kernels"});
  for (const std::string& task : tasks) {
    if (pathExists(share / "tasks" / task / "data"))
      paths.push_back({"task_data", task, share / "tasks" / task / "data"});
  }
  paths.push_back({"", "datasets", dataDirectory()});
  paths.push_back({"", "database", fs::path(resolveDatabasePath(global))});
  paths.push_back({"", "runner", runnerExecutablePath()});
  paths.push_back({"", "user_data", userDataDirectory()});
  return paths;
}

std::string infoJson(const std::vector<ResolvedPath>& paths) {
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
  return output.dump(2) + "\n";
}

std::string infoText(const std::vector<ResolvedPath>& paths) {
  std::string text = fmt::format("{:<22}{}\n{:<22}{}\n", "version", toolVersion(), "commit", gitCommit());
  for (const ResolvedPath& entry : paths) {
    std::string label = entry.group.empty() ? entry.name : fmt::format("{} {}", entry.group, entry.name);
    std::replace(label.begin(), label.end(), '_', ' ');
    text +=
        fmt::format("{:<22}{}{}\n", label, entry.path.string(), pathExists(entry.path) ? "" : "  (missing)");
  }
  return text;
}

}  // namespace

void addInfoCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* info = app.add_subcommand(
      "info", "Version, commit and the models, kernels, data, database and runner this mirtune uses");
  info->add_flag("--json", options->json, "Print JSON instead of text");
  info->callback([&global, &action, options] {
    action = [&global, options] {
      const std::vector<ResolvedPath> paths = resolvedPaths(global);
      return writeOutput("", options->json ? infoJson(paths) : infoText(paths));
    };
  });
}

}  // namespace mirtune::cli
