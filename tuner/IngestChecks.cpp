// Checks of exported folders brought back: confined paths, runner result lines against their plan, OpenCL
// result files against their run plan.
#include "tuner/IngestChecks.h"

#include "support/Files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

namespace mirtune {
namespace fs = std::filesystem;
namespace {

// A runner stops a repetition at its timeout; this much later still counts as stopped on time (the clock is
// read after the kill and the child's exit).
constexpr double kTimeoutSlackSeconds = 1.0;

// Numbers that went through JSON compare equal after a round trip, but a writer with fewer digits is not
// wrong either.
bool sameNumber(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) + 1e-15;
}

fs::path withoutTrailingSeparator(fs::path path) {
  return path.filename().empty() && path.has_parent_path() ? path.parent_path() : path;
}

bool isWithin(const fs::path& base, const fs::path& path) {
  auto [end, ignored] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
  return end == base.end();
}

std::string joined(const std::vector<std::string>& words) {
  return fmt::format("{}", fmt::join(words, " "));
}

// The run's summary fields against the statistics of its times.
Status checkSummary(const std::vector<double>& times, const runner::SampleSummary& reported,
                    std::string_view medianKey, std::string_view iqrKey, const char* minKey,
                    const char* maxKey) {
  const runner::SampleSummary expected = runner::summarise(times);
  struct Field {
    std::string_view key;
    double reported;
    double expected;
    const char* statistic;
  };
  std::vector<Field> fields = {{medianKey, reported.median, expected.median, "median"},
                               {iqrKey, reported.iqr, expected.iqr, "interquartile range"}};
  if (minKey != nullptr) fields.push_back({minKey, reported.min, expected.min, "minimum"});
  if (maxKey != nullptr) fields.push_back({maxKey, reported.max, expected.max, "maximum"});
  for (const Field& field : fields) {
    if (!sameNumber(field.reported, field.expected)) {
      return makeError(ErrorCode::kInvalidInput, "'{}' is {} but the {} of the {} times is {}", field.key,
                       field.reported, field.statistic, times.size(), field.expected);
    }
  }
  return {};
}

// Each repetition's time: finite, positive, and no longer than `longest`.
Status checkTimes(const std::vector<double>& times, std::string_view key, double longest,
                  std::string_view limit) {
  for (std::size_t i = 0; i < times.size(); ++i) {
    const double t = times[i];
    if (!std::isfinite(t) || t <= 0) {
      return makeError(ErrorCode::kInvalidInput, "'{}'[{}] is {}: a repetition takes a finite time > 0 s",
                       key, i, t);
    }
    if (t > longest) {
      return makeError(ErrorCode::kInvalidInput, "'{}'[{}] is {} s, longer than {}", key, i, t, limit);
    }
  }
  return {};
}

std::string mapText(const std::map<std::string, std::string>& values) {
  return nlohmann::json(values).dump();
}

}  // namespace

Expected<fs::path> pathInsideFolder(const fs::path& folder, const std::string& name, const fs::path& namedIn,
                                    std::string_view field) {
  auto refuse = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalidInput, "{}: {} \"{}\" {}; it must name a path inside {}",
                     namedIn.string(), field, name, why, folder.string());
  };
  if (name.empty()) return refuse("is empty");
  if (name.find('\0') != std::string::npos) return refuse("holds a NUL character");
  const fs::path relative(name);
  if (relative.has_root_path()) return refuse("is absolute");
  for (const fs::path& part : relative) {
    if (part == "..") return refuse("climbs out with '..'");
  }
  std::error_code error;
  const fs::path base = withoutTrailingSeparator(fs::weakly_canonical(folder, error));
  if (error) return makeError(ErrorCode::kIo, "{}: {}", folder.string(), error.message());
  const fs::path resolved = withoutTrailingSeparator(fs::weakly_canonical(folder / relative, error));
  if (error) return makeError(ErrorCode::kIo, "{}: {}", (folder / relative).string(), error.message());
  if (!isWithin(base, resolved)) return refuse("leads out of the folder through a symbolic link");
  return (folder / relative).lexically_normal();
}

