// `coarsen collect` as library calls: every factor of a kernel suite measured against factor 1 on this
// machine's OpenCL devices, or exported for another machine's runner and ingested back (all checks first).
#include "tasks/coarsen/CoarsenCollect.h"

#include "database/CanonicalJson.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Platform.h"
#include "support/Progress.h"
#include "tasks/coarsen/CoarsenExport.h"
#include "tasks/coarsen/LocalCoarsen.h"
#include "tuner/IngestChecks.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

namespace {

/// The (manifest, N) pairs --sizes selects.
Expected<std::vector<std::pair<const KernelManifest*, std::int64_t>>> collectWork(
    const std::vector<KernelManifest>& suite, const std::string& sizes) {
  auto indices = parseSizeIndices(sizes);
  if (!indices) return indices.error();
  return selectManifestSizes(suite, *indices);
}

nlohmann::json collectLaunch(const KernelManifest& manifest, std::int64_t n, const runner::RunPlan& plan) {
  return {{"kernel", manifest.kernel}, {"manifest", manifest.name}, {"n", n},
          {"global", plan.globalSize}, {"local", plan.localSize},   {"build_options", plan.buildOptions}};
}

// Counts the measured (variant, device) pairs of one launch and the ok ones.
void countMeasurements(const std::vector<Variant>& variants, CollectReport& report) {
  for (const Variant& variant : variants) {
    for (std::size_t d = 0; d < variant.devices.size(); ++d) {
      if (!variant.measured[d]) continue;
      ++report.total;
      if (variant.devices[d].status == MeasureStatus::kOk) ++report.ok;
    }
  }
}


Expected<ExportSummary> exportCollection(const CollectRequest& options, const fs::path& directory,
                  const std::vector<std::pair<const KernelManifest*, std::int64_t>>& work, CoarsenMode mode) {
  const fs::path folder = options.exportFolder;
  std::error_code madeFolder;
  fs::create_directories(folder, madeFolder);
  if (madeFolder) return makeError(ErrorCode::kIo, "{}: {}", folder.string(), madeFolder.message());
  if (auto id = writeExportId(folder); !id) return id.error();
  nlohmann::json index = {{"kernels", fs::absolute(directory).string()},
                          {"dimension", options.dimension},
                          {"mode", coarsenModeName(mode)},
                          {"items", nlohmann::json::array()}};
  std::size_t plans = 0;
  for (const auto& [manifest, n] : work) {
    auto plan = makeRunPlan(*manifest, n);
    if (!plan) return plan.error();
    plan->minTimeSeconds = options.minTime;
    const std::string name = fmt::format("{}-N{}", manifest->name, n);
    const fs::path itemFolder = folder / name;
    fs::create_directories(itemFolder);
    auto variants = makeVariants(manifest->source, manifest->kernel, *plan, factorOrder({}),
                                 options.dimension, mode, static_cast<int>(kFactors.size()), itemFolder);
    if (!variants) return variants.error();
    nlohmann::json factors = nlohmann::json::array();
    for (Variant& variant : *variants) {
      nlohmann::json entry = {{"factor", variant.factor}, {"kernel", variant.kernel}};
      if (variant.refusal) {
        entry["refusal"] = variant.refusalCode;
        entry["message"] = *variant.refusal;
        factors.push_back(std::move(entry));
        continue;
      }
      // Self-contained: the source beside the plan (relative), outputs into the current folder of the run.
      runner::RunPlan exported = *variant.plan;
      if (variant.factor == 1) {
        auto text = readFile(manifest->source);
        if (!text) return text.error();
        if (auto written = writeFileAtomically(itemFolder / "original.cl", *text); !written)
          return written.error();
        exported.source = "original.cl";
      } else {
        exported.source = fs::path(variant.plan->source).filename().string();
      }
      exported.outputDirectory = "outputs";
      const std::string planName = fmt::format("f{}.plan.json", variant.factor);
      if (auto written =
              writeFileAtomically(itemFolder / planName, runner::runPlanToJson(exported).dump(2) + "\n");
          !written) {
        return written.error();
      }
      entry["plan"] = planName;
      factors.push_back(std::move(entry));
      ++plans;
    }
    index["items"].push_back(
        {{"folder", name}, {"manifest", manifest->name}, {"n", n}, {"factors", factors}});
  }
  if (auto written = writeFileAtomically(folder / "collection.json", index.dump(2) + "\n"); !written) {
    return written.error();
  }
  const std::string script =
      openClRunAllScript("coarsening plan", ": mirtune coarsen collect --ingest <this folder>", "*/f*.plan.json",
                         "$dir/$(basename \"$plan\" .plan.json).device-$(echo \"$device\" | tr ':' '-')");
  if (auto written = writeFileAtomically(folder / "run-all.sh", script); !written)
    return written.error();
  return ExportSummary{plans, work.size()};
}

/// One device's result of an exported plan (checked against the plan), its outputs checked against
/// `expected` (when given). A damaged result is an error; a missing or failed run is a result.
Expected<DeviceRunResult> ingestResult(const fs::path& resultFile, const OpenClDevice& device,
                                       const runner::RunPlan& plan,
                                       const std::function<Status(ReferenceArgs&)>& expected,
                                       const std::string& expectedName, const Tolerance& tolerance) {
  auto checked = readCheckedOpenClResult(resultFile, plan, device);
  if (!checked) return checked.error();
  DeviceRunResult result = std::move(*checked);
  if (result.status != MeasureStatus::kOk || !expected) return result;
  ReferenceArgs want = makeReferenceArgs(plan);
  if (Status computed = expected(want); !computed) {
    result.status = MeasureStatus::kRunFailed;
    result.message = computed.error().message();
    return result;
  }
  ReferenceArgs got = makeReferenceArgs(plan);
  if (Status loaded = loadOutputs(plan, result, resultFile.parent_path(), got); !loaded) {
    result.status = MeasureStatus::kRunFailed;
    result.message = loaded.error().message();
    return result;
  }
  for (std::size_t i = 0; i < plan.args.size(); ++i) {
    const runner::ArgSpec& arg = plan.args[i];
    if (arg.kind != runner::ArgKind::kBuffer || arg.role == runner::ArgRole::kIn) continue;
    if (auto mismatch = compareBuffers(got.buffers[i], want.buffers[i], tolerance, arg.name)) {
      result.status = MeasureStatus::kWrongOutput;
      result.message = fmt::format("{} ({})", *mismatch, expectedName);
      break;
    }
  }
  return result;
}

/// One exported factor of an item: its entry in collection.json and, unless refused, its checked plan.
Expected<Variant> exportedVariant(const nlohmann::json& entry, const std::string& where,
                                  const fs::path& indexFile, const fs::path& itemFolder,
                                  const runner::RunPlan& original, unsigned dimension) {
  if (!entry.is_object())
    return makeError(ErrorCode::kInvalidInput, "{}: '{}' must be an object", indexFile.string(), where);
  Variant variant;
  auto factor = indexInteger(entry, "factor", indexFile, where + ".factor", 1, kFactors.back());
  if (!factor) return factor.error();
  variant.factor = static_cast<int>(*factor);
  auto kernel = indexString(entry, "kernel", indexFile, where + ".kernel");
  if (!kernel) return kernel.error();
  variant.kernel = *kernel;
  if (entry.contains("refusal")) {
    auto code = indexString(entry, "refusal", indexFile, where + ".refusal");
    if (!code) return code.error();
    auto message = indexString(entry, "message", indexFile, where + ".message", "");
    if (!message) return message.error();
    variant.refusalCode = *code;
    variant.refusal = *message;
    return variant;
  }
  auto planName = indexString(entry, "plan", indexFile, where + ".plan");
  if (!planName) return planName.error();
  auto planFile = pathInsideFolder(itemFolder, *planName, indexFile, where + ".plan");
  if (!planFile) return planFile.error();
  auto planText = readFile(*planFile);
  if (!planText) return planText.error();
  runner::RunPlan plan;
  std::string error;
  bool parsed = false;
  try {
    parsed = runner::parseRunPlan(nlohmann::json::parse(*planText, nullptr, false), plan, error);
  } catch (const nlohmann::json::exception& e) {
    error = e.what();
  }
  if (!parsed) return makeError(ErrorCode::kInvalidInput, "{}: {}", planFile->string(), error);
  if (Status same =
          checkExportedFactorPlan(plan, original, variant.factor, dimension, variant.kernel, *planFile);
      !same) {
    return same.error();
  }
  variant.plan = std::move(plan);
  return variant;
}

/// `variants` measured on `devices`, with their per-device results moved to the columns `columns` (each
/// device of `devices` is one of them); a column the plan folder was not measured on is an unmeasured entry.
std::vector<Variant> onColumns(std::vector<Variant> variants, const std::vector<OpenClDevice>& devices,
                               const std::vector<OpenClDevice>& columns) {
  for (Variant& variant : variants) {
    if (variant.devices.empty()) continue;
    std::vector<DeviceRunResult> placed;
    std::vector<bool> measured;
    for (const OpenClDevice& column : columns) {
      std::size_t d = 0;
      while (d < devices.size() && !(devices[d].platformIndex == column.platformIndex &&
                                     devices[d].deviceIndex == column.deviceIndex &&
                                     devices[d].name == column.name && devices[d].type == column.type)) {
        ++d;
      }
      if (d < devices.size() && d < variant.devices.size()) {
        placed.push_back(std::move(variant.devices[d]));
        measured.push_back(variant.measured[d]);
      } else {
        DeviceRunResult absent = deviceRunResultFor(column);
        absent.message = "not measured: its plan folder ran on another machine";
        placed.push_back(std::move(absent));
        measured.push_back(false);
      }
    }
    variant.devices = std::move(placed);
    variant.measured = std::move(measured);
  }
  return variants;
}

}  // namespace

