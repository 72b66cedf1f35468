// Process plans and results: parsing with errors that name the offending key, JSON forms, the results file.
#include "tuner/runner/ProcessPlan.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace mirtune::runner {

std::string_view timerModeName(TimerMode mode) {
  switch (mode) {
    case TimerMode::kAuto:
      return "auto";
    case TimerMode::kRegion:
      return "region";
    case TimerMode::kWall:
      return "wall";
  }
  return "?";
}

std::string_view processItemKindName(ProcessItemKind kind) {
  return kind == ProcessItemKind::kBuild ? "build" : "run";
}

std::string_view selfCheckName(SelfCheck check) {
  switch (check) {
    case SelfCheck::kAbsent:
      return "absent";
    case SelfCheck::kOk:
      return "ok";
    case SelfCheck::kFailed:
      return "failed";
  }
  return "?";
}

namespace {

constexpr std::array<TimerMode, 3> kTimerModes = {TimerMode::kAuto, TimerMode::kRegion, TimerMode::kWall};
constexpr std::array<SelfCheck, 3> kSelfChecks = {SelfCheck::kAbsent, SelfCheck::kOk, SelfCheck::kFailed};

template <typename Enum, std::size_t N>
bool enumFromName(const std::array<Enum, N>& values, std::string_view (*nameOf)(Enum), std::string_view text,
                  Enum& out) {
  for (Enum value : values) {
    if (nameOf(value) == text) {
      out = value;
      return true;
    }
  }
  return false;
}

template <typename Enum, std::size_t N>
std::string enumNames(const std::array<Enum, N>& values, std::string_view (*nameOf)(Enum)) {
  std::string names;
  for (Enum value : values) {
    if (!names.empty()) names += ", ";
    names += nameOf(value);
  }
  return names;
}

/// Reads the keys of one JSON object, each error prefixed with where the object is ("runs[3]").
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& json, std::string where, std::string& error)
      : json_(json), where_(std::move(where)), error_(error) {}

  /// False (with the error set) unless the value is an object whose keys are all in `known`.
  bool checkKeys(std::initializer_list<std::string_view> known) {
    if (!json_.is_object()) return fail(where_ + " must be a JSON object");
    for (const auto& item : json_.items()) {
      bool found = false;
      for (std::string_view key : known) found = found || key == item.key();
      if (!found) {
        std::string list;
        for (std::string_view key : known) list += (list.empty() ? "" : ", ") + std::string(key);
        return fail(name(item.key()) + " is not a known key (known: " + list + ")");
      }
    }
    return true;
  }

  bool has(const char* key) const { return json_.contains(key) && !json_[key].is_null(); }

  bool string(const char* key, std::string& out, bool required, bool allowEmpty = true) {
    if (!has(key)) return !required || fail(name(key) + " is required");
    if (!json_[key].is_string()) return fail(name(key) + " must be a string");
    out = json_[key].get<std::string>();
    if (!allowEmpty && out.empty()) return fail(name(key) + " must not be empty");
    return true;
  }

  bool integer(const char* key, int& out, int minimum) {
    if (!has(key)) return true;
    const auto& value = json_[key];
    if (!value.is_number_integer()) return fail(name(key) + " must be an integer");
    const auto number = value.get<std::int64_t>();
    if (number < minimum || number > 1000000000) {
      return fail(name(key) + " must be an integer >= " + std::to_string(minimum) + " (got " +
                  std::to_string(number) + ")");
    }
    out = static_cast<int>(number);
    return true;
  }

  bool number(const char* key, double& out, bool positive) {
    if (!has(key)) return true;
    const auto& value = json_[key];
    if (!value.is_number()) return fail(name(key) + " must be a number of seconds");
    const double number = value.get<double>();
    if (!std::isfinite(number) || number < 0 || (positive && number == 0)) {
      return fail(name(key) + (positive ? " must be > 0" : " must be >= 0"));
    }
    out = number;
    return true;
  }

  bool stringList(const char* key, std::vector<std::string>& out, bool required) {
    if (!has(key)) return !required || fail(name(key) + " is required");
    const auto& value = json_[key];
    if (!value.is_array()) return fail(name(key) + " must be an array of strings");
    out.clear();
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) return fail(name(key) + "[" + std::to_string(i) + "] must be a string");
      out.push_back(value[i].get<std::string>());
    }
    return true;
  }

  bool stringMap(const char* key, std::map<std::string, std::string>& out) {
    if (!has(key)) return true;
    const auto& value = json_[key];
    if (!value.is_object()) return fail(name(key) + " must be an object of strings");
    out.clear();
    for (const auto& item : value.items()) {
      if (item.key().empty() || item.key().find('=') != std::string::npos) {
        return fail(name(key) + ": '" + item.key() + "' is not a valid variable name");
      }
      if (!item.value().is_string()) return fail(name(key) + "." + item.key() + " must be a string");
      out[item.key()] = item.value().get<std::string>();
    }
    return true;
  }

  std::string name(std::string_view key) const {
    return where_.empty() ? "'" + std::string(key) + "'" : where_ + "." + std::string(key);
  }

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

 private:
  const nlohmann::json& json_;
  std::string where_;
  std::string& error_;
};