Status checkSameCommands(const runner::ProcessPlan& exported, const runner::ProcessPlan& expected,
                         const fs::path& planFile) {
  auto differ = [&](const std::string& what) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: {}; the folder's plan is not the one mirtune makes for this item (was the export "
                     "edited, or made for other sizes or options?)",
                     planFile.string(), what);
  };
  std::map<std::string, const runner::ProcessRun*> runs;
  for (const auto& run : exported.runs) runs[run.id] = &run;
  std::map<std::string, const runner::ProcessBuild*> builds;
  for (const auto& build : exported.builds) builds[build.id] = &build;
  if (exported.runs.size() != expected.runs.size()) {
    return differ(
        fmt::format("it has {} runs, mirtune plans {}", exported.runs.size(), expected.runs.size()));
  }
  for (const auto& want : expected.runs) {
    auto found = runs.find(want.id);
    if (found == runs.end()) return differ(fmt::format("it has no run '{}'", want.id));
    const runner::ProcessRun& have = *found->second;
    if (have.argv != want.argv) {
      return differ(fmt::format("run '{}' runs `{}`, mirtune plans `{}`", want.id, joined(have.argv),
                                joined(want.argv)));
    }
    if (have.environment != want.environment || have.unsetEnvironment != want.unsetEnvironment) {
      return differ(fmt::format("run '{}' has the environment {}, mirtune plans {}", want.id,
                                mapText(have.environment), mapText(want.environment)));
    }
    if (have.workingDirectory != want.workingDirectory || have.build != want.build) {
      return differ(fmt::format("run '{}' starts in '{}' after build '{}', mirtune plans '{}' after '{}'",
                                want.id, have.workingDirectory, have.build, want.workingDirectory,
                                want.build));
    }
  }
  if (exported.builds.size() != expected.builds.size()) {
    return differ(
        fmt::format("it has {} builds, mirtune plans {}", exported.builds.size(), expected.builds.size()));
  }
  for (const auto& want : expected.builds) {
    auto found = builds.find(want.id);
    if (found == builds.end()) return differ(fmt::format("it has no build '{}'", want.id));
    const runner::ProcessBuild& have = *found->second;
    if (have.argv != want.argv || have.environment != want.environment ||
        have.unsetEnvironment != want.unsetEnvironment || have.workingDirectory != want.workingDirectory) {
      return differ(fmt::format("build '{}' runs `{}` with {}, mirtune plans `{}` with {}", want.id,
                                joined(have.argv), mapText(have.environment), joined(want.argv),
                                mapText(want.environment)));
    }
  }
  return {};
}

Status checkRunResult(const runner::ProcessResult& result, const runner::ProcessRun& run) {
  const std::size_t count = result.times.size();
  if (result.repetitions < 0 || static_cast<std::size_t>(result.repetitions) != count) {
    return makeError(ErrorCode::kInvalidInput, "'repetitions' is {} but 'times' holds {} values",
                     result.repetitions, count);
  }
  if (Status times = checkTimes(result.times, "times", run.timeoutSeconds + kTimeoutSlackSeconds,
                                fmt::format("the run's timeout of {} s", run.timeoutSeconds));
      !times) {
    return times;
  }
  if (count > static_cast<std::size_t>(run.maxRepetitions)) {
    return makeError(ErrorCode::kInvalidInput, "{} repetitions, more than the run's max_repetitions {}",
                     count, run.maxRepetitions);
  }
  if (result.status == MeasureStatus::kOk) {
    if (count < static_cast<std::size_t>(run.minRepetitions)) {
      return makeError(ErrorCode::kInvalidInput,
                       "status ok after {} repetitions, fewer than the run's min_repetitions {}", count,
                       run.minRepetitions);
    }
    if (result.timer == runner::TimerMode::kAuto) {
      return makeError(ErrorCode::kInvalidInput, "status ok but no 'timer' (region or wall)");
    }
  }
  if (run.timer != runner::TimerMode::kAuto && result.timer != runner::TimerMode::kAuto &&
      result.timer != run.timer) {
    return makeError(ErrorCode::kInvalidInput, "'timer' is {} but the run asks for {}",
                     runner::timerModeName(result.timer), runner::timerModeName(run.timer));
  }
  if (Status summary = checkSummary(result.times, result.summary, "median", "iqr", "min", "max"); !summary) {
    return summary;
  }
  if (result.warmup < 0 || result.warmup > run.warmup) {
    return makeError(ErrorCode::kInvalidInput, "'warmup' is {} but the run has {} warm-up repetitions",
                     result.warmup, run.warmup);
  }
  if (!std::isfinite(result.wallSeconds) || result.wallSeconds < 0) {
    return makeError(ErrorCode::kInvalidInput, "'wall_seconds' is {}: it must be a finite time >= 0 s",
                     result.wallSeconds);
  }
  return {};
}