Expected<CollectReport> ingestCollection(const CollectRequest& options) {
  const fs::path folder = options.ingestFolder;
  const fs::path indexFile = folder / "collection.json";
  auto index = readExportIndex(indexFile);
  if (!index) return index.error();
  // Each plan folder's machine is read with it (machineRecordFolder); with none anywhere, nothing ran yet.
  if (!anyMachineRecord(folder)) return exportedPlatform(folder).error();
  auto id = exportId(folder, indexFile);
  if (!id) return id.error();
  // The suite folder names this machine's kernels (the export was made here), not a file of the export.
  auto directory = indexString(*index, "kernels", indexFile, "kernels");
  if (!directory) return directory.error();
  auto suite = loadKernelSuite(*directory);
  if (!suite) return suite.error();
  auto modeName = indexString(*index, "mode", indexFile, "mode", "consecutive");
  if (!modeName) return modeName.error();
  auto mode = parseModeOption(*modeName);
  if (!mode) return mode.error().withContext(indexFile.string());
  auto dimensionValue = indexInteger(*index, "dimension", indexFile, "dimension", 0, 2, 0);
  if (!dimensionValue) return dimensionValue.error();
  const auto dimension = static_cast<unsigned>(*dimensionValue);

  // Every result is read and checked before anything is stored: a damaged export leaves no half session.
  struct Launch {
    const KernelManifest* manifest;
    std::int64_t n;
    std::vector<Variant> variants;
    std::string folder;            ///< the plan folder, as collection.json names it
    OpenClMachineRecords machine;  ///< the machine that measured it
  };
  std::vector<Launch> launches;
  std::size_t notMeasured = 0;
  const nlohmann::json& items = (*index)["items"];
  for (std::size_t i = 0; i < items.size(); ++i) {
    const nlohmann::json& item = items[i];
    const std::string where = fmt::format("items[{}]", i);
    auto name = indexString(item, "manifest", indexFile, where + ".manifest");
    if (!name) return name.error();
    auto n = indexInteger(item, "n", indexFile, where + ".n", 1, std::numeric_limits<std::int64_t>::max());
    if (!n) return n.error();
    auto manifest =
        std::find_if(suite->begin(), suite->end(), [&](const KernelManifest& m) { return m.name == *name; });
    if (manifest == suite->end()) {
      return makeError(ErrorCode::kNotFound, "{}: kernel '{}' is not in {}", indexFile.string(),
                                   *name, *directory);
    }
    if (std::find(manifest->sizes.begin(), manifest->sizes.end(), *n) == manifest->sizes.end()) {
      return makeError(ErrorCode::kInvalidInput, "{}: {}.n {} is not a size of kernel '{}' ({})",
                                   indexFile.string(), where, *n, *name, fmt::join(manifest->sizes, ", "));
    }
    auto request = makeRunRequest(*manifest, *n);
    if (!request) return request.error();
    auto folderName = indexString(item, "folder", indexFile, where + ".folder");
    if (!folderName) return folderName.error();
    auto itemFolder = pathInsideFolder(folder, *folderName, indexFile, where + ".folder");
    if (!itemFolder) return itemFolder.error();
    if (item.contains("factors") && !item["factors"].is_array()) {
      return makeError(ErrorCode::kInvalidInput, "{}: '{}.factors' must be an array",
                                   indexFile.string(), where);
    }
    std::vector<Variant> variants;
    std::set<int> factors;
    const nlohmann::json entries = item.value("factors", nlohmann::json::array());
    for (std::size_t j = 0; j < entries.size(); ++j) {
      auto variant = exportedVariant(entries[j], fmt::format("{}.factors[{}]", where, j), indexFile,
                                     *itemFolder, request->plan, dimension);
      if (!variant) return variant.error();
      if (!factors.insert(variant->factor).second) {
        return makeError(ErrorCode::kInvalidInput, "{}: {} lists factor {} twice",
                                     indexFile.string(), where, variant->factor);
      }
      variants.push_back(std::move(*variant));
    }
    if (variants.empty() || variants.front().factor != 1 || !variants.front().plan) {
      return makeError(ErrorCode::kInvalidInput, "{}: {} has no factor-1 plan first",
                                   indexFile.string(), *name);
    }
    auto machine = exportedOpenClMachine(folder, *itemFolder);
    if (!machine) return machine.error();
    if (!*machine) {  // not measured yet: its plans are checked above, its results are for a later ingest
      ++notMeasured;
      continue;
    }
    const std::vector<OpenClDevice>* devices = &(*machine)->devices;
    // A result file still absent (a run killed, to be run again): the plan folder is not measured yet.
    bool complete = true;
    for (const Variant& variant : variants) {
      if (!variant.plan) continue;
      for (const OpenClDevice& device : *devices) {
        std::error_code error;
        complete = complete && fs::exists(*itemFolder /
                                              fmt::format("f{}.device-{}-{}", variant.factor,
                                                          device.platformIndex, device.deviceIndex) /
                                              "result.json",
                                          error);
      }
    }
    if (!complete) {
      ++notMeasured;
      continue;
    }
    // Factor 1 against the manifest's CPU reference; every other factor against factor 1 on the same device.
    for (Variant& variant : variants) {
      if (!variant.plan) continue;
      for (const OpenClDevice& device : *devices) {
        const std::string run =
            fmt::format("f{}.device-{}-{}", variant.factor, device.platformIndex, device.deviceIndex);
        auto resultFile = pathInsideFolder(
            *itemFolder, run + "/result.json", indexFile,
            fmt::format("{} (its result on device {}:{})", where, device.platformIndex, device.deviceIndex));
        if (!resultFile) return resultFile.error();
        if (variant.factor == 1) {
          auto result = ingestResult(*resultFile, device, *variant.plan, request->reference,
                                     request->referenceName, request->tolerance);
          if (!result) return result.error();
          variant.devices.push_back(std::move(*result));
          variant.measured.push_back(true);
          continue;
        }
        const DeviceRunResult& baseline = variants.front().devices[variant.devices.size()];
        if (baseline.status != MeasureStatus::kOk) {
          DeviceRunResult skipped = deviceRunResultFor(device);
          skipped.message = "not measured: the original kernel did not run ok on this device";
          variant.devices.push_back(std::move(skipped));
          variant.measured.push_back(false);
          continue;
        }
        const runner::RunPlan originalPlan = *variants.front().plan;
        auto expected = [originalPlan, baseline](ReferenceArgs& args) {
          return loadOutputs(originalPlan, baseline, {}, args);
        };
        auto result = ingestResult(*resultFile, device, *variant.plan, expected,
                                   fmt::format("{} at factor 1", manifest->kernel), request->tolerance);
        if (!result) return result.error();
        variant.devices.push_back(std::move(*result));
        variant.measured.push_back(true);
      }
    }
    launches.push_back({&*manifest, *n, std::move(variants), *folderName, std::move(**machine)});
  }

  OpenClRecorder recorder;
  if (Status opened = recorder.openForIngest(options.databasePath, "coarsen collect --ingest",
                                             {{"folder", fs::absolute(folder).string()}});
      !opened) {
    return opened.error();
  }

  CollectReport report;
  for (Launch& launch : launches) {
    const std::vector<Variant>& variants = launch.variants;
    if (Status used = recorder.usePlatform(launch.machine.platform); !used) {
      recorder.keep(used.error());
      continue;
    }
    recorder.setIngestPlace(*id, launch.folder);
    auto workload = recorder.workload(launch.manifest->source);
    if (workload) {
      recordVariants(recorder, *workload, kCoarsenCollectTask,
                     collectLaunch(*launch.manifest, launch.n, *variants.front().plan), variants, dimension,
                     *mode);
    }
    countMeasurements(variants, report);
    // The table's columns: every device any plan folder was measured on (by P:D, name and type).
    for (const OpenClDevice& device : launch.machine.devices) {
      const bool known =
          std::any_of(report.devices.begin(), report.devices.end(), [&](const OpenClDevice& d) {
            return d.platformIndex == device.platformIndex && d.deviceIndex == device.deviceIndex &&
                   d.name == device.name && d.type == device.type;
          });
      if (!known) report.devices.push_back(device);
    }
  }
  for (Launch& launch : launches) {
    report.launches.push_back(
        {launch.manifest->name, launch.n,
         onColumns(std::move(launch.variants), launch.machine.devices, report.devices)});
  }
  report.recorded = recorder.end();
  report.databasePath = recorder.database().path().string();
  for (const OpenClRecorder::PlatformSession& platform : recorder.platforms()) {
    report.platforms.push_back({platform.fingerprint, platform.sessionId});
  }
  if (!report.platforms.empty()) {
    report.sessionId = report.platforms.front().sessionId;
    report.platformFingerprint = report.platforms.front().fingerprint;
  }
  report.ingest =
      IngestCounts{recorder.storedNew(), recorder.alreadyStored(), items.size(), notMeasured, 0};
  report.ingestedFolder = folder.string();
  return report;
}

