// What the commands that measure OpenCL kernels on this machine's devices share: the measurement log, launch
// options parsed from the command line, and how results read in tables.
#pragma once

#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "database/Database.h"
#include "tuner/OpenClRun.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::cli {

/// "1.234 ms", "12.3 us", "1.500 s".
std::string formatSeconds(double seconds);
/// "64x64", or "driver's choice" for an empty size.
std::string formatSizes(const std::vector<std::uint64_t>& sizes);
/// "P:D" of a device result.
std::string deviceIndex(const DeviceRunResult& device);

/// The OpenCL driver compiles a temporary copy of the source (PoCL: .../kcache/tempfile_XXXX.cl); its
/// diagnostics name `file` instead, so file:line points somewhere real.
std::string nameTheSource(const std::string& text, const std::string& file);

/// One result per device with the same failure (the plan could not be run at all).
std::vector<DeviceRunResult> failedOnEvery(const std::vector<OpenClDevice>& devices, MeasureStatus status,
                                           const std::string& message);

/// --arg NAME=VALUE items by name; kUsage for an item without a name or a value.
Expected<std::map<std::string, std::string>> parseScalarArguments(const std::vector<std::string>& args);

/// -D and -I of the front-end flags, for clBuildProgram.
std::string runnerBuildOptions(const CompileOptions& compile);

/// --sizes of the collect commands: "all" (empty result) or comma-separated indices such as 0,2.
Expected<std::vector<std::size_t>> parseSizeIndices(const std::string& text);

/// Which of a device's times a measurement row keeps.
enum class TimeBasis {
  kWithTransfers,  ///< writes + kernel + reads (device mapping decides by it)
  kKernel,         ///< the kernel's START->END events alone (a transform that leaves the transfers alone)
};

/// The database with this machine's platform row and a session, for commands that record measurements.
struct Recorder {
  std::optional<Database> database;
  std::string fingerprint;
  std::int64_t platformId = 0;
  std::int64_t sessionId = 0;
  std::map<std::string, std::int64_t> workloads;  ///< by absolute path

  /// Opens the database, stores the platform and begins a session.
  Status open(const GlobalOptions& global, const std::string& command, const nlohmann::json& options,
              const std::vector<std::string>& modelIds);

  /// The workload of a source file (absolute path recorded, so training finds it from anywhere); nullopt
  /// (with a warning) when the file or the database fails.
  std::optional<std::int64_t> workload(const std::filesystem::path& file, const std::string& irSha256 = "");

  /// Stores one device's outcome; the device's name, type and index are added to `configuration`.
  void measurement(std::int64_t workloadId, const std::string& task, nlohmann::json configuration,
                   const DeviceRunResult& device, TimeBasis basis = TimeBasis::kWithTransfers);

  /// Keeps a database error met while recording (the first one is what end() reports); recording goes on.
  void keep(const Error& error);

  /// Ends the session. False (with the first recording error logged) when anything failed to be stored: the
  /// command must then exit non-zero, since a database that does not record is not a warning.
  [[nodiscard]] bool end();

  std::optional<Error> firstError;
};

}  // namespace mirtune::cli