Expected<std::map<std::string, runner::ProcessResult>> readCheckedRunResults(
    const fs::path& resultsFile, const runner::ProcessPlan& plan) {
  runner::ProcessResultsFile file;
  std::string error;
  if (!runner::readProcessResultsFile(resultsFile.string(), file, error))
    return Error(ErrorCode::kInvalidInput, error);
  if (file.droppedTail) {
    // A killed writer leaves a last line without its newline; a complete last line that does not parse was
    // written that way.
    auto text = readFile(resultsFile);
    if (!text) return text.error();
    const std::string tail = text->substr(std::min<std::size_t>(file.completeBytes, text->size()));
    if (!tail.empty() && tail.back() == '\n') {
      const nlohmann::json json = nlohmann::json::parse(tail, nullptr, false);
      runner::ProcessResult ignored;
      std::string why = "not a JSON object";
      if (!json.is_discarded()) runner::parseProcessResultLine(json, ignored, why);
      return makeError(ErrorCode::kInvalidInput, "{}:{}: {}", resultsFile.string(), file.results.size() + 1,
                       why);
    }
  }
  std::map<std::string, const runner::ProcessRun*> runs;
  for (const auto& run : plan.runs) runs[run.id] = &run;
  std::set<std::string> builds;
  for (const auto& build : plan.builds) builds.insert(build.id);
  std::set<std::string> seenBuilds;
  std::map<std::string, runner::ProcessResult> checked;
  for (std::size_t i = 0; i < file.results.size(); ++i) {
    runner::ProcessResult& result = file.results[i];
    const std::string where = fmt::format("{}:{} ({} '{}')", resultsFile.string(), i + 1,
                                          runner::processItemKindName(result.kind), result.id);
    if (result.kind == runner::ProcessItemKind::kBuild) {
      if (!builds.count(result.id))
        return makeError(ErrorCode::kInvalidInput, "{}: not a build of the plan", where);
      if (!seenBuilds.insert(result.id).second)
        return makeError(ErrorCode::kInvalidInput, "{}: a second result of the same build", where);
      continue;
    }
    auto run = runs.find(result.id);
    if (run == runs.end()) return makeError(ErrorCode::kInvalidInput, "{}: not a run of the plan", where);
    if (checked.count(result.id))
      return makeError(ErrorCode::kInvalidInput, "{}: a second result of the same run", where);
    if (Status valid = checkRunResult(result, *run->second); !valid)
      return Error(ErrorCode::kInvalidInput, fmt::format("{}: {}", where, valid.error().message()));
    checked.emplace(result.id, std::move(result));
  }
  return checked;
}

namespace {

// Reads the keys of a result.json, each error naming the file and the key.
class ResultReader {
 public:
  ResultReader(const nlohmann::json& json, const fs::path& file) : json_(json), file_(file) {}

