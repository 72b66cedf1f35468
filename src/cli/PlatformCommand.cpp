// `mirtune platform`: what this machine is (CPU, memory, OS, compilers, GPUs, OpenCL devices); --record
// stores it.
#include "cli/Commands.h"
#include "database/Database.h"
#include "support/Platform.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace mirtune::cli {

namespace {

struct PlatformOptions {
  bool json = false;
  bool record = false;
};

std::string gibibytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1 << 30));
}

void printText(const PlatformInfo& info) {
  fmt::print("cpu          {} ({} logical cores)\n", info.cpuModel, info.logicalCores);
  fmt::print("memory       {} ({} bytes)\n", gibibytes(info.memoryBytes), info.memoryBytes);
  fmt::print("os           {}\n", info.os);
  bool first = true;
  for (const auto& [name, version] : info.compilers.items()) {
    fmt::print("{:<13}{}: {}\n", first ? "compilers" : "", name, version.get<std::string>());
    first = false;
  }
  if (first) fmt::print("compilers    none found\n");
  if (info.gpus.empty()) fmt::print("gpu          none\n");
  for (const auto& gpu : info.gpus) {
    fmt::print("gpu          {} (driver {}, {})\n", gpu.value("name", "?"), gpu.value("driver_version", "?"),
               gpu.value("memory", "?"));
  }
  std::string status = info.opencl.value("status", "");
  if (status != "ok") {
    fmt::print("opencl       {}\n", info.opencl.value("detail", status));
  } else if (info.opencl["platforms"].empty()) {
    fmt::print("opencl       no platform\n");
  }
  for (const auto& platform : info.opencl.value("platforms", nlohmann::json::array())) {
    fmt::print("opencl       {} ({})\n", platform.value("name", "?"), platform.value("version", "?"));
    for (const auto& device : platform.value("devices", nlohmann::json::array())) {
      fmt::print("               {:<6} {}, driver {}, {}, {} compute units, {}\n", device.value("type", "?"),
                 device.value("name", "?"), device.value("driver_version", "?"),
                 device.value("opencl_c_version", "?"), device.value("compute_units", std::uint64_t{0}),
                 gibibytes(device.value("global_memory_bytes", std::uint64_t{0})));
    }
  }
  for (const std::string& note : info.notes) fmt::print("note         {}\n", note);
  fmt::print("fingerprint  {}\n", info.fingerprint);
}

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
    std::cout << output.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return 0;
  }
  printText(info);
  if (platformId) fmt::print("recorded     platform {} in {}\n", *platformId, databasePath);
  return 0;
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
