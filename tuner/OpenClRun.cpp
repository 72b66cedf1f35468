// runOnAllDevices: one runner process per device, failures kept as results, outputs compared across devices.
#include "tuner/OpenClRun.h"

#include "support/Files.h"
#include "support/Subprocess.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kStderrExcerptBytes = 4000;
/// How much longer than a runner's own deadline this process waits before it kills the runner: the runner
/// normally ends itself and says where it stood; this limit only catches a runner that cannot.
constexpr double kRunnerDeadlineSlackSeconds = 10;

/// The options that tie a runner to this process and to `timeoutSeconds` (none when <= 0): it ends itself
/// past its deadline and when this process dies (even by SIGKILL), so a hung kernel never spins on unwatched.
void addLifetimeOptions(std::vector<std::string>& argv, double timeoutSeconds) {
  if (timeoutSeconds > 0) {
    argv.push_back("--timeout");
    argv.push_back(fmt::format("{}", timeoutSeconds));
  }
  argv.push_back("--parent-pid");
  argv.push_back(std::to_string(::getpid()));
}

/// This process's limit for a runner that has its own deadline of `timeoutSeconds` (none when <= 0).
double parentLimit(double timeoutSeconds) {
  return timeoutSeconds > 0 ? timeoutSeconds + kRunnerDeadlineSlackSeconds : 0;
}

std::string excerpt(const std::string& text) {
  if (text.size() <= kStderrExcerptBytes) return text;
  return "..." + text.substr(text.size() - kStderrExcerptBytes);
}

/// A fresh folder under the system temporary directory, or the request's own.
Expected<fs::path> makeWorkDirectory(const fs::path& requested) {
  std::error_code error;
  if (!requested.empty()) {
    fs::create_directories(requested, error);
    if (error)
      return makeError(ErrorCode::kIo, "{}: cannot create folder: {}", requested.string(), error.message());
    return fs::absolute(requested);
  }
  static std::atomic<unsigned> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  fs::path path = fs::temp_directory_path(error) /
                  fmt::format("mirtune-run-{}-{}-{}", getpid(), counter.fetch_add(1), stamp);
  if (error) return makeError(ErrorCode::kIo, "no temporary folder: {}", error.message());
  fs::create_directories(path, error);
  if (error) return makeError(ErrorCode::kIo, "{}: cannot create folder: {}", path.string(), error.message());
  return path;
}

void fillFromResultJson(const nlohmann::json& json, DeviceRunResult& device) {
  if (json.contains("device") && json["device"].is_object()) {
    const auto& info = json["device"];
    device.platformName = info.value("platform", device.platformName);
    device.name = info.value("name", device.name);
    device.type = info.value("type", device.type);
    device.vendor = info.value("vendor", "");
    device.driverVersion = info.value("driver_version", "");
  }
  auto samples = [&](const char* key) {
    std::vector<double> values;
    if (json.contains(key) && json[key].is_array()) {
      for (const auto& value : json[key]) values.push_back(value.get<double>());
    }
    return values;
  };
  device.kernelSeconds = samples("kernel_seconds");
  device.totalSeconds = samples("total_seconds");
  device.medianKernelSeconds = json.value("median_kernel_s", 0.0);
  device.iqrKernelSeconds = json.value("iqr_kernel_s", 0.0);
  device.medianTotalSeconds = json.value("median_total_s", 0.0);
  device.iqrTotalSeconds = json.value("iqr_total_s", 0.0);
  device.buildLog = json.value("build_log", "");
  if (json.contains("outputs") && json["outputs"].is_array()) {
    for (const auto& output : json["outputs"]) {
      if (output.contains("file"))
        device.outputFiles[output.value("arg", std::size_t{0})] = output.value("file", "");
    }
  }
}

std::string deviceLabel(const DeviceRunResult& device) {
  return fmt::format("device {}:{} ({})", device.platformIndex, device.deviceIndex, device.name);
}

std::string bufferLabel(const runner::RunPlan& plan, std::size_t index) {
  const std::string& name = plan.args[index].name;
  return name.empty() ? fmt::format("argument {}", index)
                      : fmt::format("buffer '{}' (argument {})", name, index);
}

}  // namespace