  Error fail(const std::string& message) const {
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: {}", file_.string(), message));
  }
  bool has(const char* key) const { return json_.contains(key) && !json_[key].is_null(); }

  Status string(const char* key, const nlohmann::json& object, const std::string& where) const {
    if (object.contains(key) && !object[key].is_null() && !object[key].is_string())
      return fail(fmt::format("'{}{}' must be a string", where, key));
    return {};
  }

  Expected<std::vector<double>> numbers(const char* key) const {
    std::vector<double> values;
    if (!has(key)) return values;
    if (!json_[key].is_array()) return fail(fmt::format("'{}' must be an array of seconds", key));
    for (const auto& value : json_[key]) {
      if (!value.is_number()) return fail(fmt::format("'{}' must be an array of seconds", key));
      values.push_back(value.get<double>());
    }
    return values;
  }

  Expected<double> number(const char* key, bool required) const {
    if (!has(key)) {
      if (required) return fail(fmt::format("'{}' is required", key));
      return 0.0;
    }
    if (!json_[key].is_number()) return fail(fmt::format("'{}' must be a number", key));
    return json_[key].get<double>();
  }

  Expected<std::vector<std::uint64_t>> sizes(const char* key) const {
    std::vector<std::uint64_t> values;
    if (!json_[key].is_array()) return fail(fmt::format("'{}' must be an array of sizes", key));
    for (const auto& value : json_[key]) {
      if (!value.is_number_unsigned()) return fail(fmt::format("'{}' must be an array of sizes", key));
      values.push_back(value.get<std::uint64_t>());
    }
    return values;
  }

 private:
  const nlohmann::json& json_;
  const fs::path& file_;
};

constexpr std::array<const char*, 4> kOpenClStatuses = {"ok", "build_failed", "run_failed", "invalid_plan"};

}  // namespace

