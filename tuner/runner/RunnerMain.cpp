// mirtune-run: the measurement runner, a small process with no LLVM or LibTorch so OpenCL drivers load
// safely.
#include "tuner/runner/Lifetime.h"
#include "tuner/runner/OpenClExecute.h"
#include "tuner/runner/OpenClProbe.h"
#include "tuner/runner/ProcessExecute.h"
#include "tuner/runner/RunPlan.h"
#include "support/MeasureStatus.h"

#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: mirtune-run probe [--json] [LIFETIME]\n"
    "       mirtune-run opencl --plan PLAN.json [--device P:D] [--out RESULT.json] [LIFETIME]\n"
    "       mirtune-run opencl-args --source F.cl [--kernel K] [--build-options OPTS] [--device P:D]\n"
    "                               [LIFETIME]\n"
    "       mirtune-run process --plan PLAN.json --results RESULTS.jsonl [--resume] [--json-progress]\n"
    "                           [--die-with-parent] [--parent-pid PID]\n"
    "  probe        list the OpenCL platforms and devices (JSON with --json, one line per device otherwise)\n"
    "  opencl       build, check, run and time one kernel on device P:D (default 0:0) as the plan says;\n"
    "               the result JSON goes to --out (written atomically) or stdout; exit 0 when its status\n"
    "               is ok, 1 when it is build_failed/run_failed/invalid_plan/build_timeout/run_timeout,\n"
    "               2 on a usage error\n"
    "  opencl-args  list each kernel's arguments (clGetKernelArgInfo) as JSON on stdout\n"
    "  process      run the plan's builds (parallel_builds at a time), then time each run alone\n"
    "               (warm-up, repetitions until min_time_seconds and min_repetitions); one JSON line per\n"
    "               finished item is appended to RESULTS; --resume skips items that already have a line;\n"
    "               progress on stderr (JSON lines with --json-progress); exit 0 when all are ok, 1 when\n"
    "               some failed, 2 on a usage error, an invalid plan or an unusable RESULTS, 128+N when\n"
    "               stopped by signal N; each build and run has the plan's own timeout\n"
    "  LIFETIME     --timeout S: end past S seconds with a build_timeout/run_timeout result (opencl,\n"
    "               opencl-args) or an error (probe), even when the kernel hangs in the driver; default:\n"
    "               the plan's timeout_s (opencl), 600 s otherwise\n"
    "               --die-with-parent: end when the process that started the runner ends (killed at once;\n"
    "               process stops as on SIGTERM); mirtune passes it. Leave it out when you start the runner\n"
    "               by hand in the background (nohup): its parent is then your shell\n"
    "               --parent-pid PID: the same, and end at once when PID is neither the parent nor an\n"
    "               ancestor (it died before the runner could ask to follow it)\n";

/// Options every mode takes: when the runner ends although nobody stops it.
struct LifetimeOptions {
  bool dieWithParent = false;
  pid_t parentPid = 0;
  std::optional<double> timeoutSeconds;
};

/// Parses argv[i] when it is a lifetime option (moving i past its value): 1 when it was, 0 when it is some
/// other option, -1 with `error` set when it is malformed.
int parseLifetimeOption(int argc, char** argv, int& i, LifetimeOptions& options, std::string& error) {
  const std::string_view option = argv[i];
  if (option == "--die-with-parent") {
    options.dieWithParent = true;
    return 1;
  }
  if (option != "--parent-pid" && option != "--timeout") return 0;
  if (i + 1 >= argc) {
    error = fmt::format("{} needs a value", option);
    return -1;
  }
  const std::string value = argv[++i];
  char* end = nullptr;
  errno = 0;
  if (option == "--parent-pid") {
    const long pid = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0 || pid <= 0) {
      error = fmt::format("--parent-pid takes a process id, not '{}'", value);
      return -1;
    }
    options.dieWithParent = true;
    options.parentPid = static_cast<pid_t>(pid);
    return 1;
  }
  const double seconds = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno != 0 || !(seconds > 0) || !std::isfinite(seconds)) {
    error = fmt::format("--timeout takes a number of seconds above 0, not '{}'", value);
    return -1;
  }
  options.timeoutSeconds = seconds;
  return 1;
}