Expected<std::vector<OpenClDevice>> probeOpenClDevices(const fs::path& runnerExecutable,
                                                       double timeoutSeconds) {
  SubprocessOptions options;
  options.argv = {runnerExecutable.string(), "probe", "--json"};
  addLifetimeOptions(options.argv, timeoutSeconds);
  options.timeoutSeconds = parentLimit(timeoutSeconds);
  auto run = runSubprocess(options);
  if (!run) return run.error().withContext("mirtune-run probe");
  if (!run->succeeded()) {
    return makeError(ErrorCode::kInternal, "mirtune-run probe: {}: {}", run->describe(),
                     excerpt(run->standardError));
  }
  nlohmann::json listing = nlohmann::json::parse(run->standardOutput, nullptr, false);
  if (listing.is_discarded() || !listing.contains("platforms")) {
    return makeError(ErrorCode::kInternal, "mirtune-run probe --json printed no listing");
  }
  std::vector<OpenClDevice> devices;
  int platformIndex = 0;
  for (const auto& platform : listing["platforms"]) {
    int deviceIndex = 0;
    for (const auto& device : platform.value("devices", nlohmann::json::array())) {
      devices.push_back({platformIndex, deviceIndex, platform.value("name", ""), device.value("name", ""),
                         device.value("type", "")});
      ++deviceIndex;
    }
    ++platformIndex;
  }
  return devices;
}

std::optional<std::string> compareBuffers(const runner::HostArray& actual, const runner::HostArray& expected,
                                          const Tolerance& tolerance, const std::string& bufferName) {
  if (actual.type != expected.type || actual.elements != expected.elements) {
    return fmt::format("{}: {} {} elements, expected {} {}", bufferName, actual.elements,
                       runner::elementTypeInfo(actual.type).name, expected.elements,
                       runner::elementTypeInfo(expected.type).name);
  }
  const bool isFloat = runner::elementTypeInfo(actual.type).isFloat;
  std::uint64_t differing = 0;
  std::uint64_t first = 0;
  for (std::uint64_t i = 0; i < actual.elements; ++i) {
    bool equal = false;
    if (isFloat) {
      const double a = actual.valueAsDouble(i);
      const double e = expected.valueAsDouble(i);
      equal = (std::isnan(a) && std::isnan(e)) ||
              std::fabs(a - e) <= tolerance.absolute + tolerance.relative * std::fabs(e);
    } else {
      equal = actual.valueAsInt(i) == expected.valueAsInt(i);
    }
    if (!equal) {
      if (differing == 0) first = i;
      ++differing;
    }
  }
  if (differing == 0) return std::nullopt;
  auto show = [&](const runner::HostArray& array) {
    return isFloat ? fmt::format("{:.9g}", array.valueAsDouble(first))
                   : fmt::format("{}", array.valueAsInt(first));
  };
  return fmt::format(
      "{} differs first at index {} ({} vs expected {}; {} of {} elements differ{})", bufferName, first,
      show(actual), show(expected), differing, actual.elements,
      isFloat ? fmt::format(", tolerance relative {:g} absolute {:g}", tolerance.relative, tolerance.absolute)
              : std::string(", integers must be equal"));
}

DeviceRunResult deviceRunResultFor(const OpenClDevice& device) {
  DeviceRunResult result;
  result.platformIndex = device.platformIndex;
  result.deviceIndex = device.deviceIndex;
  result.platformName = device.platformName;
  result.name = device.name;
  result.type = device.type;
  return result;
}

OpenClDevice openClDeviceOf(const DeviceRunResult& result) {
  OpenClDevice device;
  device.platformIndex = result.platformIndex;
  device.deviceIndex = result.deviceIndex;
  device.platformName = result.platformName;
  device.name = result.name;
  device.type = result.type;
  return device;
}