Expected<DeviceRunResult> readCheckedOpenClResult(const fs::path& resultFile, const runner::RunPlan& plan,
                                                  const OpenClDevice& device) {
  std::error_code error;
  if (!fs::exists(fs::symlink_status(resultFile, error))) {
    DeviceRunResult missing = deviceRunResultFor(device);
    missing.status = MeasureStatus::kRunFailed;
    missing.message = fmt::format("{}: no result (the runner did not finish)", resultFile.string());
    return missing;
  }
  auto text = readFile(resultFile);
  if (!text) return text.error();
  const nlohmann::json json = nlohmann::json::parse(*text, nullptr, false);
  ResultReader reader(json, resultFile);
  if (!json.is_object()) return reader.fail("not a result of mirtune-run opencl (not a JSON object)");

  if (!reader.has("status") || !json["status"].is_string())
    return reader.fail("'status' is required and must be a string");
  const std::string status = json["status"].get<std::string>();
  if (std::find(kOpenClStatuses.begin(), kOpenClStatuses.end(), status) == kOpenClStatuses.end()) {
    return reader.fail(
        fmt::format("'status' must be one of {} (got '{}')", fmt::join(kOpenClStatuses, ", "), status));
  }
  const bool ok = status == "ok";
  for (const char* key : {"message", "build_log", "opencl_error", "schema", "kernel"}) {
    if (Status valid = reader.string(key, json, ""); !valid) return valid.error();
  }
  if (reader.has("device")) {
    const auto& info = json["device"];
    if (!info.is_object()) return reader.fail("'device' must be an object");
    for (const char* key : {"platform", "name", "type", "vendor", "driver_version"}) {
      if (Status valid = reader.string(key, info, "device."); !valid) return valid.error();
    }
  }

  // What ran must be what the plan says.
  if (ok) {
    for (const char* key : {"kernel", "global_size", "repetitions", "kernel_seconds", "total_seconds",
                            "median_kernel_s", "iqr_kernel_s", "median_total_s", "iqr_total_s", "outputs"}) {
      if (!reader.has(key)) return reader.fail(fmt::format("status ok but no '{}'", key));
    }
  }
  if (reader.has("kernel") && json["kernel"].get<std::string>() != plan.kernel) {
    return reader.fail(fmt::format("'kernel' is '{}' but the plan runs '{}'",
                                   json["kernel"].get<std::string>(), plan.kernel));
  }
  for (const auto& [key, planned] :
       {std::pair<const char*, const std::vector<std::uint64_t>&>{"global_size", plan.globalSize},
        {"local_size", plan.localSize}}) {
    if (!reader.has(key)) continue;
    auto reported = reader.sizes(key);
    if (!reported) return reported.error();
    if (*reported != planned) {
      return reader.fail(fmt::format("'{}' is [{}] but the plan launches [{}]", key,
                                     fmt::join(*reported, ", "), fmt::join(planned, ", ")));
    }
  }
  if (reader.has("warmup") &&
      (!json["warmup"].is_number_integer() || json["warmup"].get<std::int64_t>() != plan.warmup)) {
    return reader.fail(fmt::format("'warmup' is {} but the plan has {}", json["warmup"].dump(), plan.warmup));
  }

  // Times and their statistics.
  auto kernelSeconds = reader.numbers("kernel_seconds");
  if (!kernelSeconds) return kernelSeconds.error();
  auto totalSeconds = reader.numbers("total_seconds");
  if (!totalSeconds) return totalSeconds.error();
  const std::string longest = fmt::format("{} s (no repetition takes that long)", kLongestRepetitionSeconds);
  for (const auto& [key, times] :
       {std::pair<const char*, const std::vector<double>&>{"kernel_seconds", *kernelSeconds},
        {"total_seconds", *totalSeconds}}) {
    if (Status valid = checkTimes(times, key, kLongestRepetitionSeconds, longest); !valid)
      return reader.fail(valid.error().message());
  }
  if (kernelSeconds->size() != totalSeconds->size()) {
    return reader.fail(fmt::format("'kernel_seconds' holds {} values but 'total_seconds' {}",
                                   kernelSeconds->size(), totalSeconds->size()));
  }
  const std::size_t count = kernelSeconds->size();
  if (reader.has("repetitions")) {
    if (!json["repetitions"].is_number_unsigned() || json["repetitions"].get<std::uint64_t>() != count) {
      return reader.fail(fmt::format("'repetitions' is {} but the result holds {} times",
                                     json["repetitions"].dump(), count));
    }
  }
  if (count > static_cast<std::size_t>(plan.maxRepetitions) ||
      (ok && count < static_cast<std::size_t>(plan.minRepetitions))) {
    return reader.fail(fmt::format("{} repetitions, outside the plan's {} to {}", count, plan.minRepetitions,
                                   plan.maxRepetitions));
  }
  if (ok || count > 0) {
    runner::SampleSummary kernel, total;
    for (auto [key, out] : {std::pair<const char*, double*>{"median_kernel_s", &kernel.median},
                            {"iqr_kernel_s", &kernel.iqr},
                            {"median_total_s", &total.median},
                            {"iqr_total_s", &total.iqr}}) {
      auto value = reader.number(key, true);
      if (!value) return value.error();
      *out = *value;
    }
    if (Status same =
            checkSummary(*kernelSeconds, kernel, "median_kernel_s", "iqr_kernel_s", nullptr, nullptr);
        !same) {
      return reader.fail(same.error().message());
    }
    if (Status same = checkSummary(*totalSeconds, total, "median_total_s", "iqr_total_s", nullptr, nullptr);
        !same) {
      return reader.fail(same.error().message());
    }
  }

  // Outputs: one per out/inout buffer, as the plan sizes it, its file inside the result's folder.
  std::map<std::size_t, fs::path> files;
  std::set<std::size_t> listed;
  if (reader.has("outputs")) {
    if (!json["outputs"].is_array()) return reader.fail("'outputs' must be an array");
    const auto& outputs = json["outputs"];
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      const auto& output = outputs[k];
      const std::string where = fmt::format("outputs[{}]", k);
      if (!output.is_object()) return reader.fail(fmt::format("'{}' must be an object", where));
      if (!output.contains("arg") || !output["arg"].is_number_unsigned() ||
          output["arg"].get<std::uint64_t>() >= plan.args.size()) {
        return reader.fail(fmt::format("'{}.arg' must be the index of one of the plan's {} arguments", where,
                                       plan.args.size()));
      }
      const auto index = static_cast<std::size_t>(output["arg"].get<std::uint64_t>());
      const runner::ArgSpec& arg = plan.args[index];
      if (arg.kind != runner::ArgKind::kBuffer || arg.role == runner::ArgRole::kIn) {
        return reader.fail(
            fmt::format("'{}.arg' {} is not an out or inout buffer of the plan", where, index));
      }
      if (!listed.insert(index).second)
        return reader.fail(fmt::format("'{}.arg' {} is listed twice", where, index));
      for (const char* key : {"name", "type", "file"}) {
        if (Status valid = reader.string(key, output, where + "."); !valid) return valid.error();
      }
      const std::string_view type = runner::elementTypeInfo(arg.type).name;
      if (output.contains("type") && output["type"].get<std::string>() != type) {
        return reader.fail(fmt::format("'{}.type' is '{}' but argument {} of the plan is {}", where,
                                       output["type"].get<std::string>(), index, type));
      }
      if (!output.contains("elements") || !output["elements"].is_number_unsigned() ||
          output["elements"].get<std::uint64_t>() != arg.elements) {
        return reader.fail(fmt::format("'{}.elements' is {} but argument {} of the plan has {} elements",
                                       where, output.value("elements", nlohmann::json()).dump(), index,
                                       arg.elements));
      }
      if (output.contains("file") && output["file"].is_string()) {
        auto file = pathInsideFolder(resultFile.parent_path(), output["file"].get<std::string>(), resultFile,
                                     where + ".file");
        if (!file) return file.error();
        files[index] = *file;
      } else if (ok && !plan.outputDirectory.empty()) {
        return reader.fail(fmt::format("'{}' has no 'file', though the plan writes its outputs", where));
      }
    }
  }
  if (ok) {
    for (std::size_t i = 0; i < plan.args.size(); ++i) {
      const runner::ArgSpec& arg = plan.args[i];
      if (arg.kind == runner::ArgKind::kBuffer && arg.role != runner::ArgRole::kIn && !listed.count(i))
        return reader.fail(fmt::format("status ok but 'outputs' lacks argument {}", i));
    }
  }

  DeviceRunResult result = deviceResultFromJson(json, device);
  result.outputFiles = std::move(files);
  return result;
}

std::string ingestCountsText(const std::filesystem::path& folder, const IngestCounts& counts) {
  std::string text = fmt::format("{}: {} measurement{} stored, {} already stored; ", folder.string(),
                                 counts.stored, counts.stored == 1 ? "" : "s", counts.alreadyStored);
  if (counts.complete()) {
    return text + fmt::format("all {} plan folder{} in", counts.planFolders,
                              counts.planFolders == 1 ? " is" : "s are");
  }
  std::vector<std::string> waiting;
  if (counts.notYet > 0) {
    waiting.push_back(fmt::format("{} of {} plan folder{} {} no results yet", counts.notYet,
                                  counts.planFolders, counts.planFolders == 1 ? "" : "s",
                                  counts.notYet == 1 ? "has" : "have"));
  }
  if (counts.missingConfigurations > 0) {
    waiting.push_back(fmt::format("{} configuration{} no result yet", counts.missingConfigurations,
                                  counts.missingConfigurations == 1 ? " has" : "s have"));
  }
  return text + fmt::format("{} (ingest again when they do)", fmt::join(waiting, " and "));
}

}  // namespace mirtune
