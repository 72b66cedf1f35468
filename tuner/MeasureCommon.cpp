// Shared pieces of the measuring commands (omp, unroll).
#include "tuner/MeasureCommon.h"

#include "database/CanonicalJson.h"
#include "support/Files.h"
#include "support/Sha256.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <random>
#include <sstream>

namespace mirtune {

Expected<Machine> probeMachine(Database& database) {
  Machine machine;
  PlatformProbeOptions probe;
  probe.runnerPath = runnerExecutablePath();
  machine.info = probePlatform(probe);
  auto id = database.upsertPlatform(platformRecordFromProbe(machine.info));
  if (!id) return id.error();
  machine.platformId = *id;
  return machine;
}

Expected<MeasurementSettings> measurementSettings(double buildTimeout, double runTimeout, double minTime,
                                                  int minRepetitions, int maxRepetitions) {
  if (minRepetitions < 1 || maxRepetitions < minRepetitions) {
    return Error(ErrorCode::kUsage, "need 1 <= --min-repetitions <= --max-repetitions");
  }
  MeasurementSettings settings;
  settings.buildTimeoutSeconds = buildTimeout;
  settings.runTimeoutSeconds = runTimeout;
  settings.minTimeSeconds = minTime;
  settings.minRepetitions = minRepetitions;
  settings.maxRepetitions = maxRepetitions;
  return settings;
}

nlohmann::json settingsJson(const MeasurementSettings& settings) {
  return {{"min_time", settings.minTimeSeconds},
          {"min_repetitions", settings.minRepetitions},
          {"max_repetitions", settings.maxRepetitions},
          {"run_timeout", settings.runTimeoutSeconds}};
}

Expected<WorkloadRecord> sourceWorkload(const std::filesystem::path& source) {
  auto content = sha256File(source);
  if (!content) return content.error();
  WorkloadRecord workload;
  workload.contentSha256 = *content;
  const std::string extension = source.extension().string();
  workload.language = extension == ".c" ? "c" : extension == ".cu" ? "cuda" : "cpp";
  workload.path = std::filesystem::absolute(source).lexically_normal().string();
  return workload;
}

std::string speedupText(const TunedConfiguration& result) {
  return result.speedup ? fmt::format("{:.3f}x", *result.speedup) : std::string("-");
}

nlohmann::json tunedConfigurationJson(const TunedConfiguration& result) {
  nlohmann::json json = {{"configuration", result.configuration},
                         {"status", measureStatusName(result.status)},
                         {"times", result.times},
                         {"timer", result.timer}};
  if (result.median) json["median_seconds"] = *result.median;
  if (result.spread) json["iqr_seconds"] = *result.spread;
  if (result.speedup) json["speedup"] = *result.speedup;
  if (!result.message.empty()) json["message"] = result.message;
  return json;
}

namespace {

// The lines of every run-all.sh that describe the machine in $cpu, $mem and $os, for platform.json.
constexpr const char* kMachineLines = R"sh(cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/"/ /g')
# Bytes by shell arithmetic, which is 64-bit: awk's printf "%d" stops at 2^31 - 1 in mawk.
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
mem=$(( ${mem_kb:-0} * 1024 ))
os=$( (. /etc/os-release && echo "$PRETTY_NAME") | sed 's/"/ /g')
)sh";

}  // namespace

std::string machineRecordScript(const std::string& target, bool gpus) {
  std::string script = kMachineLines;
  if (gpus) {
    // One {name, driver_version, memory} per GPU, as the local probe stores them.
    script += R"sh(PATH="$PATH:/usr/local/cuda/bin"; export PATH
gpus=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
  awk -F', ' '{ gsub(/"/, " "); printf "%s{\"name\": \"%s\", \"driver_version\": \"%s\", \"memory\": \"%s\"}", (NR > 1 ? ", " : ""), $1, $2, $3 }')
printf '{"cpu_model": "%s", "cores": %s, "memory_bytes": %s, "os": "%s; %s", "gpus": [%s]}\n' "$cpu" "$(nproc)" "$mem" "$os" "$(uname -srm)" "$gpus" > )sh";
  } else {
    script += R"sh(printf '{"cpu_model": "%s", "cores": %s, "memory_bytes": %s, "os": "%s; %s"}\n' "$cpu" "$(nproc)" "$mem" "$os" "$(uname -srm)" > )sh";
  }
  return script + target + "\n";
}

