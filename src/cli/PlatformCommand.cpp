// `mirtune platform`: what this machine is (CPU, memory, OS, compilers, GPUs, OpenCL devices); --record
// stores it.
#include "cli/Commands.h"
#include "database/Database.h"
#include "support/PlatformReport.h"

#include <memory>

namespace mirtune::cli {

namespace {

struct PlatformOptions {
  bool json = false;
  bool record = false;
};

int runPlatform(const GlobalOptions& global, const PlatformOptions& options) {
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  PlatformInfo info = probePlatform(probe);

  std::optional<std::int64_t> platformId;
  std::string databasePath;
  if (options.record) {
    databasePath = resolveDatabasePath(global);
    auto database = Database::open(databasePath);
    if (!database) return reportError(database.error());
    auto id = database->upsertPlatform(platformRecordFromProbe(info));
    if (!id) return reportError(id.error());
    platformId = *id;
  }

  if (options.json) {
    nlohmann::json output = info.toJson();
    if (platformId) output["platform_id"] = *platformId;
    return writeOutput("", output.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  std::string text = textReport(info);
  if (platformId) text += fmt::format("recorded     platform {} in {}\n", *platformId, databasePath);
  return writeOutput("", text);
}

}  // namespace

void addPlatformCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto options = std::make_shared<PlatformOptions>();
  CLI::App* platform = app.add_subcommand(
      "platform",
      "Describe this machine: CPU, memory, OS, compilers, GPUs and OpenCL devices (via mirtune-run)");
  platform->add_flag("--json", options->json, "Print JSON instead of text");
  platform->add_flag(
      "--record", options->record,
      "Store the description in the platforms table (deduplicated by fingerprint) and print its id");
  platform->callback(
      [&global, &action, options] { action = [&global, options] { return runPlatform(global, *options); }; });
}

}  // namespace mirtune::cli