Expected<OpenClRunResult> runOnAllDevices(const OpenClRunRequest& request, const fs::path& runnerExecutable) {
  std::vector<OpenClDevice> devices = request.devices;
  if (devices.empty()) {
    auto probed = probeOpenClDevices(runnerExecutable);
    if (!probed) return probed.error();
    devices = std::move(*probed);
  }
  if (devices.empty()) {
    return makeError(
        ErrorCode::kNotFound,
        "no OpenCL device: the ICD loader lists no platform (install an ICD such as pocl-opencl-icd "
        "or set OCL_ICD_VENDORS)");
  }
  auto work = makeWorkDirectory(request.workDirectory);
  if (!work) return work.error();
  const bool temporary = request.workDirectory.empty();
  struct Cleanup {
    fs::path path;
    bool active;
    ~Cleanup() {
      std::error_code ignored;
      if (active) fs::remove_all(path, ignored);
    }
  } cleanup{*work, temporary};

  OpenClRunResult result;
  std::vector<bool> invalidPlan;
  std::string invalidPlanMessage;
  for (const OpenClDevice& device : devices) {
    DeviceRunResult outcome = deviceRunResultFor(device);
    const fs::path directory = *work / fmt::format("device-{}-{}", device.platformIndex, device.deviceIndex);
    const fs::path outputs = directory / "outputs";
    std::error_code error;
    fs::create_directories(outputs, error);
    if (error)
      return makeError(ErrorCode::kIo, "{}: cannot create folder: {}", outputs.string(), error.message());
    runner::RunPlan plan = request.plan;
    plan.outputDirectory = outputs.string();
    // The runner enforces the request's limit itself (a hung kernel cannot be interrupted from outside the
    // driver, only ended with the process).
    if (request.timeoutSeconds > 0) plan.timeoutSeconds = request.timeoutSeconds;
    if (!plan.source.empty() && fs::path(plan.source).is_relative())
      plan.source = fs::absolute(plan.source).string();
    const fs::path planPath = directory / "plan.json";
    const fs::path resultPath = directory / "result.json";
    fs::remove(resultPath, error);
    if (Status written = writeFileAtomically(planPath, runner::runPlanToJson(plan).dump(2)); !written) {
      return written.error();
    }

    SubprocessOptions options;
    options.argv = {runnerExecutable.string(),
                    "opencl",
                    "--plan",
                    planPath.string(),
                    "--device",
                    fmt::format("{}:{}", device.platformIndex, device.deviceIndex),
                    "--out",
                    resultPath.string()};
    addLifetimeOptions(options.argv, 0);  // the plan carries the deadline
    options.timeoutSeconds = parentLimit(plan.timeoutSeconds);
    options.environment = request.environment;
    auto run = runSubprocess(options);
    if (!run) return run.error().withContext("mirtune-run opencl");
    outcome.wallSeconds = run->wallSeconds;
    outcome.standardError = excerpt(run->standardError);
    bool planRejected = false;
    if (run->timedOut) {
      outcome.status = MeasureStatus::kRunTimeout;
      outcome.message =
          fmt::format("the runner {} (its own limit {:g} s did not end it) and its process group was killed",
                      run->describe(), plan.timeoutSeconds);
    } else {
      nlohmann::json json;
      if (fs::exists(resultPath)) {
        auto text = readFile(resultPath);
        if (text) json = nlohmann::json::parse(*text, nullptr, false);
      }
      if (!json.is_object() || !json.contains("status")) {
        outcome.status = MeasureStatus::kRunFailed;
        outcome.message = fmt::format("the runner ended without a result ({})", run->describe());
      } else {
        outcome = deviceResultFromJson(json, device);
        outcome.wallSeconds = run->wallSeconds;
        outcome.standardError = excerpt(run->standardError);
        planRejected = json.value("status", "") == "invalid_plan";
        if (planRejected && invalidPlanMessage.empty()) invalidPlanMessage = outcome.message;
      }
    }
    if (outcome.status != MeasureStatus::kOk && outcome.status != MeasureStatus::kBuildFailed &&
        !outcome.standardError.empty() && !planRejected) {
      outcome.message += fmt::format("; runner stderr: {}", outcome.standardError);
    }
    invalidPlan.push_back(planRejected);
    result.devices.push_back(std::move(outcome));
  }
  if (std::all_of(invalidPlan.begin(), invalidPlan.end(), [](bool rejected) { return rejected; })) {
    return makeError(ErrorCode::kInvalidInput, "{}", invalidPlanMessage);
  }

  // Expected outputs from the host reference, when there is one.
  std::map<std::size_t, runner::HostArray> expected;
  if (request.reference) {
    ReferenceArgs args = makeReferenceArgs(request.plan);
    if (Status computed = request.reference(args); !computed) {
      return computed.error().withContext(fmt::format("reference '{}'", request.referenceName));
    }
    for (std::size_t i = 0; i < request.plan.args.size(); ++i) {
      const auto& arg = request.plan.args[i];
      if (arg.kind == runner::ArgKind::kBuffer && arg.role != runner::ArgRole::kIn)
        expected[i] = args.buffers[i];
    }
  }
  // The first ok device that matches the reference is the baseline for the others.
  std::map<std::size_t, runner::HostArray> baseline;
  const DeviceRunResult* baselineDevice = nullptr;
  for (DeviceRunResult& device : result.devices) {
    if (device.status != MeasureStatus::kOk) continue;
    const bool byReference = static_cast<bool>(request.reference);
    auto actual = checkDeviceOutputs(
        device, request.plan, byReference ? expected : baseline, request.tolerance,
        byReference ? fmt::format("reference '{}'", request.referenceName)
                    : baselineDevice != nullptr ? fmt::format("compared with {}", deviceLabel(*baselineDevice)) : "");
    if (device.status == MeasureStatus::kOk && baselineDevice == nullptr) {
      baselineDevice = &device;
      baseline = std::move(actual);
    }
  }
  if (temporary) {
    for (DeviceRunResult& device : result.devices) device.outputFiles.clear();
  }
  return result;
}