std::string exportRunAllScript(const std::string& ingestCommand, bool gpus) {
  std::string script = fmt::format(R"sh(#!/bin/sh
# Measures every exported plan with the runner alone: sh run-all.sh [path/to/mirtune-run]
# Then bring this folder back and store it: {} <this folder>
set -u
runner=${{1:-mirtune-run}}
here=$(cd "$(dirname "$0")" && pwd)
)sh",
                                   ingestCommand);
  script += machineRecordScript("\"$here/platform.json\"", gpus);
  script += R"sh(for plan in "$here"/*/plan-1.json; do
  dir=$(dirname "$plan")
  mkdir -p "$dir/bin"
  "$runner" process --plan "$plan" --results "$dir/results-1.jsonl" --resume || echo "runner failed in $dir" >&2
done
)sh";
  return script;
}

std::string openClRunAllScript(const std::string& what, const std::string& afterwards, const std::string& planGlob,
                               const std::string& resultFolder) {
  std::string script = fmt::format(R"sh(#!/bin/sh
# Measures every exported {} with the runner alone, on every OpenCL device (or the P:D given):
#   sh run-all.sh [path/to/mirtune-run] [P:D ...]
# Then bring this folder back and store it{}
set -u
runner=${{1:-mirtune-run}}
[ $# -gt 0 ] && shift
case "$runner" in /*) ;; */*) runner="$(pwd)/$runner" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
"$runner" probe --json > "$here/probe.json" || {{ echo "run-all.sh: the runner cannot list the OpenCL devices" >&2; exit 1; }}
if [ $# -gt 0 ]; then
  devices="$*"
else
  # probe --json is indented by 2: a platform object opens at 4 spaces, a device object at 8.
  devices=$(awk '/^    \{{$/ {{ p++; d = -1 }} /^        \{{$/ {{ d++; printf "%d:%d\n", p - 1, d }}' "$here/probe.json")
fi
)sh",
                                   what, afterwards);
  script += machineRecordScript("\"$here/platform.json\"", false);
  script += fmt::format(R"sh(for plan in "$here"/{}; do
  dir=$(dirname "$plan")
  for device in $devices; do
    out="{}"
    mkdir -p "$out/outputs"
    (cd "$out" && "$runner" opencl --plan "$plan" --device "$device" --out result.json > /dev/null) ||
      echo "run-all.sh: $plan on $device did not run ok (see $out/result.json)" >&2
  done
done
echo "$devices" > "$here/devices.txt"
)sh",
                        planGlob, resultFolder);
  return script;
}

Expected<PlatformRecord> exportedPlatform(const std::filesystem::path& folder, nlohmann::json* machine) {
  const std::filesystem::path file = folder / "platform.json";
  auto text = readFile(file);
  if (!text) return text.error().withContext("run run-all.sh in the exported folder first");
  const auto remote = nlohmann::json::parse(*text, nullptr, false);
  if (remote.is_discarded() || !remote.is_object() || !remote.contains("cores")) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: not a platform record of run-all.sh", file.string()));
  }
  PlatformRecord platform;
  auto cpuModel = indexString(remote, "cpu_model", file, "cpu_model", "");
  if (!cpuModel) return cpuModel.error();
  auto cores = indexInteger(remote, "cores", file, "cores", 1, kMaxExportedCores);
  if (!cores) return cores.error();
  auto memory = indexInteger(remote, "memory_bytes", file, "memory_bytes", 0,
                             std::numeric_limits<std::int64_t>::max(), 0);
  if (!memory) return memory.error();
  auto os = indexString(remote, "os", file, "os", "");
  if (!os) return os.error();
  platform.cpuModel = *cpuModel;
  platform.cores = *cores;
  platform.memoryBytes = *memory;
  platform.os = *os;
  if (remote.contains("gpus")) {
    const auto& gpus = remote["gpus"];
    if (!gpus.is_array())
      return Error(ErrorCode::kInvalidInput, fmt::format("{}: 'gpus' must be an array", file.string()));
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      for (const char* key : {"name", "driver_version", "memory"}) {
        if (!gpus[i].is_object()) {
          return Error(ErrorCode::kInvalidInput,
                       fmt::format("{}: 'gpus[{}]' must be an object", file.string(), i));
        }
        auto value = indexString(gpus[i], key, file, fmt::format("gpus[{}].{}", i, key), "");
        if (!value) return value.error();
      }
    }
    if (!gpus.empty()) platform.gpu = gpus;
  }
  platform.fingerprint = canonicalJsonSha256(remote);
  if (machine != nullptr) *machine = remote;
  return platform;
}