bool parseCommand(ObjectReader& reader, std::vector<std::string>& argv,
                  std::map<std::string, std::string>& environment, std::vector<std::string>& unsetEnvironment,
                  std::string& workingDirectory) {
  if (!reader.stringList("argv", argv, true)) return false;
  if (argv.empty() || argv[0].empty()) return reader.fail(reader.name("argv") + " needs a program");
  return reader.stringMap("env", environment) && reader.stringList("unset_env", unsetEnvironment, false) &&
         reader.string("cwd", workingDirectory, false);
}

void commandToJson(nlohmann::json& json, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& environment,
                   const std::vector<std::string>& unsetEnvironment, const std::string& workingDirectory) {
  json["argv"] = argv;
  if (!environment.empty()) json["env"] = environment;
  if (!unsetEnvironment.empty()) json["unset_env"] = unsetEnvironment;
  if (!workingDirectory.empty()) json["cwd"] = workingDirectory;
}

}  // namespace

bool parseProcessPlan(const nlohmann::json& json, ProcessPlan& plan, std::string& error) {
  plan = ProcessPlan{};
  ObjectReader top(json, "", error);
  if (!top.checkKeys({"version", "parallel_builds", "builds", "runs"})) {
    if (!json.is_object()) error = "the plan must be a JSON object";
    return false;
  }
  if (!top.has("version") || !json["version"].is_number_integer()) {
    return top.fail("'version' is required and must be " + std::to_string(kProcessPlanVersion));
  }
  if (json["version"].get<std::int64_t>() != kProcessPlanVersion) {
    return top.fail("'version' " + json["version"].dump() + " is not supported (this runner reads version " +
                    std::to_string(kProcessPlanVersion) + ")");
  }
  if (!top.integer("parallel_builds", plan.parallelBuilds, 1)) return false;
  for (const char* key : {"builds", "runs"}) {
    if (top.has(key) && !json[key].is_array()) return top.fail(top.name(key) + " must be an array");
  }

  std::set<std::string> buildIds;
  if (top.has("builds")) {
    for (std::size_t i = 0; i < json["builds"].size(); ++i) {
      ObjectReader reader(json["builds"][i], "builds[" + std::to_string(i) + "]", error);
      ProcessBuild build;
      if (!reader.checkKeys({"id", "argv", "env", "unset_env", "cwd", "timeout_seconds"}) ||
          !reader.string("id", build.id, true, false) ||
          !parseCommand(reader, build.argv, build.environment, build.unsetEnvironment,
                        build.workingDirectory) ||
          !reader.number("timeout_seconds", build.timeoutSeconds, true)) {
        return false;
      }
      if (!buildIds.insert(build.id).second)
        return reader.fail(reader.name("id") + " '" + build.id + "' repeats");
      plan.builds.push_back(std::move(build));
    }
  }

  std::set<std::string> runIds;
  if (top.has("runs")) {
    for (std::size_t i = 0; i < json["runs"].size(); ++i) {
      ObjectReader reader(json["runs"][i], "runs[" + std::to_string(i) + "]", error);
      ProcessRun run;
      std::string timer = "auto";
      if (!reader.checkKeys({"id", "build", "argv", "env", "unset_env", "cwd", "timeout_seconds", "warmup",
                             "min_time_seconds", "min_repetitions", "max_repetitions", "timer"}) ||
          !reader.string("id", run.id, true, false) || !reader.string("build", run.build, false) ||
          !parseCommand(reader, run.argv, run.environment, run.unsetEnvironment, run.workingDirectory) ||
          !reader.number("timeout_seconds", run.timeoutSeconds, true) ||
          !reader.integer("warmup", run.warmup, 0) ||
          !reader.number("min_time_seconds", run.minTimeSeconds, false) ||
          !reader.integer("min_repetitions", run.minRepetitions, 1) ||
          !reader.integer("max_repetitions", run.maxRepetitions, 1) ||
          !reader.string("timer", timer, false)) {
        return false;
      }
      if (!enumFromName(kTimerModes, timerModeName, timer, run.timer)) {
        return reader.fail(reader.name("timer") + " must be one of " + enumNames(kTimerModes, timerModeName) +
                           " (got '" + timer + "')");
      }
      if (run.maxRepetitions < run.minRepetitions) {
        return reader.fail(reader.name("max_repetitions") + " (" + std::to_string(run.maxRepetitions) +
                           ") must be >= min_repetitions (" + std::to_string(run.minRepetitions) + ")");
      }
      if (!run.build.empty() && buildIds.count(run.build) == 0) {
        return reader.fail(reader.name("build") + " '" + run.build + "' is not the id of any build");
      }
      if (!runIds.insert(run.id).second) return reader.fail(reader.name("id") + " '" + run.id + "' repeats");
      plan.runs.push_back(std::move(run));
    }
  }
  if (plan.builds.empty() && plan.runs.empty()) return top.fail("the plan has no 'builds' and no 'runs'");
  return true;
}