std::map<std::size_t, runner::HostArray> checkDeviceOutputs(DeviceRunResult& device, const runner::RunPlan& plan,
                                                            const std::map<std::size_t, runner::HostArray>& expected,
                                                            const Tolerance& tolerance, const std::string& against) {
  std::map<std::size_t, runner::HostArray> actual;
  for (std::size_t i = 0; i < plan.args.size() && device.status == MeasureStatus::kOk; ++i) {
    const auto& arg = plan.args[i];
    if (arg.kind != runner::ArgKind::kBuffer || arg.role == runner::ArgRole::kIn) continue;
    auto file = device.outputFiles.find(i);
    std::string error;
    if (file == device.outputFiles.end() || !runner::readNpy(file->second.string(), actual[i], error)) {
      device.status = MeasureStatus::kRunFailed;
      device.message = fmt::format("the runner left no readable output for {}: {}", bufferLabel(plan, i),
                                   error.empty() ? "no file" : error);
      break;
    }
    if (auto reference = expected.find(i); reference != expected.end()) {
      if (auto mismatch = compareBuffers(actual[i], reference->second, tolerance, bufferLabel(plan, i))) {
        device.status = MeasureStatus::kWrongOutput;
        device.message = fmt::format("{} ({})", *mismatch, against);
      }
    }
  }
  return actual;
}

DeviceRunResult deviceResultFromJson(const nlohmann::json& json, const OpenClDevice& device) {
  DeviceRunResult outcome = deviceRunResultFor(device);
  fillFromResultJson(json, outcome);
  outcome.message = json.value("message", "");
  if (const auto build = json.find("build_seconds"); build != json.end() && build->is_number()) {
    outcome.buildSeconds = std::max(0.0, build->get<double>());
  }
  // The OpenCL runner never judges outputs (the tuner does, against the reference), so a "wrong_output" from
  // it is as unexpected as an unknown word or "invalid_plan": all of them are a failed run.
  const std::optional<MeasureStatus> status = measureStatusFromName(json.value("status", ""));
  outcome.status = status && *status != MeasureStatus::kWrongOutput ? *status : MeasureStatus::kRunFailed;
  return outcome;
}

Expected<nlohmann::json> listKernelArgs(const fs::path& runnerExecutable, const fs::path& source,
                                        const std::string& buildOptions, double timeoutSeconds) {
  SubprocessOptions options;
  options.argv = {runnerExecutable.string(), "opencl-args", "--source", fs::absolute(source).string()};
  if (!buildOptions.empty()) {
    options.argv.push_back("--build-options");
    options.argv.push_back(buildOptions);
  }
  addLifetimeOptions(options.argv, timeoutSeconds);
  options.timeoutSeconds = parentLimit(timeoutSeconds);
  auto run = runSubprocess(options);
  if (!run) return run.error().withContext("mirtune-run opencl-args");
  if (run->timedOut) return makeError(ErrorCode::kTimeout, "mirtune-run opencl-args {}", run->describe());
  nlohmann::json json = nlohmann::json::parse(run->standardOutput, nullptr, false);
  if (!json.is_object() || !json.contains("status")) {
    return makeError(ErrorCode::kInternal, "mirtune-run opencl-args: {}: {}", run->describe(),
                     excerpt(run->standardError));
  }
  const std::string status = json.value("status", "");
  if (status == "build_failed") {
    return makeError(ErrorCode::kCompileError, "{}: {}\n{}", source.string(), json.value("message", ""),
                     json.value("build_log", ""));
  }
  if (status == "build_timeout" || status == "run_timeout")
    return makeError(ErrorCode::kTimeout, "{}: mirtune-run opencl-args {}", source.string(),
                     json.value("message", ""));
  if (status != "ok")
    return makeError(ErrorCode::kInvalidInput, "{}: {}", source.string(), json.value("message", ""));
  return json;
}