Expected<CollectReport> collect(const CollectRequest& options) {
  if (!options.exportFolder.empty() || !options.ingestFolder.empty()) {
    return Error(ErrorCode::kInternal, "collect measures here: exportCollection and ingestCollection take folders");
  }
  auto mode = parseModeOption(options.mode);
  if (!mode) return mode.error();
  const fs::path directory = options.kernels.empty() ? kernelSuiteDirectory() : fs::path(options.kernels);
  auto suite = loadKernelSuite(directory);
  if (!suite) return suite.error();
  if (suite->empty()) {
    return 
        makeError(ErrorCode::kNotFound, "{}: no kernel manifests (*.json)", directory.string());
  }
  auto work = collectWork(*suite, options.sizes);
  if (!work) return work.error();

  const fs::path runner = runnerExecutablePath();
  auto devices = localOpenClDevices(runner);
  if (!devices) return devices.error();
  OpenClRecorder recorder;
  nlohmann::json recordedOptions = {{"kernels", fs::absolute(directory).string()},
                                    {"sizes", options.sizes},
                                    {"dimension", options.dimension},
                                    {"mode", options.mode},
                                    {"timeout", options.timeout},
                                    {"min_time", options.minTime}};
  if (Status opened = recorder.open(options.databasePath, "coarsen collect", recordedOptions, {}); !opened) {
    return opened.error();
  }
  logInfo("coarsen collect: {} launches ({} kernels) x {} factors on {} device(s)", work->size(),
          suite->size(), kFactors.size(), devices->size());
  CollectReport report;
  report.devices = *devices;
  ScratchFolder folder;
  if (folder.path.empty()) return Error(ErrorCode::kIo, "cannot make a scratch folder for the runs");
  ProgressLine progress("coarsen collect", work->size());
  std::size_t item = 0;
  for (const auto& [manifest, n] : *work) {
    auto request = makeRunRequest(*manifest, n);
    const fs::path itemFolder = folder.path / fmt::format("item-{}", item++);
    fs::create_directories(itemFolder);
    Expected<std::vector<Variant>> variants =
        request ? makeVariants(manifest->source, manifest->kernel, request->plan, factorOrder({}),
                               options.dimension, *mode, static_cast<int>(kFactors.size()), itemFolder)
                : Expected<std::vector<Variant>>(request.error());
    if (!variants) {
      logWarn("{} N={}: {}", manifest->name, n, variants.error().message());
      report.launches.push_back({manifest->name, n, {}});
      progress.advance(1, fmt::format("{} N={}", manifest->name, n));
      continue;
    }
    request->timeoutSeconds = options.timeout;
    for (Variant& variant : *variants) {
      if (variant.plan) variant.plan->minTimeSeconds = options.minTime;
    }
    request->plan.minTimeSeconds = options.minTime;
    measureVariants(*variants, *devices, *request, itemFolder, runner);
    if (auto workload = recorder.workload(manifest->source)) {
      recordVariants(recorder, *workload, kCoarsenCollectTask, collectLaunch(*manifest, n, request->plan),
                     *variants, options.dimension, *mode);
    }
    countMeasurements(*variants, report);
    for (const Variant& variant : *variants) {
      for (std::size_t d = 0; d < variant.devices.size(); ++d) {
        if (!variant.measured[d]) continue;
        if (variant.devices[d].status != MeasureStatus::kOk)
          logWarn("{} N={} factor {} on {}: {}: {}", manifest->name, n, variant.factor,
                  deviceIndex(variant.devices[d]), measureStatusName(variant.devices[d].status),
                  variant.devices[d].message.substr(0, 300));
      }
    }
    report.launches.push_back({manifest->name, n, std::move(*variants)});
    progress.advance(1, fmt::format("{} N={}", manifest->name, n));
  }
  progress.finish();
  report.recorded = recorder.end();
  report.databasePath = recorder.database().path().string();
  report.sessionId = recorder.sessionId();
  return report;
}

Expected<ExportSummary> exportCollection(const CollectRequest& options) {
  if (options.exportFolder.empty()) return Error(ErrorCode::kInternal, "exportCollection needs a folder");
  auto mode = parseModeOption(options.mode);
  if (!mode) return mode.error();
  const fs::path directory = options.kernels.empty() ? kernelSuiteDirectory() : fs::path(options.kernels);
  auto suite = loadKernelSuite(directory);
  if (!suite) return suite.error();
  if (suite->empty()) return makeError(ErrorCode::kNotFound, "{}: no kernel manifests (*.json)", directory.string());
  auto work = collectWork(*suite, options.sizes);
  if (!work) return work.error();
  return exportCollection(options, directory, *work, *mode);
}

}  // namespace mirtune::coarsen