Expected<nlohmann::json> readExportIndex(const std::filesystem::path& file) {
  auto text = readFile(file);
  if (!text) return text.error();
  auto index = nlohmann::json::parse(*text, nullptr, false);
  if (!index.is_object() || !index.contains("items") || !index["items"].is_array()) {
    return Error(
        ErrorCode::kInvalidInput,
        fmt::format("{}: not the index of an export (a JSON object with an array 'items')", file.string()));
  }
  for (std::size_t i = 0; i < index["items"].size(); ++i) {
    if (!index["items"][i].is_object()) {
      return Error(ErrorCode::kInvalidInput,
                   fmt::format("{}: 'items[{}]' must be an object", file.string(), i));
    }
  }
  return index;
}

Expected<std::string> indexString(const nlohmann::json& object, const char* key,
                                  const std::filesystem::path& file, const std::string& where,
                                  std::optional<std::string> fallback) {
  if (!object.contains(key) || object[key].is_null()) {
    if (fallback) return *fallback;
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: '{}' is required", file.string(), where));
  }
  if (!object[key].is_string())
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: '{}' must be a string", file.string(), where));
  return object[key].get<std::string>();
}

Expected<std::int64_t> indexInteger(const nlohmann::json& object, const char* key,
                                    const std::filesystem::path& file, const std::string& where,
                                    std::int64_t lowest, std::int64_t highest,
                                    std::optional<std::int64_t> fallback) {
  if (!object.contains(key) || object[key].is_null()) {
    if (fallback) return *fallback;
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: '{}' is required", file.string(), where));
  }
  const auto& value = object[key];
  // JSON reads non-negative integers as unsigned: one above the int64 range is out of range, not wrapped.
  std::optional<std::int64_t> number;
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      number = static_cast<std::int64_t>(value.get<std::uint64_t>());
  } else if (value.is_number_integer()) {
    number = value.get<std::int64_t>();
  }
  if (!number || *number < lowest || *number > highest) {
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: '{}' is {}; it must be an integer from {} to {}",
                                                       file.string(), where, value.dump(), lowest, highest));
  }
  return *number;
}

std::vector<std::string> splitArguments(const std::string& text) {
  std::istringstream words(text);
  std::vector<std::string> arguments;
  for (std::string word; words >> word;) arguments.push_back(word);
  return arguments;
}

Expected<std::string> writeExportId(const std::filesystem::path& folder) {
  std::random_device entropy;
  std::string id;
  for (int word = 0; word < 4; ++word) id += fmt::format("{:08x}", static_cast<std::uint32_t>(entropy()));
  if (Status written = writeFileAtomically(folder / "export-id", id + "\n"); !written) return written.error();
  return id;
}

Expected<std::string> exportId(const std::filesystem::path& folder, const std::filesystem::path& indexFile) {
  const std::filesystem::path file = folder / "export-id";
  std::error_code error;
  if (!std::filesystem::exists(file, error)) {
    auto digest = sha256File(indexFile);
    if (!digest) return digest.error();
    return "sha256:" + *digest;
  }
  auto text = readFile(file);
  if (!text) return text.error();
  std::string id = *text;
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
  const bool hex = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                     return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
                   });
  if (!hex) {
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: not an export identity (32 hex digits)", file.string()));
  }
  return id;
}

std::string ingestKey(std::string_view exportId, std::string_view planFolder, std::string_view unit) {
  return fmt::format("{}/{}/{}", exportId, planFolder, unit);
}

std::filesystem::path machineRecordFolder(const std::filesystem::path& exported, const std::filesystem::path& item) {
  std::error_code error;
  return std::filesystem::is_regular_file(item / kPlatformRecordFile, error) ? item : exported;
}

}  // namespace mirtune