namespace {

Expected<double> parseNumber(const std::string& name, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    return makeError(ErrorCode::kInvalidInput, "scalar {}={}: the value is not a number", name, text);
  }
  if (errno == ERANGE || !std::isfinite(value)) {
    return makeError(ErrorCode::kInvalidInput, "scalar {}={}: the value is not a finite double", name, text);
  }
  return value;
}

// An integer scalar written without a fraction or exponent, taken exactly (a double would round past 2^53).
Expected<std::int64_t> parseInteger(const std::string& name, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    return makeError(ErrorCode::kInvalidInput, "scalar {}={}: the value is not an integer", name, text);
  }
  if (errno == ERANGE) {
    return makeError(ErrorCode::kInvalidInput, "scalar {}={}: the value does not fit in a 64-bit integer", name,
                     text);
  }
  return static_cast<std::int64_t>(value);
}

std::uint64_t product(const std::vector<std::uint64_t>& sizes) {
  std::uint64_t total = 1;
  for (auto size : sizes) total *= size;
  return total;
}

}  // namespace

Expected<runner::RunPlan> buildDefaultPlan(const nlohmann::json& kernelArgs, const fs::path& source,
                                           const DefaultPlanOptions& options) {
  runner::RunPlan plan;
  plan.source = fs::absolute(source).string();
  plan.kernel = kernelArgs.value("name", "");
  plan.buildOptions = options.buildOptions;
  plan.globalSize = options.globalSize;
  plan.localSize = options.localSize;
  if (plan.globalSize.empty() || plan.globalSize.size() > 3) {
    return makeError(ErrorCode::kInvalidInput, "kernel '{}': the global size needs 1 to 3 dimensions",
                     plan.kernel);
  }
  const auto& args = kernelArgs.value("args", nlohmann::json::array());
  std::size_t bufferCount = 0;
  for (const auto& arg : args) {
    if (arg.value("pointer", false) && arg.value("address", "") != "local") ++bufferCount;
  }
  std::map<std::string, std::string> unused = options.scalarValues;
  for (std::size_t index = 0; index < args.size(); ++index) {
    const auto& info = args[index];
    const std::string name = info.value("name", "");
    const std::string where = fmt::format("{}: kernel '{}' argument {} ('{}' {})", source.string(),
                                          plan.kernel, index, name, info.value("type", ""));
    if (!info.value("supported", true)) {
      return makeError(ErrorCode::kInvalidInput, "{}: {}", where,
                       info.value("unsupported_reason", "not supported"));
    }
    std::string element = info.value("element_type", "");
    std::uint64_t width = 1;
    auto type = runner::parseElementType(element);
    if (!type) {
      // Vector types: float4 -> float with 4 scalars per element.
      for (std::uint64_t candidate : {16, 8, 4, 3, 2}) {
        const std::string suffix = std::to_string(candidate);
        if (element.size() > suffix.size() &&
            element.compare(element.size() - suffix.size(), suffix.size(), suffix) == 0) {
          type = runner::parseElementType(element.substr(0, element.size() - suffix.size()));
          if (type) {
            width = candidate == 3 ? 4 : candidate;  // a 3-vector occupies 4 scalars in memory
            break;
          }
        }
      }
    }
    if (!type) {
      return makeError(ErrorCode::kInvalidInput, "{}: element type '{}' is not one of {}", where, element,
                       runner::elementTypeList());
    }
    runner::ArgSpec spec;
    spec.name = name;
    spec.type = *type;
    const auto& typeInfo = runner::elementTypeInfo(*type);
    const std::string address = info.value("address", "");
    const bool pointer = info.value("pointer", false);
    if (pointer && address == "local") {
      spec.kind = runner::ArgKind::kLocal;
      spec.elements = (plan.localSize.empty() ? 1024 : product(plan.localSize)) * width;
    } else if (pointer) {
      spec.kind = runner::ArgKind::kBuffer;
      if (options.transferBytes > 0) {
        spec.elements = options.transferBytes / (bufferCount * typeInfo.bytes * width) * width;
      } else {
        spec.elements = product(plan.globalSize) * width;
      }
      if (spec.elements == 0) {
        return makeError(ErrorCode::kInvalidInput, "{}: the transfer size {} B leaves no element per buffer",
                         where, options.transferBytes);
      }
      spec.role = (info.value("const", false) || address == "constant") ? runner::ArgRole::kIn
                                                                        : runner::ArgRole::kInOut;
      spec.generator.kind = runner::GeneratorKind::kUniform;
      spec.generator.seed = index + 1;
      spec.generator.lo = 0;
      spec.generator.hi =
          typeInfo.isFloat ? 1.0 : static_cast<double>(std::min<std::uint64_t>(99, spec.elements - 1));
    } else {
      if (width != 1) {
        return makeError(ErrorCode::kInvalidInput, "{}: vector scalars are not supported", where);
      }
      spec.kind = runner::ArgKind::kScalar;
      if (auto given = options.scalarValues.find(name); given != options.scalarValues.end()) {
        auto value = parseNumber(name, given->second);
        if (!value) return value.error();
        spec.scalarValue = *value;
        // Out of an int64's range the conversion is undefined; a float argument never reads scalarInt.
        spec.scalarInt = std::fabs(*value) < 9.2e18 ? static_cast<std::int64_t>(*value) : 0;
        if (!typeInfo.isFloat && given->second.find_first_of(".eE") == std::string::npos) {
          auto exact = parseInteger(name, given->second);
          if (!exact) return exact.error();
          spec.scalarInt = *exact;
        } else if (!typeInfo.isFloat && std::fabs(*value) >= 9.2e18) {
          return makeError(ErrorCode::kInvalidInput, "scalar {}={}: the value does not fit in a 64-bit integer",
                           name, given->second);
        }
        unused.erase(name);
      } else if (typeInfo.isFloat) {
        spec.scalarValue = 1.0;
        spec.scalarInt = 1;
      } else {
        spec.scalarInt = static_cast<std::int64_t>(plan.globalSize[0]);
        spec.scalarValue = static_cast<double>(plan.globalSize[0]);
      }
    }
    plan.args.push_back(std::move(spec));
  }
  if (!unused.empty()) {
    std::string names;
    for (const auto& arg : args) {
      if (!arg.value("pointer", false))
        names += (names.empty() ? "" : ", ") + arg.value("name", std::string());
    }
    return makeError(ErrorCode::kInvalidInput, "kernel '{}' has no scalar argument named '{}' (scalars: {})",
                     plan.kernel, unused.begin()->first, names.empty() ? "none" : names);
  }
  return plan;
}

