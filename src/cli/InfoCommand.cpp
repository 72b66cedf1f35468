// `mirtune info`: version, commit and every folder and file mirtune would use here, each with whether it
// exists.
#include "cli/Commands.h"
#include "embeddings/Encoder.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"
#include "support/Platform.h"
#include "support/ResolvedPaths.h"
#include "tasks/common/TaskModel.h"

#include <memory>

namespace mirtune::cli {

namespace {

namespace fs = std::filesystem;

struct InfoOptions {
  bool json = false;
};

std::vector<ResolvedPath> resolvedPaths(const GlobalOptions& global) {
  const fs::path share = shareDirectory();
  std::vector<ResolvedPath> paths = {{"", "share", share},
                                     {"", "encoder", Encoder::defaultDirectory()},
                                     {"", "tokenizer", Tokenizer::defaultDirectory()}};
  // The shipped heads of each task, found by listing the share folder so a new task or head needs no entry
  // here; taskModelDirectory applies $MIRTUNE_MODELS.
  const std::vector<std::string> tasks = subfolderNames(share / "tasks");
  for (const std::string& task : tasks) {
    const std::vector<std::string> names = subfolderNames(share / "tasks" / task / "models");
    for (const std::string& name : names) {
      // Keyed by task; a task shipping several heads folders lists each as <task>/<name>.
      paths.push_back(
          {"heads", names.size() == 1 ? task : task + "/" + name, heads::taskModelDirectory(task, name)});
    }
  }
  paths.push_back({"", "kernels", share / "kernels"});
  for (const std::string& task : tasks) {
    std::error_code ec;
    if (fs::exists(share / "tasks" / task / "data", ec))
      paths.push_back({"task_data", task, share / "tasks" / task / "data"});
  }
  paths.push_back({"", "datasets", dataDirectory()});
  paths.push_back({"", "database", fs::path(resolveDatabasePath(global))});
  paths.push_back({"", "runner", runnerExecutablePath()});
  paths.push_back({"", "user_data", userDataDirectory()});
  return paths;
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
      return writeOutput("", options->json ? toJson(paths).dump(2) + "\n" : textReport(paths));
    };
  });
}

}  // namespace mirtune::cli
