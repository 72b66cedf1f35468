// Text report of a probed platform.
#include "support/PlatformReport.h"

#include <fmt/format.h>

namespace mirtune {
namespace {

std::string gibibytes(std::uint64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1 << 30)); }

}  // namespace

std::string textReport(const PlatformInfo& info) {
  std::string text = fmt::format("cpu          {} ({} logical cores)\n", info.cpuModel, info.logicalCores);
  text += fmt::format("memory       {} ({} bytes)\n", gibibytes(info.memoryBytes), info.memoryBytes);
  text += fmt::format("os           {}\n", info.os);
  bool first = true;
  for (const auto& [name, version] : info.compilers.items()) {
    text += fmt::format("{:<13}{}: {}\n", first ? "compilers" : "", name, version.get<std::string>());
    first = false;
  }
  if (first) text += "compilers    none found\n";
  if (info.gpus.empty()) text += "gpu          none\n";
  for (const auto& gpu : info.gpus) {
    text += fmt::format("gpu          {} (driver {}, {})\n", gpu.value("name", "?"), gpu.value("driver_version", "?"),
                        gpu.value("memory", "?"));
  }
  std::string status = info.opencl.value("status", "");
  if (status != "ok") {
    text += fmt::format("opencl       {}\n", info.opencl.value("detail", status));
  } else if (info.opencl["platforms"].empty()) {
    text += "opencl       no platform\n";
  }
  for (const auto& platform : info.opencl.value("platforms", nlohmann::json::array())) {
    text += fmt::format("opencl       {} ({})\n", platform.value("name", "?"), platform.value("version", "?"));
    for (const auto& device : platform.value("devices", nlohmann::json::array())) {
      text += fmt::format("               {:<6} {}, driver {}, {}, {} compute units, {}\n", device.value("type", "?"),
                          device.value("name", "?"), device.value("driver_version", "?"),
                          device.value("opencl_c_version", "?"), device.value("compute_units", std::uint64_t{0}),
                          gibibytes(device.value("global_memory_bytes", std::uint64_t{0})));
    }
  }
  for (const std::string& note : info.notes) text += fmt::format("note         {}\n", note);
  text += fmt::format("fingerprint  {}\n", info.fingerprint);
  return text;
}

}  // namespace mirtune