std::uint64_t planTransferBytes(const runner::RunPlan& plan) {
  std::uint64_t bytes = 0;
  for (const runner::ArgSpec& arg : plan.args) {
    if (arg.kind != runner::ArgKind::kBuffer) continue;
    if (arg.role != runner::ArgRole::kOut) bytes += arg.bytes();  // uploaded
    if (arg.role != runner::ArgRole::kIn) bytes += arg.bytes();   // read back
  }
  return bytes;
}

std::uint64_t planWorkGroupSize(const runner::RunPlan& plan) {
  if (plan.localSize.empty()) return 0;
  std::uint64_t product = 1;
  for (std::uint64_t size : plan.localSize) product *= size;
  return product;
}

Status checkLaunchGeometry(const std::vector<std::uint64_t>& globalSize, const std::vector<std::uint64_t>& localSize) {
  if (!localSize.empty() && localSize.size() != globalSize.size()) {
    return makeError(ErrorCode::kUsage, "--local has {} dimensions but --global has {}", localSize.size(),
                     globalSize.size());
  }
  for (std::size_t d = 0; d < localSize.size(); ++d) {
    if (localSize[d] == 0 || globalSize[d] % localSize[d] != 0) {
      return makeError(ErrorCode::kUsage, "--global {} is not a multiple of --local {} in dimension {}",
                       globalSize[d], localSize[d], d);
    }
  }
  return success();
}

}  // namespace mirtune
