// What the commands that measure programs share: this machine's platform record, the runner settings from
// their options, and splitting an --args string.
#pragma once

#include "database/Database.h"
#include "support/Error.h"
#include "support/Platform.h"
#include "tuner/TuningSession.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// This machine as probed and stored in the database.
struct Machine {
  PlatformInfo info;
  std::int64_t platformId = 0;
};

/// Probes the machine (with the runner beside mirtune) and stores its platform record.
Expected<Machine> probeMachine(Database& database);

/// Runner limits from command-line values; kUsage unless 1 <= minRepetitions <= maxRepetitions.
Expected<MeasurementSettings> measurementSettings(double buildTimeout, double runTimeout, double minTime,
                                                  int minRepetitions, int maxRepetitions);

/// The repetition limits as a session's options record names them (part of what --resume compares).
nlohmann::json settingsJson(const MeasurementSettings& settings);

/// A C or C++ source file as the workload of a tuning session: content SHA-256, language from the extension,
/// absolute path.
Expected<WorkloadRecord> sourceWorkload(const std::filesystem::path& source);

/// "1.234x", or "-" without a speedup.
std::string speedupText(const TunedConfiguration& result);

/// A measured configuration as JSON: configuration, status, raw times, timer, and median/IQR/speedup/message
/// when present. Commands add their own label of the configuration.
nlohmann::json tunedConfigurationJson(const TunedConfiguration& result);

/// Shell lines that write this machine's record to `target` (a shell word, e.g. "\"$here/platform.json\""):
/// CPU model, logical cores, memory, OS and kernel, and with `gpus` the NVIDIA GPUs nvidia-smi lists. The
/// run-all.sh scripts and the tasks of a campaign use them, so a machine gets one fingerprint either way.
std::string machineRecordScript(const std::string& target, bool gpus);

/// The run-all.sh of an exported collection: it records the machine in platform.json (CPU, cores, memory, OS;
/// with `gpus`, the NVIDIA GPUs nvidia-smi lists) and carries out every <item>/plan-1.json beside it with
/// `mirtune-run process --resume`. `ingestCommand` is what to run back here afterwards (shown in a comment).
std::string exportRunAllScript(const std::string& ingestCommand, bool gpus);

/// The run-all.sh of an exported OpenCL batch: it records the machine (platform.json) and the OpenCL devices
/// (probe.json), then runs every plan matching `planGlob` (relative to the folder) with `mirtune-run opencl` on every
/// device, or the P:D it is given, into the folder `resultFolder` (a shell word; $plan, $dir and $device are set), and
/// last writes devices.txt. `what` names the plans and `afterwards` ends the comment on bringing the folder back.
std::string openClRunAllScript(const std::string& what, const std::string& afterwards, const std::string& planGlob,
                               const std::string& resultFolder);

/// The machine an exported folder was measured on, from the platform.json its run-all.sh wrote (kNotFound
/// when it was not run; kInvalidInput naming the file when damaged). Its fingerprint is the SHA-256 of the
/// file's canonical JSON; `machine`, when given, receives that JSON (for a fingerprint that covers more).
Expected<PlatformRecord> exportedPlatform(const std::filesystem::path& folder,
                                          nlohmann::json* machine = nullptr);

/// Most logical cores an exported index or platform record may claim: more is a damaged number, and thread
/// counts derived from it (2 x cores) must stay far from int overflow.
inline constexpr std::int64_t kMaxExportedCores = 1 << 16;

/// The index file of an exported folder (collection.json, ...): a JSON object whose "items" is an array of
/// objects. kNotFound when it does not exist, kInvalidInput naming the file otherwise.
Expected<nlohmann::json> readExportIndex(const std::filesystem::path& file);

/// object[key] of an exported index as a string; `fallback` when absent (required when there is none).
/// kInvalidInput naming `file` and `where` ("items[2].size") on a missing or non-string value.
Expected<std::string> indexString(const nlohmann::json& object, const char* key,
                                  const std::filesystem::path& file, const std::string& where,
                                  std::optional<std::string> fallback = std::nullopt);

/// object[key] of an exported index as an integer in [lowest, highest]; `fallback` when absent (required when
/// there is none). kInvalidInput naming `file` and `where` otherwise.
Expected<std::int64_t> indexInteger(const nlohmann::json& object, const char* key,
                                    const std::filesystem::path& file, const std::string& where,
                                    std::int64_t lowest, std::int64_t highest,
                                    std::optional<std::int64_t> fallback = std::nullopt);

/// Writes a new random identity (32 hex digits) to <folder>/export-id. Every exporter writes one, so that the
/// measurements ingested from a folder are keyed apart from those of any other export, even of the same plans.
Expected<std::string> writeExportId(const std::filesystem::path& folder);

/// The identity of an exported folder: its export-id; for a folder exported before export-id existed,
/// "sha256:" + the SHA-256 of `indexFile` (its index: batch.json, export.json, collection.json...).
/// kInvalidInput naming the file when export-id is not 32 hex digits.
Expected<std::string> exportId(const std::filesystem::path& folder, const std::filesystem::path& indexFile);

/// The ingest key of one measurement of an exported folder (MeasurementRecord::ingestKey):
/// "<exportId>/<planFolder>/<unit>", where `unit` names what was measured in that plan folder (the
/// configuration's canonical SHA-256 and, for OpenCL, the device "P:D").
std::string ingestKey(std::string_view exportId, std::string_view planFolder, std::string_view unit);

/// Name of the machine record a node writes into each plan folder it measures under `mirtune campaign`
/// (run-all.sh writes it once, into the exported folder).
inline constexpr const char* kPlatformRecordFile = "platform.json";

/// The folder whose machine records (platform.json; for OpenCL plans also probe.json and devices.txt) describe
/// the results in plan folder `item` of exported folder `exported`: `item` itself when it holds a platform.json
/// (a campaign task wrote it: each node records its own machine), else `exported` (run-all.sh's records).
std::filesystem::path machineRecordFolder(const std::filesystem::path& exported, const std::filesystem::path& item);

/// "--args" split at white space (no quoting).
std::vector<std::string> splitArguments(const std::string& text);

}  // namespace mirtune
