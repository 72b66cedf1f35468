// mirtune-run: the measurement runner, a small process with no LLVM or LibTorch so OpenCL drivers load
// safely.
#include "OpenClProbe.h"

#include <fmt/format.h>

#include <cstdio>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: mirtune-run probe [--json]\n"
    "  probe    list the OpenCL platforms and devices (JSON with --json, one line per device otherwise)\n";

int runProbe(bool json) {
  mirtune::runner::OpenClListing listing = mirtune::runner::probeOpenCl();
  if (!listing.error.empty()) {
    fmt::print(stderr, "mirtune-run: error: {}\n", listing.error);
    return 1;
  }
  if (json) {
    fmt::print("{}\n", listing.json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  if (listing.json["platforms"].empty()) fmt::print("no OpenCL platform\n");
  for (const auto& platform : listing.json["platforms"]) {
    fmt::print("{} ({})\n", platform.value("name", "?"), platform.value("version", "?"));
    for (const auto& device : platform["devices"]) {
      fmt::print("  {:<6} {}  driver {}  {}  {} compute units  {} MiB\n", device.value("type", "?"),
                 device.value("name", "?"), device.value("driver_version", "?"),
                 device.value("opencl_c_version", "?"), device.value("compute_units", std::uint64_t{0}),
                 device.value("global_memory_bytes", std::uint64_t{0}) / (1024 * 1024));
    }
    if (platform.contains("error")) fmt::print("  error: {}\n", platform["error"].get<std::string>());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "{}", kUsage);
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "-h" || command == "--help") {
    fmt::print("{}", kUsage);
    return 0;
  }
  if (command == "probe") {
    bool json = false;
    for (int i = 2; i < argc; ++i) {
      std::string_view option = argv[i];
      if (option == "--json") {
        json = true;
      } else {
        fmt::print(stderr, "mirtune-run: error: unknown option '{}' for probe\n{}", option, kUsage);
        return 2;
      }
    }
    return runProbe(json);
  }
  fmt::print(stderr, "mirtune-run: error: unknown command '{}'\n{}", command, kUsage);
  return 2;
}
