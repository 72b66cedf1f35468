// What machine mirtune runs on: CPU, memory, OS, compilers, GPUs and OpenCL devices, with a stable
// fingerprint.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

struct PlatformProbeOptions {
  /// The mirtune-run executable that lists OpenCL devices (OpenCL runs out of process, see the runner). Empty
  /// or missing is not an error: PlatformInfo::opencl then says so.
  std::filesystem::path runnerPath;
  /// Limit in seconds for each `--version`/nvidia-smi call.
  double commandTimeoutSeconds = 10;
  /// Limit in seconds for `mirtune-run probe` (an OpenCL driver may take a while to initialise).
  double runnerTimeoutSeconds = 60;
};

/// The probed machine. Parts that could not be probed are empty and explained in notes; probing never fails.
struct PlatformInfo {
  std::string cpuModel;           ///< "model name" of /proc/cpuinfo
  int logicalCores = 0;           ///< online logical processors
  std::uint64_t memoryBytes = 0;  ///< MemTotal of /proc/meminfo
  std::string osName;             ///< PRETTY_NAME of /etc/os-release
  std::string kernel;             ///< uname: system and release, e.g. "Linux 6.1.0-18-amd64"
  std::string architecture;       ///< uname machine, e.g. "x86_64"
  std::string os;                 ///< "osName; kernel; architecture", the stored form
  /// {"g++": "g++ (Debian 12.2.0-14) 12.2.0", "clang-14": ..., "nvcc": ...}: the version line of each
  /// compiler that is installed.
  nlohmann::json compilers = nlohmann::json::object();
  /// [{"name", "driver_version", "memory"}] from nvidia-smi; empty without an NVIDIA GPU.
  nlohmann::json gpus = nlohmann::json::array();
  /// {"status": "ok" | "runner_not_found" | "runner_failed", "runner": path, "platforms": [...] as printed by
  /// `mirtune-run probe --json`, "detail": why, when not ok}.
  nlohmann::json opencl = nlohmann::json::object();
  /// Problems met while probing, for the user; not part of the fingerprint.
  std::vector<std::string> notes;
  /// Lower-case hex SHA-256 of the identifying fields (everything above except notes, the runner path, OpenCL
  /// clock rates and device memory sizes, which drivers may report differently from run to run), so one
  /// machine keeps one fingerprint.
  std::string fingerprint;

  /// Everything above as a JSON object (snake_case keys).
  nlohmann::json toJson() const;
};

/// Probes this machine. Runs `g++ --version`, `clang-14 --version`, `nvcc --version`, `nvidia-smi` where they
/// exist and `<runner> probe --json`, each with a time limit.
PlatformInfo probePlatform(const PlatformProbeOptions& options);

/// The fingerprint of info's identifying fields (what probePlatform stores in info.fingerprint).
std::string platformFingerprint(const PlatformInfo& info);

/// The runner executable: $MIRTUNE_RUNNER if set, else mirtune-run in the folder of the running executable, else
/// <shareDirectory()>/../../bin/mirtune-run (a program linked against an installed mirtune) when that exists.
std::filesystem::path runnerExecutablePath();

}  // namespace mirtune
