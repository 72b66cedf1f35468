// Kernel Tuner cache files: reading (finished or still being written), checking every record, appending
// records.
#include "tasks/tune/KernelTunerCache.h"

#include "support/Files.h"

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <set>
#include <unordered_set>

namespace mirtune::tune {

namespace fs = std::filesystem;
using nlohmann::json;
/// Parsed files keep their key order: records are read in file order.
using Document = nlohmann::ordered_json;

namespace {

/// The fields of a record that are not parameters; anything else must be a parameter or a numeric observable.
const std::set<std::string> kRecordFields = {
    "time",           "times",         "compile_time",  "verification_time",
    "benchmark_time", "strategy_time", "framework_time"};

/// A value as Python's str() writes it, which is how Kernel Tuner builds keys.
std::string keyText(const json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "None";
  return value.dump();
}

bool isNonNegativeNumber(const json& value) {
  return value.is_number() && std::isfinite(value.get<double>()) && value.get<double>() >= 0;
}

/// Values compare as Kernel Tuner's do: 1 and 1.0 are the same value.
bool sameValue(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

/// The text of a cache file that Kernel Tuner has not closed yet (records end with "," and the braces of
/// "cache" and of the file are missing), closed after its last complete record; nullopt when it does not look
/// like one.
std::optional<std::string> closedText(std::string text) {
  for (int dropLines = 0; dropLines < 2; ++dropLines) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (!text.empty() && (text.back() == ',' || text.back() == '{')) {
      std::string candidate = text.back() == ',' ? text.substr(0, text.size() - 1) : text;
      candidate += "}\n}\n";
      if (json::accept(candidate)) return candidate;
    }
    // The last record may have been cut while it was written: drop the last line once.
    std::size_t lastLine = text.rfind('\n');
    if (lastLine == std::string::npos) break;
    text.resize(lastLine);
  }
  return std::nullopt;
}

Error badRecord(const fs::path& file, const std::string& key, const std::string& what) {
  return makeError(ErrorCode::kInvalidInput, "{}: record \"{}\": {}", file.string(), key, what);
}

Expected<CacheRecord> readRecord(const KernelTunerCache& cache, const fs::path& file, const std::string& key,
                                 const Document& entry) {
  if (!entry.is_object()) return badRecord(file, key, "not a JSON object");
  CacheRecord record;
  record.configuration = json::object();
  for (const auto& name : cache.parameterNames) {
    auto found = entry.find(name);
    if (found == entry.end()) return badRecord(file, key, fmt::format("no value for parameter \"{}\"", name));
    const auto& values = cache.parameterValues.at(name);
    const json value = json(*found);
    bool known = false;
    for (const auto& allowed : values) known = known || sameValue(allowed, value);
    if (!known) {
      return badRecord(
          file, key, fmt::format("parameter \"{}\" = {} is not among its tune_params", name, found->dump()));
    }
    record.configuration[name] = json(*found);
  }
  for (const auto& [field, value] : entry.items()) {
    if (cache.parameterValues.count(field) != 0 || kRecordFields.count(field) != 0) continue;
    // Kernel Tuner also stores observables and metrics (e.g. "GFLOP/s") as numbers beside the time.
    if (!value.is_number()) {
      return badRecord(file, key, fmt::format("unknown parameter \"{}\" (not in tune_params_keys)", field));
    }
  }
  std::string expected = cache.key(record.configuration);
  if (expected != key) {
    return badRecord(file, key, fmt::format("the key does not match the record's values (\"{}\")", expected));
  }
  auto time = entry.find("time");
  if (time == entry.end()) return badRecord(file, key, "no \"time\"");
  if (time->is_string()) {
    record.failure = time->get<std::string>();
    if (record.failure.empty()) return badRecord(file, key, "\"time\" is an empty string");
  } else if (isNonNegativeNumber(*time)) {
    record.time = time->get<double>();
  } else {
    return badRecord(file, key,
                     fmt::format("\"time\" is {}, neither a number >= 0 nor a failure name", time->dump()));
  }
  if (auto times = entry.find("times"); times != entry.end()) {
    if (!times->is_array()) return badRecord(file, key, "\"times\" is not a list");
    for (const auto& value : *times) {
      if (!isNonNegativeNumber(value))
        return badRecord(file, key, "\"times\" holds a value that is not a number >= 0");
      record.times.push_back(value.get<double>());
    }
  }
  const std::pair<const char*, double*> durations[] = {{"compile_time", &record.compileTime},
                                                       {"benchmark_time", &record.benchmarkTime},
                                                       {"verification_time", &record.verificationTime},
                                                       {"strategy_time", &record.strategyTime},
                                                       {"framework_time", &record.frameworkTime}};
  for (const auto& [field, target] : durations) {
    auto found = entry.find(field);
    if (found == entry.end()) continue;
    if (!found->is_number() || !std::isfinite(found->get<double>())) {
      return badRecord(file, key, fmt::format("\"{}\" is {}, not a number", field, found->dump()));
    }
    *target = found->get<double>();
  }
  return record;
}

Expected<KernelTunerCache> readParsed(const Document& document, const fs::path& file) {
  auto invalid = [&](const std::string& what) {
    return makeError(ErrorCode::kInvalidInput, "{}: {}", file.string(), what);
  };
  if (!document.is_object()) return invalid("not a JSON object");
  KernelTunerCache cache;
  if (auto name = document.find("device_name"); name != document.end() && name->is_string())
    cache.deviceName = name->get<std::string>();
  if (auto name = document.find("kernel_name"); name != document.end() && name->is_string())
    cache.kernelName = name->get<std::string>();
  if (auto size = document.find("problem_size"); size != document.end()) cache.problemSize = json(*size);
  auto keys = document.find("tune_params_keys");
  if (keys == document.end() || !keys->is_array() || keys->empty())
    return invalid("\"tune_params_keys\" must be a non-empty list of parameter names");
  auto params = document.find("tune_params");
  if (params == document.end() || !params->is_object()) return invalid("\"tune_params\" must be an object");
  for (const auto& name : *keys) {
    if (!name.is_string() || name.get<std::string>().empty())
      return invalid(fmt::format("\"tune_params_keys\" holds {}, not a parameter name", name.dump()));
    const std::string text = name.get<std::string>();
    if (cache.parameterValues.count(text) != 0)
      return invalid(fmt::format("parameter \"{}\" appears twice in \"tune_params_keys\"", text));
    auto values = params->find(text);
    if (values == params->end() || !values->is_array() || values->empty())
      return invalid(fmt::format("\"tune_params\" has no list of values for \"{}\"", text));
    cache.parameterNames.push_back(text);
    for (const auto& value : *values) cache.parameterValues[text].push_back(json(value));
  }
  for (const auto& [name, values] : params->items()) {
    if (cache.parameterValues.count(name) == 0)
      return invalid(
          fmt::format("unknown parameter \"{}\" in \"tune_params\" (not in tune_params_keys)", name));
  }
  auto records = document.find("cache");
  if (records == document.end() || !records->is_object()) return invalid("\"cache\" must be an object");
  cache.records.reserve(records->size());
  for (const auto& [key, entry] : records->items()) {
    auto record = readRecord(cache, file, key, entry);
    if (!record) return record.error();
    cache.records.push_back(std::move(*record));
  }
  return cache;
}

json recordJson(const KernelTunerCache& cache, const CacheRecord& record) {
  json entry = json::object();
  for (const auto& name : cache.parameterNames) entry[name] = record.configuration.at(name);
  if (record.time) {
    entry["time"] = *record.time;
  } else {
    entry["time"] = record.failure.empty() ? std::string("RuntimeFailedConfig") : record.failure;
  }
  if (!record.times.empty()) entry["times"] = record.times;
  entry["compile_time"] = record.compileTime;
  entry["verification_time"] = record.verificationTime;
  entry["benchmark_time"] = record.benchmarkTime;
  entry["strategy_time"] = record.strategyTime;
  entry["framework_time"] = record.frameworkTime;
  return entry;
}

}  // namespace

std::string KernelTunerCache::key(const Configuration& configuration) const {
  std::string text;
  for (std::size_t i = 0; i < parameterNames.size(); ++i) {
    if (i > 0) text += ',';
    auto found = configuration.find(parameterNames[i]);
    text += found == configuration.end() ? std::string("None") : keyText(*found);
  }
  return text;
}

SearchSpace KernelTunerCache::validSpace() const {
  SearchSpace space;
  for (const auto& name : parameterNames) {
    TunableParameter parameter;
    parameter.name = name;
    for (const auto& value : parameterValues.at(name)) {
      bool seen = false;
      for (const auto& kept : parameter.values) seen = seen || kept == value;
      if (!seen) parameter.values.push_back(value);
    }
    parameter.defaultValue = parameter.values.front();
    (void)space.addParameter(std::move(parameter));
  }
  auto validKeys = std::make_shared<std::unordered_set<std::string>>();
  for (const auto& record : records) {
    if (record.time) validKeys->insert(key(record.configuration));
  }
  // The constraint keeps a copy of the names, so the space outlives this cache.
  KernelTunerCache keyOnly;
  keyOnly.parameterNames = parameterNames;
  space.addConstraint(Constraint{"the configuration ran correctly in the cache",
                                 [validKeys, keyOnly](const Configuration& configuration) {
                                   return validKeys->count(keyOnly.key(configuration)) != 0;
                                 }});
  return space;
}

Expected<KernelTunerCache> readKernelTunerCache(const fs::path& file) {
  auto text = readFile(file);
  if (!text) return text.error();
  Document document = Document::parse(*text, nullptr, false);
  if (document.is_discarded()) {
    auto closed = closedText(*text);
    if (!closed) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: not JSON, and not an unfinished Kernel Tuner cache file either", file.string());
    }
    document = Document::parse(*closed, nullptr, false);
  }
  return readingJsonFrom(file, [&]() { return readParsed(document, file); });
}