/// When the runner started: its own deadlines count from here.
const Clock::time_point kStarted = Clock::now();

int runProbe(bool json, const LifetimeOptions& lifetime) {
  if (lifetime.dieWithParent) mirtune::runner::dieWithParent(SIGKILL, lifetime.parentPid);
  const double seconds = lifetime.timeoutSeconds.value_or(mirtune::runner::kDefaultRunnerTimeoutSeconds);
  mirtune::runner::Watchdog watchdog(
      kStarted, seconds,
      [seconds] {
        fmt::print(stderr, "mirtune-run: error: timed out after {:g} s listing the OpenCL platforms\n",
                   seconds);
      },
      1);
  mirtune::runner::OpenClListing listing = mirtune::runner::probeOpenCl();
  watchdog.disarm();
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

/// Writes an opencl result to `outPath` (or stdout when empty) and says on stderr why it is not ok; returns
/// the exit status.
int emitResult(const nlohmann::json& result, const std::string& outPath) {
  const std::string text = dumpJson(result);
  if (outPath.empty()) {
    fmt::print("{}", text);
  } else if (!writeAtomically(outPath, text)) {
    fmt::print(stderr, "mirtune-run: error: cannot write {}: {}\n", outPath, std::strerror(errno));
    return 1;
  }
  if (result.value("status", "") != mirtune::measureStatusName(mirtune::MeasureStatus::kOk)) {
    fmt::print(stderr, "mirtune-run: {}: {}\n", result.value("status", "?"), result.value("message", ""));
    return 1;
  }
  return 0;
}

/// What a run of the OpenCL modes was doing last, for the watchdog's timeout result.
struct LastPhase {
  std::string phase = "starting";
  bool building = false;
  nlohmann::json soFar;
};

/// The timeout result the watchdog leaves: what was known, and where the run stood when the limit passed.
nlohmann::json timeoutResult(const LastPhase& last, double seconds, const std::string& limitName) {
  nlohmann::json result = last.soFar;
  result["status"] = std::string(mirtune::measureStatusName(
      last.building ? mirtune::MeasureStatus::kBuildTimeout : mirtune::MeasureStatus::kRunTimeout));
  result["message"] = fmt::format("timed out after {:g} s ({}) while {}; the runner stopped itself", seconds,
                                  limitName, last.phase);
  return result;
}

/// A listener that hands each phase to the watchdog's shared state.
mirtune::runner::RunListener recordPhases(mirtune::runner::Watchdog& watchdog, LastPhase& last) {
  return [&watchdog, &last](const std::string& phase, bool building, const nlohmann::json& soFar) {
    watchdog.update([&] {
      last.phase = phase;
      last.building = building;
      last.soFar = soFar;
    });
  };
}

int runOpenCl(int argc, char** argv) {
  std::string planPath;
  std::string outPath;
  int platform = 0;
  int device = 0;
  LifetimeOptions lifetime;
  for (int i = 2; i < argc; ++i) {
    std::string lifetimeError;
    const int lifetimeOption = parseLifetimeOption(argc, argv, i, lifetime, lifetimeError);
    if (lifetimeOption < 0) return usageError(lifetimeError);
    if (lifetimeOption > 0) continue;
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
  if (lifetime.dieWithParent) mirtune::runner::dieWithParent(SIGKILL, lifetime.parentPid);

  nlohmann::json result;
  mirtune::runner::RunPlan plan;
  std::ifstream in(planPath);
  if (!in) {
    result = {{"status", std::string(mirtune::kInvalidPlanStatusName)},
              {"message", fmt::format("{}: cannot read: {}", planPath, std::strerror(errno))}};
  } else {
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json planJson = nlohmann::json::parse(text.str(), nullptr, false);
    std::string error;
    if (planJson.is_discarded()) {
      result = {{"status", std::string(mirtune::kInvalidPlanStatusName)},
                {"message", fmt::format("{}: not valid JSON", planPath)}};
    } else if (!mirtune::runner::parseRunPlan(planJson, plan, error)) {
      result = {{"status", std::string(mirtune::kInvalidPlanStatusName)},
                {"message", fmt::format("{}: {}", planPath, error)}};
    } else {
      const auto slash = planPath.rfind('/');
      const std::string planDirectory = slash == std::string::npos ? "." : planPath.substr(0, slash);
      const double seconds = lifetime.timeoutSeconds.value_or(plan.timeoutSeconds);
      const std::string limitName = lifetime.timeoutSeconds ? "--timeout" : "the plan's timeout_s";
      LastPhase last;
      last.soFar = {{"schema", "mirtune-run-opencl/1"}, {"kernel", plan.kernel}};
      mirtune::runner::Watchdog watchdog(
          kStarted, seconds, [&] { emitResult(timeoutResult(last, seconds, limitName), outPath); }, 1);
      result =
          mirtune::runner::runOpenClPlan(plan, planDirectory, platform, device, recordPhases(watchdog, last));
      watchdog.disarm();
    }
  }
  return emitResult(result, outPath);
}

int runOpenClArgs(int argc, char** argv) {
  std::string source;
  std::string kernel;
  std::string buildOptions;
  int platform = 0;
  int device = 0;
  LifetimeOptions lifetime;
  for (int i = 2; i < argc; ++i) {
    std::string lifetimeError;
    const int lifetimeOption = parseLifetimeOption(argc, argv, i, lifetime, lifetimeError);
    if (lifetimeOption < 0) return usageError(lifetimeError);
    if (lifetimeOption > 0) continue;
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
  if (lifetime.dieWithParent) mirtune::runner::dieWithParent(SIGKILL, lifetime.parentPid);
  const double seconds = lifetime.timeoutSeconds.value_or(mirtune::runner::kDefaultRunnerTimeoutSeconds);
  LastPhase last;
  last.soFar = {{"schema", "mirtune-run-opencl-args/1"}, {"source", source}};
  mirtune::runner::Watchdog watchdog(
      kStarted, seconds, [&] { emitResult(timeoutResult(last, seconds, "--timeout"), ""); }, 1);
  nlohmann::json result = mirtune::runner::listOpenClKernelArgs(source, kernel, buildOptions, platform,
                                                                device, recordPhases(watchdog, last));
  watchdog.disarm();
  return emitResult(result, "");
}

int runProcess(int argc, char** argv) {
  mirtune::runner::ProcessCommandOptions options;
  LifetimeOptions lifetime;
  for (int i = 2; i < argc; ++i) {
    std::string lifetimeError;
    const int lifetimeOption = parseLifetimeOption(argc, argv, i, lifetime, lifetimeError);
    if (lifetimeOption < 0) return usageError(lifetimeError);
    if (lifetimeOption > 0) {
      // Each build and run carries its own limit; one over the whole plan would cut a long plan short.
      if (lifetime.timeoutSeconds)
        return usageError("process takes no --timeout: each item has timeout_seconds");
      continue;
    }
    std::string_view option = argv[i];
    if (option == "--resume") {
      options.resume = true;
    } else if (option == "--json-progress") {
      options.jsonProgress = true;
    } else if (option == "--plan" || option == "--results") {
      if (i + 1 >= argc) return usageError(fmt::format("{} needs a value", option));
      (option == "--plan" ? options.planPath : options.resultsPath) = argv[++i];
    } else {
      return usageError(fmt::format("unknown option '{}' for process", option));
    }
  }
  if (options.planPath.empty()) return usageError("process needs --plan PLAN.json");
  if (options.resultsPath.empty()) return usageError("process needs --results RESULTS.jsonl");
  options.dieWithParent = lifetime.dieWithParent;
  options.parentPid = lifetime.parentPid;
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
    LifetimeOptions lifetime;
    for (int i = 2; i < argc; ++i) {
      std::string lifetimeError;
      const int lifetimeOption = parseLifetimeOption(argc, argv, i, lifetime, lifetimeError);
      if (lifetimeOption < 0) return usageError(lifetimeError);
      if (lifetimeOption > 0) continue;
      std::string_view option = argv[i];
      if (option == "--json") {
        json = true;
      } else {
        return usageError(fmt::format("unknown option '{}' for probe", option));
      }
    }
    return runProbe(json, lifetime);
  }
  if (command == "opencl") return runOpenCl(argc, argv);
  if (command == "opencl-args") return runOpenClArgs(argc, argv);
  if (command == "process") return runProcess(argc, argv);
  return usageError(fmt::format("unknown command '{}'", command));
}
