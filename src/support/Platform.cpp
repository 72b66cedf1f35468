// Platform probe: /proc and /etc files, version lines of the compilers, nvidia-smi and the runner's OpenCL
// list.
#include "support/Platform.h"

#include "support/Files.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <sstream>
#include <string_view>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

/// A compiler whose version is recorded: where to find it and which line of `--version` names the version.
struct CompilerProbe {
  std::string_view name;
  std::array<std::string_view, 2> candidates;  ///< program names or paths, first found wins; "" = unused
  std::string_view versionMarker;              ///< the version line contains this; "" = the first line
};

// nvcc's first line is a banner ("nvcc: NVIDIA (R) Cuda compiler driver"); its version is on the
// "Cuda compilation tools, release ..." line. nvcc is often installed outside PATH, hence the second
// candidate.
constexpr std::array<CompilerProbe, 3> kCompilers = {{
    {"g++", {"g++", ""}, ""},
    {"clang-14", {"clang-14", ""}, ""},
    {"nvcc", {"nvcc", "/usr/local/cuda/bin/nvcc"}, "release"},
}};

std::string trim(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return std::string();
  std::size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> result;
  std::istringstream stream{std::string(text)};
  for (std::string line; std::getline(stream, line);) {
    std::string trimmed = trim(line);
    if (!trimmed.empty()) result.push_back(trimmed);
  }
  return result;
}

// The value after the first "key<spaces>:<spaces>" line of a /proc-style file.
std::string procField(std::string_view content, std::string_view key) {
  for (const std::string& line : lines(content)) {
    std::size_t colon = line.find(':');
    if (colon != std::string::npos && trim(line.substr(0, colon)) == key) return trim(line.substr(colon + 1));
  }
  return std::string();
}

std::string unquote(std::string text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front()) {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

void probeCpuAndMemory(PlatformInfo& info) {
  if (auto cpuinfo = readFile("/proc/cpuinfo")) {
    // x86 says "model name"; other architectures use one of the others.
    for (std::string_view key : {"model name", "Model", "Hardware", "cpu model", "Processor", "cpu"}) {
      info.cpuModel = procField(*cpuinfo, key);
      if (!info.cpuModel.empty()) break;
    }
  } else {
    info.notes.push_back(cpuinfo.error().message());
  }
  if (info.cpuModel.empty()) info.cpuModel = "unknown";
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  info.logicalCores = online > 0 ? static_cast<int>(online) : 1;

  if (auto meminfo = readFile("/proc/meminfo")) {
    std::istringstream total(procField(*meminfo, "MemTotal"));  // "16318148 kB"
    std::uint64_t kilobytes = 0;
    std::string unit;
    if (total >> kilobytes >> unit && unit == "kB") info.memoryBytes = kilobytes * 1024;
  } else {
    info.notes.push_back(meminfo.error().message());
  }
  if (info.memoryBytes == 0) {
    long pages = sysconf(_SC_PHYS_PAGES);
    long pageSize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0)
      info.memoryBytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
  }
}

void probeOs(PlatformInfo& info) {
  for (const char* file : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto release = readFile(file);
    if (!release) continue;
    for (const std::string& line : lines(*release)) {
      if (line.rfind("PRETTY_NAME=", 0) == 0) info.osName = unquote(line.substr(12));
    }
    if (!info.osName.empty()) break;
  }
  utsname names{};
  if (uname(&names) == 0) {
    info.kernel = fmt::format("{} {}", names.sysname, names.release);
    info.architecture = names.machine;
  }
  if (info.osName.empty()) info.osName = "unknown";
  info.os = fmt::format("{}; {}; {}", info.osName, info.kernel, info.architecture);
}

void probeCompilers(PlatformInfo& info, double timeoutSeconds) {
  for (const CompilerProbe& compiler : kCompilers) {
    for (std::string_view candidate : compiler.candidates) {
      if (candidate.empty()) continue;
      SubprocessOptions options;
      options.argv = {std::string(candidate), "--version"};
      options.timeoutSeconds = timeoutSeconds;
      auto result = runSubprocess(options);
      if (!result) continue;  // not installed under this name
      if (!result->succeeded()) {
        info.notes.push_back(fmt::format("{} --version: {}", candidate, result->describe()));
        break;
      }
      std::vector<std::string> output = lines(result->standardOutput);
      std::string version = output.empty() ? std::string() : output.front();
      if (!compiler.versionMarker.empty()) {
        for (const std::string& line : output) {
          if (line.find(compiler.versionMarker) != std::string::npos) {
            version = line;
            break;
          }
        }
      }
      info.compilers[std::string(compiler.name)] = version;
      break;
    }
  }
}

void probeGpus(PlatformInfo& info, double timeoutSeconds) {
  SubprocessOptions options;
  options.argv = {"nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"};
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  if (!result) return;  // no NVIDIA driver tools: no NVIDIA GPU to record
  if (!result->succeeded()) {
    info.notes.push_back(fmt::format("nvidia-smi: {}: {}", result->describe(), trim(result->standardOutput)));
    return;
  }
  for (const std::string& line : lines(result->standardOutput)) {
    // "NVIDIA H100 80GB HBM3, 580.65.06, 81559 MiB": the last two fields never hold commas, a name might.
    std::size_t last = line.rfind(',');
    std::size_t middle = last == std::string::npos ? std::string::npos : line.rfind(',', last - 1);
    if (middle == std::string::npos) {
      info.notes.push_back(fmt::format("nvidia-smi: unexpected line '{}'", line));
      continue;
    }
    info.gpus.push_back({{"name", trim(line.substr(0, middle))},
                         {"driver_version", trim(line.substr(middle + 1, last - middle - 1))},
                         {"memory", trim(line.substr(last + 1))}});
  }
}