Status writeKernelTunerCache(const KernelTunerCache& cache, const fs::path& file) {
  if (cache.parameterNames.empty())
    return makeError(ErrorCode::kInvalidInput, "{}: a cache needs at least one parameter", file.string());
  for (const auto& name : cache.parameterNames) {
    if (cache.parameterValues.count(name) == 0)
      return makeError(ErrorCode::kInvalidInput, "{}: no values for parameter \"{}\"", file.string(), name);
  }
  // Records already in the file come first and keep their place; new keys are appended in order.
  std::vector<const CacheRecord*> ordered;
  KernelTunerCache existing;
  std::error_code ignored;
  if (fs::exists(file, ignored)) {
    auto read = readKernelTunerCache(file);
    if (!read) return read.error();
    existing = std::move(*read);
    if (existing.parameterNames != cache.parameterNames) {
      return makeError(
          ErrorCode::kInvalidInput,
          "{}: its tune_params_keys ({}) differ from this session's ({}); use another cache file",
          file.string(), fmt::join(existing.parameterNames, ","), fmt::join(cache.parameterNames, ","));
    }
    for (const auto& record : existing.records) ordered.push_back(&record);
  }
  std::unordered_set<std::string> keys;
  for (const auto* record : ordered) keys.insert(existing.key(record->configuration));
  for (const auto& record : cache.records) {
    for (const auto& name : cache.parameterNames) {
      if (!record.configuration.contains(name)) {
        return makeError(ErrorCode::kInvalidInput, "{}: a record has no value for parameter \"{}\"",
                         file.string(), name);
      }
    }
    if (keys.insert(cache.key(record.configuration)).second) ordered.push_back(&record);
  }

  // Kernel Tuner's layout: the header with one value per line, then one record per line.
  json header = json::object();
  header["device_name"] = cache.deviceName;
  header["kernel_name"] = cache.kernelName;
  header["problem_size"] = cache.problemSize;
  header["tune_params_keys"] = cache.parameterNames;
  json params = json::object();
  for (const auto& name : cache.parameterNames) params[name] = cache.parameterValues.at(name);
  header["tune_params"] = params;
  std::string text = "{\n";
  bool first = true;
  for (const char* field :
       {"device_name", "kernel_name", "problem_size", "tune_params_keys", "tune_params"}) {
    if (!first) text += ",\n";
    first = false;
    text += fmt::format("{}: {}", json(field).dump(), header[field].dump(0));
  }
  text += ",\n\"cache\": {";
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    text += i == 0 ? "\n" : ",\n";
    text += fmt::format("{}: {}", json(cache.key(ordered[i]->configuration)).dump(),
                        recordJson(cache, *ordered[i]).dump());
  }
  text += "}\n}\n";
  return writeFileAtomically(file, text);
}

}  // namespace mirtune::tune
