// The OpenCL backend of the measurement interface: each input is a kernel launch run on every OpenCL device
// of this machine (one mirtune-run process per device), each device's outcome recorded in the database as it
// arrives; or the batch written to a folder that another machine's runner measures alone, and stored back.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "tuner/Measurement.h"
#include "tuner/OpenClRun.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// Which of a device's times a measurement row keeps.
enum class TimeBasis {
  kWithTransfers,  ///< writes + kernel + reads (device mapping decides by it)
  kKernel,         ///< the kernel's START->END events alone (a transform that leaves the transfers alone)
};

/// The database with a platform row and a session, for work that records OpenCL measurements and the
/// predictions they check. Recording goes on past a database error; end() reports the first one.
class OpenClRecorder {
 public:
  /// Opens the database, stores this machine's platform (probed with the runner beside mirtune) and begins a
  /// session of `command` with its options and the models it used.
  Status open(const std::filesystem::path& databasePath, const std::string& command,
              const nlohmann::json& options, const std::vector<std::string>& modelIds);
  /// As open, for measurements of another machine: `platform` is stored and the session is its.
  Status openFor(const PlatformRecord& platform, const std::filesystem::path& databasePath,
                 const std::string& command, const nlohmann::json& options,
                 const std::vector<std::string>& modelIds);

  /// The workload of a source file (its absolute path recorded, so training finds it from anywhere); nullopt
  /// when the file or the database fails (the error is kept). The first call for a file decides its IR hash.
  std::optional<std::int64_t> workload(const std::filesystem::path& file, const std::string& irSha256 = "");

  /// Stores one device's outcome; the device's name, type and index are added to `configuration`.
  void measurement(std::int64_t workloadId, const std::string& task, nlohmann::json configuration,
                   const DeviceRunResult& device, TimeBasis basis = TimeBasis::kWithTransfers);

  /// Stores a prediction in this session (its session id is set here).
  void prediction(PredictionRecord record);

  /// Keeps a database error met while recording (the first one is what end() reports); recording goes on.
  void keep(const Error& error);

  /// Ends the session. False (with the first recording error logged) when anything failed to be stored: the
  /// caller must then fail, since a database that does not record is not a warning.
  [[nodiscard]] bool end();

  Database& database() { return *database_; }
  const std::string& fingerprint() const { return fingerprint_; }
  std::int64_t sessionId() const { return sessionId_; }
  std::int64_t platformId() const { return platformId_; }

 private:
  std::optional<Database> database_;
  std::string fingerprint_;
  std::int64_t platformId_ = 0;
  std::int64_t sessionId_ = 0;
  std::map<std::string, std::int64_t> workloads_;  ///< by absolute path
  std::optional<Error> firstError_;
};

/// "P:D" of a device result.
std::string deviceIndex(const DeviceRunResult& device);

/// A time as reports word it: "1.234 ms", "12.3 us", "1.500 s".
std::string formatSeconds(double seconds);

/// One result per device with the same failure (the plan could not be run at all).
std::vector<DeviceRunResult> failedOnEvery(const std::vector<OpenClDevice>& devices, MeasureStatus status,
                                           const std::string& message);

/// The OpenCL driver compiles a temporary copy of the source (PoCL: .../kcache/tempfile_XXXX.cl); its
/// diagnostics name `file` instead, so file:line points somewhere real.
std::string nameTheSource(const std::string& text, const std::string& file);

/// NAME=VALUE scalar arguments by name; kUsage for an item without a name or a value.
Expected<std::map<std::string, std::string>> parseScalarArguments(const std::vector<std::string>& args);

/// -D values and -I folders of a source's compile options, as clBuildProgram options ("-DN=4 -Iinclude").
std::string runnerBuildOptions(const std::vector<std::string>& defines,
                               const std::vector<std::string>& includeDirectories);

/// Size indices of a kernel suite's manifests: "all" (empty result) or comma-separated indices such as 0,2.
Expected<std::vector<std::size_t>> parseSizeIndices(const std::string& text);

/// The devices on this machine through the runner; kNotFound (saying how to install a driver) when there are
/// none.
Expected<std::vector<OpenClDevice>> localOpenClDevices(const std::filesystem::path& runner);

/// The devices an exported folder was measured on: devices.txt ("P:D" per line, written last by run-all.sh),
/// each one the runner's probe (`probe`, probe.json) lists.
Expected<std::vector<OpenClDevice>> exportedOpenClDevices(const std::filesystem::path& folder,
                                                          const nlohmann::json& probe);

/// The machine an exported folder was measured on, with the OpenCL platforms its probe.json lists: the
/// fingerprint covers both (platform.json and probe.json, written by run-all.sh).
Expected<PlatformRecord> exportedOpenClPlatform(const std::filesystem::path& folder);

struct OpenClMeasurerOptions {
  std::filesystem::path runner;       ///< mirtune-run
  std::vector<OpenClDevice> devices;  ///< where every input runs (an input's own device list wins)
  std::string task;                   ///< the measurement rows' task
  TimeBasis basis = TimeBasis::kWithTransfers;
  /// Messages and build logs name the input's workload instead of the driver's temporary copy.
  bool nameSources = false;
};

/// Measurer for OpenCL launches (MeasureInput::plan holds an OpenClRunRequest). Every input gives one result
/// per device, in device order; a launch that cannot run at all gives kRunFailed on every device. Each result
/// is stored through the recorder as it arrives, under the input's workload (the input's source file when
/// `workload` is empty) and configuration.
class OpenClMeasurer final : public Measurer {
 public:
  OpenClMeasurer(OpenClRecorder& recorder, OpenClMeasurerOptions options);

  std::string_view kind() const override { return "opencl"; }
  Expected<std::vector<MeasureResult>> measure(const std::vector<MeasureInput>& batch) override;
  /// <folder>/batch.json, one <folder>/<index>/ per input with plan.json and its source beside it, and a
  /// run-all.sh that runs each plan on every device (or those it is given) with the runner alone.
  Status exportBatch(const std::vector<MeasureInput>& batch, const std::filesystem::path& folder) override;
  /// Reads back what run-all.sh measured: the devices it ran on, each result checked against its plan
  /// (readCheckedOpenClResult), then every result stored; open the recorder with openFor(the folder's
  /// exportedOpenClPlatform) so they belong to that machine. Nothing is stored when any check fails.
  Expected<std::vector<MeasureResult>> ingest(const std::vector<MeasureInput>& batch,
                                              const std::filesystem::path& folder) override;

  /// What ingest checks, without storing anything: per input, one result per device the folder was measured on
  /// (readCheckedOpenClResult; output files resolved inside the folder). For callers that judge the results
  /// further (outputs against another input's) before they store them with store().
  Expected<std::vector<std::vector<DeviceRunResult>>> readExported(const std::vector<MeasureInput>& batch,
                                                                   const std::filesystem::path& folder) const;
  /// Records one device's result of input `input` as measure() and ingest() do, and returns it as they report it.
  MeasureResult store(std::size_t input, const MeasureInput& item, DeviceRunResult device);

 private:
  /// The result of one device as the interface reports it, after recording it.
  MeasureResult record(std::size_t input, const MeasureInput& item, DeviceRunResult device);

  OpenClRecorder& recorder_;
  OpenClMeasurerOptions options_;
};

}  // namespace mirtune