void probeOpenCl(PlatformInfo& info, const PlatformProbeOptions& probe) {
  info.opencl = {
      {"status", "ok"}, {"runner", probe.runnerPath.string()}, {"platforms", nlohmann::json::array()}};
  std::error_code ec;
  if (probe.runnerPath.empty() || !fs::exists(probe.runnerPath, ec)) {
    info.opencl["status"] = "runner_not_found";
    info.opencl["detail"] = fmt::format(
        "no runner at '{}' (build mirtune-run or set $MIRTUNE_RUNNER); OpenCL "
        "devices not probed",
        probe.runnerPath.string());
    return;
  }
  SubprocessOptions options;
  // --parent-pid: the runner ends with this process, even when it is killed while a driver initialises.
  options.argv = {probe.runnerPath.string(), "probe", "--json", "--parent-pid", std::to_string(::getpid())};
  options.timeoutSeconds = probe.runnerTimeoutSeconds;
  auto result = runSubprocess(options);
  std::string problem;
  nlohmann::json listing;
  if (!result) {
    problem = result.error().message();
  } else if (!result->succeeded()) {
    problem = fmt::format("{} probe: {}: {}", probe.runnerPath.string(), result->describe(),
                          trim(result->standardError));
  } else {
    listing = nlohmann::json::parse(result->standardOutput, nullptr, false);
    if (listing.is_discarded() || !listing.contains("platforms") || !listing["platforms"].is_array()) {
      problem = fmt::format("{} probe: output is not the expected JSON", probe.runnerPath.string());
    }
  }
  if (!problem.empty()) {
    info.opencl["status"] = "runner_failed";
    info.opencl["detail"] = problem;
    info.notes.push_back(problem);
    return;
  }
  info.opencl["platforms"] = listing["platforms"];
}

// Only fields that identify hardware and software; values that change from run to run (clock rates) or with
// where things are installed (the runner's path) would give one machine many fingerprints. A CPU driver
// derives its global memory size from the host in ways of its own (PoCL reports a fraction of it), so device
// memory is left out too: host memory and nvidia-smi's GPU memory identify the machine already.
nlohmann::json identifyingOpenCl(const nlohmann::json& opencl) {
  nlohmann::json platforms = nlohmann::json::array();
  for (const auto& platform : opencl.value("platforms", nlohmann::json::array())) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& device : platform.value("devices", nlohmann::json::array())) {
      nlohmann::json identity = nlohmann::json::object();
      for (const char* key : {"name", "type", "vendor", "driver_version", "device_version",
                              "opencl_c_version", "compute_units"}) {
        if (device.contains(key)) identity[key] = device[key];
      }
      devices.push_back(identity);
    }
    platforms.push_back({{"name", platform.value("name", "")},
                         {"vendor", platform.value("vendor", "")},
                         {"version", platform.value("version", "")},
                         {"devices", devices}});
  }
  return {{"status", opencl.value("status", "")}, {"platforms", platforms}};
}

}  // namespace

nlohmann::json PlatformInfo::toJson() const {
  return {{"fingerprint", fingerprint},
          {"cpu_model", cpuModel},
          {"logical_cores", logicalCores},
          {"memory_bytes", memoryBytes},
          {"os", {{"name", osName}, {"kernel", kernel}, {"architecture", architecture}}},
          {"compilers", compilers},
          {"gpus", gpus},
          {"opencl", opencl},
          {"notes", notes}};
}

std::string platformFingerprint(const PlatformInfo& info) {
  nlohmann::json identity = {{"cpu_model", info.cpuModel},
                             {"logical_cores", info.logicalCores},
                             {"memory_bytes", info.memoryBytes},
                             {"os_name", info.osName},
                             {"kernel", info.kernel},
                             {"architecture", info.architecture},
                             {"compilers", info.compilers},
                             {"gpus", info.gpus},
                             {"opencl", identifyingOpenCl(info.opencl)}};
  // nlohmann::json keeps object keys sorted and dump() is compact; with only strings and integers in the
  // identity that is already canonical JSON.
  return sha256Hex(identity.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

PlatformInfo probePlatform(const PlatformProbeOptions& options) {
  PlatformInfo info;
  probeCpuAndMemory(info);
  probeOs(info);
  probeCompilers(info, options.commandTimeoutSeconds);
  probeGpus(info, options.commandTimeoutSeconds);
  probeOpenCl(info, options);
  info.fingerprint = platformFingerprint(info);
  return info;
}

fs::path runnerExecutablePath() {
  if (const char* env = std::getenv("MIRTUNE_RUNNER"); env != nullptr && *env != '\0') return fs::path(env);
  const fs::path bin = executableDirectory();
  if (bin.empty()) return fs::path("mirtune-run");
  const fs::path besideSelf = bin / "mirtune-run";
  std::error_code ec;
  if (fs::exists(besideSelf, ec)) return besideSelf;
  // A program linked against an installed mirtune lives elsewhere; the runner is in <prefix>/bin, two folders
  // above <prefix>/share/mirtune.
  const fs::path installed = (shareDirectory() / ".." / ".." / "bin" / "mirtune-run").lexically_normal();
  if (fs::exists(installed, ec)) return installed;
  return besideSelf;
}

}  // namespace mirtune
