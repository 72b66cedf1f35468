// mirtune-run: the measurement runner, a small process with no LLVM or LibTorch so OpenCL drivers load
// safely.
#include "runner/OpenClExecute.h"
#include "runner/OpenClProbe.h"
#include "runner/ProcessExecute.h"
#include "runner/RunPlan.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: mirtune-run probe [--json]\n"
    "       mirtune-run opencl --plan PLAN.json [--device P:D] [--out RESULT.json]\n"
    "       mirtune-run opencl-args --source F.cl [--kernel K] [--build-options OPTS] [--device P:D]\n"
    "       mirtune-run process --plan PLAN.json --results RESULTS.jsonl [--resume] [--json-progress]\n"
    "                           [--die-with-parent]\n"
    "  probe        list the OpenCL platforms and devices (JSON with --json, one line per device otherwise)\n"
    "  opencl       build, check, run and time one kernel on device P:D (default 0:0) as the plan says;\n"
    "               the result JSON goes to --out (written atomically) or stdout; exit 0 when its status\n"
    "               is ok, 1 when it is build_failed/run_failed/invalid_plan, 2 on a usage error\n"
    "  opencl-args  list each kernel's arguments (clGetKernelArgInfo) as JSON on stdout\n"
    "  process      run the plan's builds (parallel_builds at a time), then time each run alone\n"
    "               (warm-up, repetitions until min_time_seconds and min_repetitions); one JSON line per\n"
    "               finished item is appended to RESULTS; --resume skips items that already have a line;\n"
    "               progress on stderr (JSON lines with --json-progress); exit 0 when all are ok, 1 when\n"
    "               some failed, 2 on a usage error, an invalid plan or an unusable RESULTS, 128+N when\n"
    "               stopped by signal N; --die-with-parent stops it when the process that started it dies\n";

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

int usageError(const std::string& message) {
  fmt::print(stderr, "mirtune-run: error: {}\n{}", message, kUsage);
  return 2;
}

bool parseDevice(std::string_view text, int& platform, int& device) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  try {
    std::size_t used = 0;
    platform = std::stoi(std::string(text.substr(0, colon)), &used);
    if (used != colon) return false;
    const std::string rest(text.substr(colon + 1));
    device = std::stoi(rest, &used);
    return used == rest.size() && platform >= 0 && device >= 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::string dumpJson(const nlohmann::json& json) {
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

/// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half a result.
bool writeAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

int runOpenCl(int argc, char** argv) {
  std::string planPath;
  std::string outPath;
  int platform = 0;
  int device = 0;
  for (int i = 2; i < argc; ++i) {
    std::string_view option = argv[i];
    if ((option == "--plan" || option == "--out" || option == "--device") && i + 1 >= argc) {
      return usageError(fmt::format("{} needs a value", option));
    }
    if (option == "--plan") {
      planPath = argv[++i];
    } else if (option == "--out") {
      outPath = argv[++i];
    } else if (option == "--device") {
      if (!parseDevice(argv[++i], platform, device)) return usageError("--device takes P:D, e.g. 0:0");
    } else {
      return usageError(fmt::format("unknown option '{}' for opencl", option));
    }
  }
  if (planPath.empty()) return usageError("opencl needs --plan PLAN.json");

  nlohmann::json result;
  mirtune::runner::RunPlan plan;
  std::ifstream in(planPath);
  if (!in) {
    result = {{"status", "invalid_plan"},
              {"message", fmt::format("{}: cannot read: {}", planPath, std::strerror(errno))}};
  } else {
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json planJson = nlohmann::json::parse(text.str(), nullptr, false);
    std::string error;
    if (planJson.is_discarded()) {
      result = {{"status", "invalid_plan"}, {"message", fmt::format("{}: not valid JSON", planPath)}};
    } else if (!mirtune::runner::parseRunPlan(planJson, plan, error)) {
      result = {{"status", "invalid_plan"}, {"message", fmt::format("{}: {}", planPath, error)}};
    } else {
      const auto slash = planPath.rfind('/');
      const std::string planDirectory = slash == std::string::npos ? "." : planPath.substr(0, slash);
      result = mirtune::runner::runOpenClPlan(plan, planDirectory, platform, device);
    }
  }
  const std::string text = dumpJson(result);
  if (outPath.empty()) {
    fmt::print("{}", text);
  } else if (!writeAtomically(outPath, text)) {
    fmt::print(stderr, "mirtune-run: error: cannot write {}: {}\n", outPath, std::strerror(errno));
    return 1;
  }
  if (result.value("status", "") != "ok") {
    fmt::print(stderr, "mirtune-run: {}: {}\n", result.value("status", "?"), result.value("message", ""));
    return 1;
  }
  return 0;
}

int runOpenClArgs(int argc, char** argv) {
  std::string source;
  std::string kernel;
  std::string buildOptions;
  int platform = 0;
  int device = 0;
  for (int i = 2; i < argc; ++i) {
    std::string_view option = argv[i];
    if (option != "--source" && option != "--kernel" && option != "--build-options" && option != "--device") {
      return usageError(fmt::format("unknown option '{}' for opencl-args", option));
    }
    if (i + 1 >= argc) return usageError(fmt::format("{} needs a value", option));
    const std::string value = argv[++i];
    if (option == "--source") source = value;
    if (option == "--kernel") kernel = value;
    if (option == "--build-options") buildOptions = value;
    if (option == "--device" && !parseDevice(value, platform, device)) {
      return usageError("--device takes P:D, e.g. 0:0");
    }
  }
  if (source.empty()) return usageError("opencl-args needs --source F.cl");
  nlohmann::json result =
      mirtune::runner::listOpenClKernelArgs(source, kernel, buildOptions, platform, device);
  fmt::print("{}", dumpJson(result));
  if (result.value("status", "") != "ok") {
    fmt::print(stderr, "mirtune-run: {}: {}\n", result.value("status", "?"), result.value("message", ""));
    return 1;
  }
  return 0;
}

int runProcess(int argc, char** argv) {
  mirtune::runner::ProcessCommandOptions options;
  for (int i = 2; i < argc; ++i) {
    std::string_view option = argv[i];
    if (option == "--resume") {
      options.resume = true;
    } else if (option == "--json-progress") {
      options.jsonProgress = true;
    } else if (option == "--die-with-parent") {
      options.dieWithParent = true;
    } else if (option == "--plan" || option == "--results") {
      if (i + 1 >= argc) return usageError(fmt::format("{} needs a value", option));
      (option == "--plan" ? options.planPath : options.resultsPath) = argv[++i];
    } else {
      return usageError(fmt::format("unknown option '{}' for process", option));
    }
  }
  if (options.planPath.empty()) return usageError("process needs --plan PLAN.json");
  if (options.resultsPath.empty()) return usageError("process needs --results RESULTS.jsonl");
  return mirtune::runner::runProcessCommand(options);
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
        return usageError(fmt::format("unknown option '{}' for probe", option));
      }
    }
    return runProbe(json);
  }
  if (command == "opencl") return runOpenCl(argc, argv);
  if (command == "opencl-args") return runOpenClArgs(argc, argv);
  if (command == "process") return runProcess(argc, argv);
  return usageError(fmt::format("unknown command '{}'", command));
}
