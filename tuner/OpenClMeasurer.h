// The OpenCL backend of the measurement interface: each input is a kernel launch run on every OpenCL device
// of this machine (one mirtune-run process per device), each device's outcome recorded in the database as it
// arrives; or the batch written to a folder that another machine's runner measures alone, and stored back.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "tuner/IngestChecks.h"
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
///
/// Ingesting exported folders, it keeps one session per platform (usePlatform chooses the current one),
/// begins a session only when a measurement is stored new, and stores each measurement once by its ingest key
/// (setIngestPlace).
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
  /// Opens the database for an ingest: no platform yet (usePlatform names each), and a platform's session is
  /// begun at its first measurement stored new, so an ingest that stores nothing leaves no session behind.
  Status openForIngest(const std::filesystem::path& databasePath, const std::string& command,
                       const nlohmann::json& options);
  /// Makes `platform` (stored now, when new) the one the following measurements belong to, each platform with
  /// its own session.
  Status usePlatform(const PlatformRecord& platform);
  /// The following measurements are of plan folder `planFolder` of the export `exportId`: each is stored
  /// with ingestKey(exportId, planFolder, <its configuration's canonical SHA-256>/<device P:D>), and only
  /// when no measurement with that key is stored yet.
  void setIngestPlace(const std::string& exportId, const std::string& planFolder);

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

  /// Ends the session(s). False (with the first recording error logged) when anything failed to be stored:
  /// the caller must then fail, since a database that does not record is not a warning.
  [[nodiscard]] bool end();

  Database& database() { return *database_; }
  /// The current platform's fingerprint, row id and session (0 while none was begun).
  const std::string& fingerprint() const { return fingerprint_; }
  std::int64_t sessionId() const;
  std::int64_t platformId() const { return platformId_; }

  /// A platform this recorder stored measurements under, with its session (0: nothing was stored new).
  struct PlatformSession {
    std::string fingerprint;
    std::int64_t platformId = 0;
    std::int64_t sessionId = 0;
  };
  /// Every platform used, in the order usePlatform (or open) first named it.
  const std::vector<PlatformSession>& platforms() const { return platforms_; }
  /// Measurements stored new, and those found stored already (by their ingest key).
  std::size_t storedNew() const { return storedNew_; }
  std::size_t alreadyStored() const { return alreadyStored_; }

 private:
  /// The current platform's session, begun now when it has none; 0 (the error kept) when that fails.
  std::int64_t currentSession();

  std::optional<Database> database_;
  std::string fingerprint_;
  std::int64_t platformId_ = 0;
  std::size_t current_ = 0;  ///< index into platforms_
  std::vector<PlatformSession> platforms_;
  SessionRecord session_;  ///< what each begun session records (its platform set when begun)
  std::optional<std::pair<std::string, std::string>> ingestPlace_;  ///< export id, plan folder
  std::size_t storedNew_ = 0;
  std::size_t alreadyStored_ = 0;
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
/// each one the runner's probe (`probe`, probe.json) lists. `folder` is the folder holding the machine
/// records (machineRecordFolder: the exported folder, or a plan folder a campaign task measured).
Expected<std::vector<OpenClDevice>> exportedOpenClDevices(const std::filesystem::path& folder,
                                                          const nlohmann::json& probe);

/// The machine an exported folder was measured on, with the OpenCL platforms its probe.json lists: the
/// fingerprint covers both (platform.json and probe.json, written by run-all.sh, or by a campaign task into
/// the plan folder it measured: pass machineRecordFolder's answer).
Expected<PlatformRecord> exportedOpenClPlatform(const std::filesystem::path& folder);

/// The machine records of one plan folder of an exported OpenCL folder, read from machineRecordFolder.
struct OpenClMachineRecords {
  std::filesystem::path folder;       ///< where they are: the plan folder or the exported folder
  PlatformRecord platform;            ///< as exportedOpenClPlatform reads it
  std::vector<OpenClDevice> devices;  ///< devices.txt, checked against probe.json
};

/// The machine records that describe plan folder `item` of the exported folder `exported`; nullopt when the
/// plan folder is not measured yet (no platform.json there, or no devices.txt yet: it is written after every
/// plan ran). kInvalidInput naming the file when a record is damaged.
Expected<std::optional<OpenClMachineRecords>> exportedOpenClMachine(const std::filesystem::path& exported,
                                                                    const std::filesystem::path& item);

/// Whether any machine record exists in an exported folder: its own platform.json or one of a plan folder
/// directly inside it. With none, it was not measured at all: the caller reports exportedPlatform's error.
bool anyMachineRecord(const std::filesystem::path& exported);

/// One plan folder of an exported batch as ingest reads it back.
struct ExportedItem {
  std::string folder;                           ///< as batch.json names it (part of the ingest key)
  /// nullopt: not measured yet (no machine records yet, or a result file of its devices is still absent).
  std::optional<OpenClMachineRecords> machine;
  std::vector<DeviceRunResult> devices;         ///< one per device it was measured on, checked
};

/// Everything ingest reads back from an exported batch, checked.
struct ExportedBatch {
  std::string exportId;             ///< exportId(folder, batch.json)
  std::vector<ExportedItem> items;  ///< lines up with the batch
  std::size_t notMeasured() const;
};

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
  /// <folder>/batch.json, one <folder>/<index>/ per input with plan.json and its source beside it, a
  /// run-all.sh that runs each plan on every device (or those it is given) with the runner alone, and a new
  /// export-id (writeExportId: the campaign its ingested measurements are keyed by).
  Status exportBatch(const std::vector<MeasureInput>& batch, const std::filesystem::path& folder) override;
  /// Reads back what run-all.sh (or campaign tasks) measured: per plan folder the devices it ran on, each
  /// result checked against its plan (readCheckedOpenClResult), then every result stored once (by its ingest
  /// key) under the platform of its plan folder's machine records. Plan folders not measured yet are skipped
  /// and give no results. Nothing is stored when any check fails.
  Expected<std::vector<MeasureResult>> ingest(const std::vector<MeasureInput>& batch,
                                              const std::filesystem::path& folder) override;

  /// What ingest checks, without storing anything: per input, its plan folder's machine records and one
  /// result per device it was measured on (readCheckedOpenClResult; output files resolved inside the folder),
  /// or nothing for a plan folder not measured yet. For callers that judge the results further (outputs
  /// against another input's) before they store them with store(). When no machine record exists anywhere,
  /// exportedPlatform's error (run run-all.sh first).
  Expected<ExportedBatch> readExported(const std::vector<MeasureInput>& batch,
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