nlohmann::json processPlanToJson(const ProcessPlan& plan) {
  nlohmann::json json = {{"version", kProcessPlanVersion},
                         {"parallel_builds", plan.parallelBuilds},
                         {"builds", nlohmann::json::array()},
                         {"runs", nlohmann::json::array()}};
  for (const auto& build : plan.builds) {
    nlohmann::json item = {{"id", build.id}, {"timeout_seconds", build.timeoutSeconds}};
    commandToJson(item, build.argv, build.environment, build.unsetEnvironment, build.workingDirectory);
    json["builds"].push_back(std::move(item));
  }
  for (const auto& run : plan.runs) {
    nlohmann::json item = {{"id", run.id},
                           {"timeout_seconds", run.timeoutSeconds},
                           {"warmup", run.warmup},
                           {"min_time_seconds", run.minTimeSeconds},
                           {"min_repetitions", run.minRepetitions},
                           {"max_repetitions", run.maxRepetitions},
                           {"timer", timerModeName(run.timer)}};
    if (!run.build.empty()) item["build"] = run.build;
    commandToJson(item, run.argv, run.environment, run.unsetEnvironment, run.workingDirectory);
    json["runs"].push_back(std::move(item));
  }
  return json;
}

bool readProcessPlan(const std::string& path, ProcessPlan& plan, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line L, column C: ..."; keep the useful
    // part.
    std::string what = e.what();
    const auto bracket = what.find("] ");
    error = path + ": not valid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2));
    return false;
  }
  if (!parseProcessPlan(json, plan, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

namespace {

nlohmann::json optionalInt(int value, int absent) {
  return value == absent ? nlohmann::json(nullptr) : nlohmann::json(value);
}

}  // namespace

nlohmann::json processResultToJson(const ProcessResult& result) {
  nlohmann::json json = {{"id", result.id},
                         {"kind", processItemKindName(result.kind)},
                         {"status", measureStatusName(result.status)}};
  if (result.kind == ProcessItemKind::kBuild) {
    json["seconds"] = result.seconds;
    json["exit_code"] = optionalInt(result.exitCode, -1);
    json["signal"] = optionalInt(result.signal, 0);
    json["message"] = result.message;
    json["stderr"] = result.standardError;
    return json;
  }
  json["timer"] = result.timer == TimerMode::kAuto ? nlohmann::json(nullptr)
                                                   : nlohmann::json(timerModeName(result.timer));
  json["times"] = result.times;
  json["median"] = result.summary.median;
  json["iqr"] = result.summary.iqr;
  json["min"] = result.summary.min;
  json["max"] = result.summary.max;
  json["repetitions"] = result.repetitions;
  json["warmup"] = result.warmup;
  json["exit_code"] = optionalInt(result.exitCode, -1);
  json["signal"] = optionalInt(result.signal, 0);
  json["self_check"] = selfCheckName(result.selfCheck);
  json["stdout_sha256"] = result.stdoutSha256;
  json["stdout_excerpt"] = result.stdoutExcerpt;
  json["stdout_stable"] = result.stdoutStable;
  json["message"] = result.message;
  json["stderr"] = result.standardError;
  json["wall_seconds"] = result.wallSeconds;
  return json;
}

std::string processResultLine(const ProcessResult& result) {
  // Captured output is arbitrary bytes; replacing invalid UTF-8 keeps every line readable JSON.
  return processResultToJson(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool parseProcessResultLine(const nlohmann::json& json, ProcessResult& result, std::string& error) {
  result = ProcessResult{};
  ObjectReader reader(json, "", error);
  if (!json.is_object()) return reader.fail("a result must be a JSON object");
  std::string kind;
  std::string status;
  if (!reader.string("id", result.id, true, false) || !reader.string("kind", kind, true) ||
      !reader.string("status", status, true)) {
    return false;
  }
  if (kind == "build") {
    result.kind = ProcessItemKind::kBuild;
  } else if (kind != "run") {
    return reader.fail("'kind' must be build or run (got '" + kind + "')");
  }
  if (!enumFromName(kMeasureStatuses, measureStatusName, status, result.status)) {
    return reader.fail("'status' must be one of " + enumNames(kMeasureStatuses, measureStatusName) +
                       " (got '" + status + "')");
  }
  auto readInt = [&](const char* key, int& out) {
    if (!reader.has(key)) return true;
    if (!json[key].is_number_integer()) return reader.fail(reader.name(key) + " must be an integer or null");
    out = json[key].get<int>();
    return true;
  };
  auto readNumber = [&](const char* key, double& out) {
    if (!reader.has(key)) return true;
    if (!json[key].is_number()) return reader.fail(reader.name(key) + " must be a number");
    out = json[key].get<double>();
    return true;
  };
  if (!readInt("exit_code", result.exitCode) || !readInt("signal", result.signal) ||
      !reader.string("message", result.message, false) ||
      !reader.string("stderr", result.standardError, false)) {
    return false;
  }
  if (result.kind == ProcessItemKind::kBuild) return readNumber("seconds", result.seconds);

  std::string timer;
  std::string selfCheck = "absent";
  if (!reader.string("timer", timer, false) || !readNumber("median", result.summary.median) ||
      !readNumber("iqr", result.summary.iqr) || !readNumber("min", result.summary.min) ||
      !readNumber("max", result.summary.max) || !readInt("repetitions", result.repetitions) ||
      !readInt("warmup", result.warmup) || !reader.string("self_check", selfCheck, false) ||
      !reader.string("stdout_sha256", result.stdoutSha256, false) ||
      !reader.string("stdout_excerpt", result.stdoutExcerpt, false) ||
      !readNumber("wall_seconds", result.wallSeconds)) {
    return false;
  }
  if (!timer.empty() && timer != "region" && timer != "wall") {
    return reader.fail("'timer' must be region, wall or null (got '" + timer + "')");
  }
  if (!timer.empty()) enumFromName(kTimerModes, timerModeName, timer, result.timer);
  if (!enumFromName(kSelfChecks, selfCheckName, selfCheck, result.selfCheck)) {
    return reader.fail("'self_check' must be one of " + enumNames(kSelfChecks, selfCheckName) + " (got '" +
                       selfCheck + "')");
  }
  if (reader.has("times")) {
    if (!json["times"].is_array()) return reader.fail("'times' must be an array of numbers");
    for (const auto& time : json["times"]) {
      if (!time.is_number()) return reader.fail("'times' must be an array of numbers");
      result.times.push_back(time.get<double>());
    }
  }
  if (reader.has("stdout_stable")) {
    if (!json["stdout_stable"].is_boolean()) return reader.fail("'stdout_stable' must be true or false");
    result.stdoutStable = json["stdout_stable"].get<bool>();
  }
  return true;
}

bool readProcessResultsFile(const std::string& path, ProcessResultsFile& file, std::string& error) {
  file = ProcessResultsFile{};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::size_t start = 0;
  std::size_t lineNumber = 0;
  while (start < text.size()) {
    ++lineNumber;
    const std::size_t newline = text.find('\n', start);
    const bool last = newline == std::string::npos || newline + 1 == text.size();
    const std::string line =
        text.substr(start, newline == std::string::npos ? std::string::npos : newline - start);
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    ProcessResult result;
    std::string lineError;
    const bool parsed = newline != std::string::npos && !json.is_discarded() &&
                        parseProcessResultLine(json, result, lineError);
    if (!parsed) {
      if (last) {
        file.droppedTail = true;
        return true;
      }
      error = path + ":" + std::to_string(lineNumber) + ": " +
              (json.is_discarded() ? std::string("not a JSON object") : lineError);
      return false;
    }
    file.results.push_back(std::move(result));
    start = newline + 1;
    file.completeBytes = start;
  }
  return true;
}

bool readProcessResults(const std::string& path, std::vector<ProcessResult>& results, std::string& error) {
  ProcessResultsFile file;
  if (!readProcessResultsFile(path, file, error)) return false;
  results = std::move(file.results);
  return true;
}

}  // namespace mirtune::runner
