// Campaigns: plan folders of an exported folder run as a job array (Slurm, or local workers), their state from the
// scheduler and the records each array task leaves, and resubmission of what did not finish.
#include "tuner/Campaign.h"

#include "database/Database.h"
#include "support/Files.h"
#include "support/Platform.h"
#include "support/Progress.h"
#include "support/Subprocess.h"
#include "tuner/MeasureCommon.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCampaignFolder = "campaign";
constexpr int kCampaignFormat = 1;

const char* kindName(CampaignPlanKind kind) { return kind == CampaignPlanKind::kOpenCl ? "opencl" : "process"; }

bool safeFolderName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name == kCampaignFolder) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '+';
  });
}

// "2" before "10": runs of digits compare as numbers.
bool naturalLess(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool digitA = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool digitB = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (digitA && digitB) {
      std::size_t endA = i, endB = j;
      while (endA < a.size() && std::isdigit(static_cast<unsigned char>(a[endA]))) ++endA;
      while (endB < b.size() && std::isdigit(static_cast<unsigned char>(b[endB]))) ++endB;
      const std::string numberA = a.substr(i, endA - i), numberB = b.substr(j, endB - j);
      const std::size_t zerosA = numberA.find_first_not_of('0'), zerosB = numberB.find_first_not_of('0');
      const std::string trimmedA = zerosA == std::string::npos ? "" : numberA.substr(zerosA);
      const std::string trimmedB = zerosB == std::string::npos ? "" : numberB.substr(zerosB);
      if (trimmedA.size() != trimmedB.size()) return trimmedA.size() < trimmedB.size();
      if (trimmedA != trimmedB) return trimmedA < trimmedB;
      i = endA;
      j = endB;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// A string as one single-quoted shell word.
std::string shellWord(const std::string& text) {
  std::string word = "'";
  for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return word + "'";
}

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

fs::path campaignFolder(const fs::path& exported) { return exported / kCampaignFolder; }
fs::path stateFile(const fs::path& exported, const std::string& folder, const char* which) {
  return campaignFolder(exported) / "state" / (folder + which);
}

// A Slurm time limit ("M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S") in seconds.
Expected<long long> slurmTimeSeconds(const std::string& text) {
  const Error bad(ErrorCode::kUsage,
                  fmt::format("--time-per-plan '{}': not a Slurm time (M, M:S, H:M:S, D-H, D-H:M or D-H:M:S)", text));
  long long days = 0;
  std::string rest = text;
  const std::size_t dash = text.find('-');
  std::vector<long long> parts;
  auto number = [](const std::string& digits, long long& value) {
    if (digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return false;
    value = std::stoll(digits);
    return true;
  };
  if (dash != std::string::npos) {
    if (!number(text.substr(0, dash), days)) return bad;
    rest = text.substr(dash + 1);
  }
  std::stringstream stream(rest);
  for (std::string part; std::getline(stream, part, ':');) {
    long long value = 0;
    if (!number(part, value)) return bad;
    parts.push_back(value);
  }
  if (parts.empty() || parts.size() > 3) return bad;
  long long seconds = 0;
  if (dash != std::string::npos) {  // D-H[:M[:S]]
    const long long multipliers[] = {3600, 60, 1};
    for (std::size_t i = 0; i < parts.size(); ++i) seconds += parts[i] * multipliers[i];
  } else if (parts.size() == 1) {  // M
    seconds = parts[0] * 60;
  } else if (parts.size() == 2) {  // M:S
    seconds = parts[0] * 60 + parts[1];
  } else {  // H:M:S
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2];
  }
  seconds += days * 86400;
  if (seconds <= 0) return bad;
  return seconds;
}

std::string slurmTimeText(long long seconds) {
  return fmt::format("{}-{:02}:{:02}:{:02}", seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60,
                     seconds % 60);
}

nlohmann::json optionsJson(const CampaignOptions& options) {
  return {{"scheduler", options.scheduler == CampaignScheduler::kSlurm ? "slurm" : "local"},
          {"runner", options.runner.string()},
          {"max_parallel", options.maxParallel},
          {"plans_per_task", options.plansPerTask},
          {"cpus_per_plan", options.cpusPerPlan},
          {"partition", options.partition},
          {"time_per_plan", options.timePerPlan},
          {"constraint", options.constraint},
          {"sbatch_args", options.sbatchArgs},
          {"devices", options.devices}};
}

Expected<CampaignOptions> optionsFromJson(const nlohmann::json& json, const fs::path& file) {
  CampaignOptions options;
  try {
    options.scheduler = json.at("scheduler").get<std::string>() == "slurm" ? CampaignScheduler::kSlurm
                                                                             : CampaignScheduler::kLocal;
    options.runner = json.at("runner").get<std::string>();
    options.maxParallel = json.at("max_parallel").get<int>();
    options.plansPerTask = json.at("plans_per_task").get<int>();
    options.cpusPerPlan = json.at("cpus_per_plan").get<int>();
    options.partition = json.at("partition").get<std::string>();
    options.timePerPlan = json.at("time_per_plan").get<std::string>();
    options.constraint = json.at("constraint").get<std::string>();
    options.sbatchArgs = json.at("sbatch_args").get<std::vector<std::string>>();
    options.devices = json.at("devices").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& error) {
    return makeError(ErrorCode::kInvalidInput, "{}: options: {}", file.string(), error.what());
  }
  return options;
}

Status checkOptions(const CampaignOptions& options) {
  if (options.plansPerTask < 1) return Error(ErrorCode::kUsage, "--plans-per-task must be at least 1");
  if (options.maxParallel < 0) return Error(ErrorCode::kUsage, "--max-parallel must not be negative");
  if (options.cpusPerPlan < 0) return Error(ErrorCode::kUsage, "--cpus-per-plan must not be negative");
  if (!options.timePerPlan.empty()) {
    if (auto seconds = slurmTimeSeconds(options.timePerPlan); !seconds) return seconds.error();
  }
  for (const std::string& device : options.devices) {
    const std::size_t colon = device.find(':');
    const auto digits = [](const std::string& text) {
      return !text.empty() && std::all_of(text.begin(), text.end(),
                                          [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    };
    if (colon == std::string::npos || !digits(device.substr(0, colon)) || !digits(device.substr(colon + 1))) {
      return makeError(ErrorCode::kUsage, "--device '{}': expected P:D, e.g. 0:0", device);
    }
  }
  if (options.scheduler == CampaignScheduler::kLocal) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int workers = std::max(1, options.maxParallel);
    if (options.cpusPerPlan > 0 && workers * options.cpusPerPlan > cores) {
      return makeError(ErrorCode::kUsage,
                       "--max-parallel {} x --cpus-per-plan {} needs {} cores; this machine has {}", workers,
                       options.cpusPerPlan, workers * options.cpusPerPlan, cores);
    }
    if (!options.partition.empty() || !options.timePerPlan.empty() || !options.constraint.empty() ||
        !options.sbatchArgs.empty()) {
      return Error(ErrorCode::kUsage,
                   "--partition, --time-per-plan, --constraint and --sbatch-arg are for --scheduler slurm");
    }
  }
  return {};
}

// The array task: runs its plan folders of a round list one after another, each beside the node's machine record,
// and leaves a start and an end record per folder in campaign/state/.
std::string taskScript(const CampaignOptions& options, bool gpus) {
  std::string devices;
  for (const std::string& device : options.devices) devices += (devices.empty() ? "" : " ") + device;
  std::string script = fmt::format(R"sh(#!/bin/sh
# One array task of a mirtune campaign: runs the plan folders of a round list with the runner alone, each beside
# a record of this node's machine, and records in campaign/state/ when each started and how it ended.
#   sh task.sh ROUND_LIST [INDEX]     (INDEX: $SLURM_ARRAY_TASK_ID in a Slurm array)
set -u
runner={}
per={}
devices_given={}
list=$1
# Slurm runs a copy of this script from its spool folder: the campaign folder is the round list's.
campaign=$(cd "$(dirname "$list")" && pwd)
exported=$(dirname "$campaign")
index=${{2:-${{SLURM_ARRAY_TASK_ID:?task.sh needs an index or SLURM_ARRAY_TASK_ID}}}}
job=${{SLURM_ARRAY_JOB_ID:-local}}
node=${{SLURMD_NODENAME:-$(hostname)}}
if [ -n "${{SLURM_CPUS_PER_TASK:-}}" ]; then POCL_MAX_PTHREAD_COUNT=$SLURM_CPUS_PER_TASK; export POCL_MAX_PTHREAD_COUNT; fi
first=$(( index * per + 1 ))
last=$(( first + per - 1 ))
record_machine() {{
)sh",
                                   shellWord(options.runner.string()), options.plansPerTask, shellWord(devices));
  script += machineRecordScript("\"$1/platform.json\"", gpus);
  script += R"sh(}
sed -n "${first},${last}p" "$list" | {
failures=0
while read -r kind folder; do
  dir="$exported/$folder"
  state="$campaign/state/$folder"
  began=$(date +%s)
  printf '{"node": "%s", "task": "%s_%s", "pid": %s, "started": "%s"}\n' "$node" "$job" "$index" $$ \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$state.start"
  record_machine "$dir"
  worst=0
  missing=0
  case $kind in
  process)
    mkdir -p "$dir/bin"
    "$runner" process --plan "$dir/plan-1.json" --results "$dir/results-1.jsonl" --resume < /dev/null
    worst=$?
    [ -f "$dir/results-1.jsonl" ] || missing=1
    ;;
  opencl)
    if "$runner" probe --json > "$dir/probe.json" < /dev/null; then
      if [ -n "$devices_given" ]; then
        devices=$devices_given
      else
        # probe --json is indented by 2: a platform object opens at 4 spaces, a device object at 8.
        devices=$(awk '/^    \{$/ { p++; d = -1 } /^        \{$/ { d++; printf "%d:%d\n", p - 1, d }' "$dir/probe.json")
      fi
      for plan in "$dir"/plan.json "$dir"/*.plan.json; do
        [ -f "$plan" ] || continue
        name=$(basename "$plan")
        if [ "$name" = plan.json ]; then prefix="$dir/device-"; else prefix="$dir/${name%.plan.json}.device-"; fi
        for device in $devices; do
          out="$prefix$(echo "$device" | tr ':' '-')"
          mkdir -p "$out/outputs"
          (cd "$out" && "$runner" opencl --plan "$plan" --device "$device" --out result.json > /dev/null < /dev/null)
          code=$?
          [ $code -gt $worst ] && worst=$code
          [ -f "$out/result.json" ] || missing=$(( missing + 1 ))
        done
      done
      echo "$devices" > "$dir/devices.txt"
    else
      worst=2
      missing=1
    fi
    ;;
  esac
  if [ $worst -le 1 ] && [ $missing -eq 0 ]; then outcome=done; else outcome=failed; failures=$(( failures + 1 )); fi
  printf '{"state": "%s", "exit": %d, "missing": %d, "node": "%s", "seconds": %d, "ended": "%s"}\n' "$outcome" \
    $worst $missing "$node" $(( $(date +%s) - began )) "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$state.end.part"
  mv "$state.end.part" "$state.end"
done
# The task fails (in the scheduler's accounting too) when one of its plan folders did.
[ $failures -eq 0 ]
}
)sh";
  return script;
}

struct CampaignFile {
  nlohmann::json json;
  std::vector<CampaignPlan> plans;
  CampaignOptions options;
  std::vector<CampaignRound> rounds;
};

nlohmann::json roundJson(const CampaignRound& round) {
  return {{"round", round.number},     {"scheduler", round.scheduler},         {"job", round.jobId},
          {"folders", round.folders}, {"plans_per_task", round.plansPerTask}, {"submitted", round.submitted}};
}

Expected<CampaignFile> readCampaign(const fs::path& exported) {
  const fs::path file = campaignFolder(exported) / "campaign.json";
  auto json = readJsonObject(file);
  if (!json) {
    if (json.error().code() == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kNotFound, "{}: no campaign was submitted from this folder (mirtune campaign submit)",
                       exported.string());
    }
    return json.error();
  }
  CampaignFile campaign;
  campaign.json = *json;
  try {
    if (json->at("format").get<int>() != kCampaignFormat) {
      return makeError(ErrorCode::kVersion, "{}: campaign format {} (this mirtune reads {})", file.string(),
                       json->at("format").dump(), kCampaignFormat);
    }
    for (const auto& plan : json->at("plans")) {
      CampaignPlan entry;
      entry.folder = plan.at("folder").get<std::string>();
      entry.kind = plan.at("kind").get<std::string>() == "opencl" ? CampaignPlanKind::kOpenCl
                                                                   : CampaignPlanKind::kProcess;
      if (!safeFolderName(entry.folder)) {
        return makeError(ErrorCode::kInvalidInput, "{}: plan folder '{}' is not a plain name", file.string(),
                         entry.folder);
      }
      campaign.plans.push_back(std::move(entry));
    }
    for (const auto& round : json->at("rounds")) {
      CampaignRound entry;
      entry.number = round.at("round").get<int>();
      entry.scheduler = round.at("scheduler").get<std::string>();
      entry.jobId = round.at("job").get<std::string>();
      entry.folders = round.at("folders").get<std::vector<std::string>>();
      entry.plansPerTask = std::max(1, round.at("plans_per_task").get<int>());
      entry.submitted = round.at("submitted").get<std::string>();
      campaign.rounds.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& error) {
    return makeError(ErrorCode::kInvalidInput, "{}: {}", file.string(), error.what());
  }
  auto options = optionsFromJson(json->value("options", nlohmann::json::object()), file);
  if (!options) return options.error();
  campaign.options = *options;
  return campaign;
}

Status writeCampaign(const fs::path& exported, CampaignFile& campaign) {
  campaign.json["format"] = kCampaignFormat;
  campaign.json["options"] = optionsJson(campaign.options);
  campaign.json["rounds"] = nlohmann::json::array();
  for (const CampaignRound& round : campaign.rounds) campaign.json["rounds"].push_back(roundJson(round));
  return writeFileAtomically(campaignFolder(exported) / "campaign.json", campaign.json.dump(2) + "\n");
}

// Whether the exported folder's run-all.sh records GPUs (the export of CUDA programs): the campaign's machine
// records then do too, so that a node gets the fingerprint its run-all.sh would give it.
bool exportRecordsGpus(const fs::path& exported) {
  auto script = readFile(exported / "run-all.sh");
  return script && script->find("nvidia-smi") != std::string::npos;
}

// The round list: "<kind> <folder>" per line, read by task.sh.
std::string roundList(const std::vector<std::string>& folders, const std::map<std::string, CampaignPlanKind>& kinds) {
  std::string text;
  for (const std::string& folder : folders) text += fmt::format("{} {}\n", kindName(kinds.at(folder)), folder);
  return text;
}

std::size_t taskCount(std::size_t folders, int perTask) {
  return (folders + static_cast<std::size_t>(perTask) - 1) / static_cast<std::size_t>(perTask);
}

// Runs the round's array tasks here on `workers` threads, each task with its own cores when cpusPerPlan is set.
Expected<double> runLocalRound(const fs::path& exported, const CampaignRound& round, const CampaignOptions& options) {
  const fs::path folder = campaignFolder(exported);
  const std::size_t tasks = taskCount(round.folders.size(), round.plansPerTask);
  const int workers = std::max(1, options.maxParallel);
  const fs::path list = folder / fmt::format("round-{}.txt", round.number);
  std::atomic<std::size_t> next{0};
  std::mutex failureLock;
  std::optional<Error> failure;
  ProgressLine progress(fmt::format("campaign round {}", round.number), tasks);
  const auto started = std::chrono::steady_clock::now();
  auto work = [&](int worker) {
    for (std::size_t index = next++; index < tasks; index = next++) {
      SubprocessOptions run;
      if (options.cpusPerPlan > 0) {
        const int first = worker * options.cpusPerPlan;
        run.argv = {"taskset", "-c", fmt::format("{}-{}", first, first + options.cpusPerPlan - 1)};
        run.environment["POCL_MAX_PTHREAD_COUNT"] = std::to_string(options.cpusPerPlan);
      }
      run.argv.insert(run.argv.end(), {"sh", (folder / "task.sh").string(), list.string(), std::to_string(index)});
      auto result = runSubprocess(run);
      const fs::path log = folder / "logs" / fmt::format("round-{}-local_{}.out", round.number, index);
      if (result) {
        (void)writeFileAtomically(log, result->standardOutput + result->standardError);
      } else {
        std::lock_guard<std::mutex> lock(failureLock);
        if (!failure) failure = result.error();
      }
      progress.advance();
    }
  };
  std::vector<std::thread> threads;
  for (int worker = 0; worker < workers; ++worker) threads.emplace_back(work, worker);
  for (std::thread& thread : threads) thread.join();
  progress.finish();
  if (failure) return failure->withContext("cannot start a campaign task");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

// Submits the round's array to Slurm; returns the array job id.
Expected<std::string> submitSlurmRound(const fs::path& exported, const CampaignRound& round,
                                       const CampaignOptions& options) {
  const fs::path folder = campaignFolder(exported);
  const std::size_t tasks = taskCount(round.folders.size(), round.plansPerTask);
  SubprocessOptions sbatch;
  std::string array = fmt::format("0-{}", tasks - 1);
  if (options.maxParallel > 0) array += fmt::format("%{}", options.maxParallel);
  sbatch.argv = {"sbatch",
                 "--parsable",
                 fmt::format("--job-name=mirtune-campaign-{}", round.number),
                 "--array=" + array,
                 "--output=" + (folder / "logs" / fmt::format("round-{}-%A_%a.out", round.number)).string(),
                 "--chdir=" + folder.string(),
                 "--nodes=1",
                 "--ntasks=1"};
  if (options.cpusPerPlan > 0) {
    sbatch.argv.push_back(fmt::format("--cpus-per-task={}", options.cpusPerPlan));
  } else {
    sbatch.argv.push_back("--exclusive");
  }
  if (!options.partition.empty()) sbatch.argv.push_back("--partition=" + options.partition);
  if (!options.constraint.empty()) sbatch.argv.push_back("--constraint=" + options.constraint);
  if (!options.timePerPlan.empty()) {
    auto seconds = slurmTimeSeconds(options.timePerPlan);
    if (!seconds) return seconds.error();
    sbatch.argv.push_back("--time=" + slurmTimeText(*seconds * round.plansPerTask));
  }
  sbatch.argv.insert(sbatch.argv.end(), options.sbatchArgs.begin(), options.sbatchArgs.end());
  sbatch.argv.push_back((folder / "task.sh").string());
  sbatch.argv.push_back((folder / fmt::format("round-{}.txt", round.number)).string());
  sbatch.timeoutSeconds = 120;
  auto result = runSubprocess(sbatch);
  if (!result) return result.error().withContext("cannot run sbatch (is Slurm installed on this machine?)");
  if (!result->succeeded()) {
    return makeError(ErrorCode::kIo, "sbatch refused the campaign ({}): {}", result->describe(),
                     result->standardError.empty() ? result->standardOutput : result->standardError);
  }
  // --parsable prints "jobid" or "jobid;cluster".
  std::string id = result->standardOutput.substr(0, result->standardOutput.find_first_of(";\n"));
  if (id.empty() || !std::all_of(id.begin(), id.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return makeError(ErrorCode::kIo, "sbatch printed no job id: '{}'", result->standardOutput);
  }
  return id;
}

std::map<std::string, std::string> slurmConfig(const std::set<std::string>& keys);

Expected<CampaignSubmitReport> submitRound(const fs::path& exported, CampaignFile& campaign,
                                           std::vector<std::string> folders, const CampaignOptions& options) {
  std::map<std::string, CampaignPlanKind> kinds;
  for (const CampaignPlan& plan : campaign.plans) kinds[plan.folder] = plan.kind;
  CampaignRound round;
  round.number = static_cast<int>(campaign.rounds.size()) + 1;
  round.scheduler = options.scheduler == CampaignScheduler::kSlurm ? "slurm" : "local";
  round.folders = std::move(folders);
  round.plansPerTask = options.plansPerTask;
  round.submitted = utcTimestampNow();
  const fs::path folder = campaignFolder(exported);
  const std::size_t tasks = taskCount(round.folders.size(), round.plansPerTask);
  if (options.scheduler == CampaignScheduler::kSlurm && tasks > 1000) {
    // Past Slurm's default MaxArraySize (1001: indices up to 1000) the cluster's own limit decides.
    std::size_t limit = 1001;
    const auto config = slurmConfig({"MaxArraySize"});
    if (const auto found = config.find("MaxArraySize"); found != config.end()) {
      const std::string& value = found->second;
      if (!value.empty() && value.size() < 10 &&
          std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        limit = std::max<std::size_t>(1, std::stoul(value));
      }
    }
    if (tasks > limit) {
      return makeError(ErrorCode::kUsage,
                       "{} array tasks: more than the cluster's MaxArraySize ({}) allows; give --plans-per-task {}",
                       tasks, limit, (round.folders.size() + limit - 1) / limit);
    }
  }
  if (Status written = writeFileAtomically(folder / "task.sh", taskScript(options, exportRecordsGpus(exported)));
      !written) {
    return written.error();
  }
  if (Status written =
          writeFileAtomically(folder / fmt::format("round-{}.txt", round.number), roundList(round.folders, kinds));
      !written) {
    return written.error();
  }
  // The round is recorded before it starts, so that status knows its folders even when submission stops midway.
  campaign.options = options;
  campaign.rounds.push_back(round);
  if (Status written = writeCampaign(exported, campaign); !written) return written.error();
  CampaignSubmitReport report;
  report.folder = exported;
  report.tasks = tasks;
  if (options.scheduler == CampaignScheduler::kSlurm) {
    auto job = submitSlurmRound(exported, round, options);
    if (!job) {
      campaign.rounds.pop_back();
      if (campaign.rounds.empty()) {
        // Nothing was submitted: the campaign file goes, so that submit can be given again.
        std::error_code ignored;
        fs::remove(folder / "campaign.json", ignored);
      } else {
        (void)writeCampaign(exported, campaign);
      }
      return job.error();
    }
    campaign.rounds.back().jobId = *job;
    if (Status written = writeCampaign(exported, campaign); !written) return written.error();
  } else {
    auto wall = runLocalRound(exported, campaign.rounds.back(), options);
    if (!wall) return wall.error();
    report.wallSeconds = *wall;
  }
  report.round = campaign.rounds.back();
  return report;
}

// The state of a Slurm array's tasks still in the queue ("index" -> "PENDING", "RUNNING", ...).
Expected<std::map<std::string, std::string>> slurmQueue(const std::string& jobId) {
  SubprocessOptions squeue;
  squeue.argv = {"squeue", "-h", "-r", "-j", jobId, "-o", "%K|%T"};
  squeue.timeoutSeconds = 60;
  auto result = runSubprocess(squeue);
  if (!result) return result.error().withContext("cannot run squeue");
  std::map<std::string, std::string> states;
  if (!result->succeeded()) {
    // A job that left the controller's memory is "Invalid job id"; anything else means Slurm cannot be asked.
    if (result->standardError.find("Invalid job id") != std::string::npos) return states;
    return makeError(ErrorCode::kIo, "squeue failed ({}): {}", result->describe(), result->standardError);
  }
  std::stringstream lines(result->standardOutput);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    states[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return states;
}

// "KEY = VALUE" lines of `scontrol show config`, for the keys asked.
std::map<std::string, std::string> slurmConfig(const std::set<std::string>& keys) {
  std::map<std::string, std::string> values;
  SubprocessOptions scontrol;
  scontrol.argv = {"scontrol", "show", "config"};
  scontrol.timeoutSeconds = 60;
  auto result = runSubprocess(scontrol);
  if (!result || !result->succeeded()) return values;
  std::stringstream lines(result->standardOutput);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t equals = line.find(" = ");
    if (equals == std::string::npos) continue;
    std::string key = line.substr(0, equals);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    if (keys.count(key)) values[key] = line.substr(equals + 3);
  }
  return values;
}

// How the array's ended tasks ended ("index" -> "TIMEOUT", "NODE_FAIL"...): from Slurm's accounting (sacct), or,
// on a cluster that keeps none but writes job completions to a text file (JobCompType=jobcomp/filetxt), from that
// file; empty when neither answers.
std::map<std::string, std::string> slurmEndings(const std::string& jobId) {
  std::map<std::string, std::string> states;
  SubprocessOptions sacct;
  sacct.argv = {"sacct", "-n", "-P", "-X", "-j", jobId, "-o", "JobID,State,ExitCode"};
  sacct.timeoutSeconds = 60;
  auto result = runSubprocess(sacct);
  if (result && result->succeeded()) {
    std::stringstream lines(result->standardOutput);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> fields;
      std::stringstream parts(line);
      for (std::string field; std::getline(parts, field, '|');) fields.push_back(field);
      if (fields.size() < 2) continue;
      const std::size_t underscore = fields[0].find('_');
      if (underscore == std::string::npos) continue;
      std::string state = fields[1].substr(0, fields[1].find(' '));  // "CANCELLED by 0"
      if (fields.size() >= 3 && state == "FAILED") state += " (exit " + fields[2] + ")";
      states[fields[0].substr(underscore + 1)] = state;
    }
    return states;
  }
  const auto config = slurmConfig({"JobCompType", "JobCompLoc"});
  const auto type = config.find("JobCompType");
  const auto location = config.find("JobCompLoc");
  if (type == config.end() || type->second != "jobcomp/filetxt" || location == config.end()) return states;
  std::ifstream file(location->second);
  // One line per ended job: "JobId=.. JobState=TIMEOUT ... ArrayJobId=A ArrayTaskId=T ... ExitCode=3:0".
  const auto field = [](const std::string& line, const std::string& key) {
    const std::size_t at = line.find(" " + key + "=");
    if (at == std::string::npos) return std::string();
    const std::size_t begin = at + key.size() + 2;
    return line.substr(begin, line.find(' ', begin) - begin);
  };
  for (std::string line; std::getline(file, line);) {
    if (field(line, "ArrayJobId") != jobId) continue;
    std::string state = field(line, "JobState");
    if (state == "FAILED") state += " (exit " + field(line, "ExitCode") + ")";
    states[field(line, "ArrayTaskId")] = state;
  }
  return states;
}

bool processAlive(const nlohmann::json& start) {
  const long long pid = start.value("pid", 0LL);
  return pid > 0 && start.value("node", std::string()) == hostName() && ::kill(static_cast<pid_t>(pid), 0) == 0;
}

}  // namespace

const char* campaignPlanStateName(CampaignPlanState state) {
  switch (state) {
    case CampaignPlanState::kDone: return "done";
    case CampaignPlanState::kRunning: return "running";
    case CampaignPlanState::kPending: return "pending";
    case CampaignPlanState::kFailed: return "failed";
    case CampaignPlanState::kNotRun: return "not_run";
  }
  return "not_run";
}

std::size_t CampaignStatus::count(CampaignPlanState state) const {
  return static_cast<std::size_t>(
      std::count_if(plans.begin(), plans.end(), [state](const CampaignPlanStatus& plan) { return plan.state == state; }));
}

bool CampaignStatus::settled() const {
  return count(CampaignPlanState::kRunning) == 0 && count(CampaignPlanState::kPending) == 0;
}

bool CampaignStatus::complete() const { return count(CampaignPlanState::kDone) == plans.size(); }

Expected<std::vector<CampaignPlan>> listCampaignPlans(const fs::path& exported) {
  std::error_code error;
  if (!fs::is_directory(exported, error)) {
    return makeError(ErrorCode::kNotFound, "{}: no such folder", exported.string());
  }
  std::vector<CampaignPlan> plans;
  for (const auto& entry : fs::directory_iterator(exported, error)) {
    if (!entry.is_directory() || entry.is_symlink()) continue;
    const std::string name = entry.path().filename().string();
    if (name == kCampaignFolder) continue;
    std::optional<CampaignPlanKind> kind;
    if (fs::is_regular_file(entry.path() / "plan-1.json")) kind = CampaignPlanKind::kProcess;
    if (fs::is_regular_file(entry.path() / "plan.json")) kind = CampaignPlanKind::kOpenCl;
    if (!kind) {
      for (const auto& file : fs::directory_iterator(entry.path(), error)) {
        const std::string fileName = file.path().filename().string();
        if (fileName.size() > 10 && fileName.compare(fileName.size() - 10, 10, ".plan.json") == 0) {
          kind = CampaignPlanKind::kOpenCl;
          break;
        }
      }
    }
    if (!kind) continue;
    if (!safeFolderName(name)) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: plan folder '{}' has characters a campaign cannot pass to a shell safely",
                       exported.string(), name);
    }
    plans.push_back({name, *kind});
  }
  if (error) return makeError(ErrorCode::kIo, "{}: {}", exported.string(), error.message());
  if (plans.empty()) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: no plan folders (an exported folder holds <folder>/plan-1.json, plan.json or *.plan.json; "
                     "write one with --export)",
                     exported.string());
  }
  std::sort(plans.begin(), plans.end(),
            [](const CampaignPlan& a, const CampaignPlan& b) { return naturalLess(a.folder, b.folder); });
  return plans;
}

Expected<CampaignSubmitReport> submitCampaign(const fs::path& given, const CampaignOptions& requested) {
  if (Status checked = checkOptions(requested); !checked) return checked.error();
  std::error_code error;
  const fs::path exported = fs::absolute(given, error).lexically_normal();
  auto plans = listCampaignPlans(exported);
  if (!plans) return plans.error();
  const fs::path folder = campaignFolder(exported);
  if (fs::exists(folder / "campaign.json", error)) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: a campaign was already submitted from this folder; see `mirtune campaign status`, and "
                     "`mirtune campaign resubmit` runs what failed",
                     exported.string());
  }
  if (fs::is_symlink(folder, error) || (fs::exists(folder, error) && !fs::is_directory(folder, error))) {
    return makeError(ErrorCode::kInvalidInput, "{}: not a folder mirtune can write its campaign into", folder.string());
  }
  for (const char* sub : {"", "state", "logs"}) {
    fs::create_directories(folder / sub, error);
    if (error) return makeError(ErrorCode::kIo, "{}: {}", (folder / sub).string(), error.message());
  }
  CampaignOptions options = requested;
  if (options.runner.empty()) options.runner = runnerExecutablePath();
  options.runner = fs::absolute(options.runner, error);
  CampaignFile campaign;
  campaign.json = {{"format", kCampaignFormat}, {"plans", nlohmann::json::array()}};
  for (const CampaignPlan& plan : *plans) {
    campaign.json["plans"].push_back({{"folder", plan.folder}, {"kind", kindName(plan.kind)}});
  }
  campaign.plans = *plans;
  std::vector<std::string> folders;
  for (const CampaignPlan& plan : *plans) folders.push_back(plan.folder);
  return submitRound(exported, campaign, std::move(folders), options);
}

Expected<CampaignStatus> campaignStatus(const fs::path& given) {
  std::error_code error;
  const fs::path exported = fs::absolute(given, error).lexically_normal();
  auto campaign = readCampaign(exported);
  if (!campaign) return campaign.error();
  CampaignStatus status;
  status.folder = exported;
  status.rounds = static_cast<int>(campaign->rounds.size());
  status.scheduler = campaign->rounds.empty() ? "" : campaign->rounds.back().scheduler;
  // The latest round of each folder, and its task index there.
  std::map<std::string, std::pair<const CampaignRound*, std::size_t>> latest;
  for (const CampaignRound& round : campaign->rounds) {
    for (std::size_t i = 0; i < round.folders.size(); ++i) {
      latest[round.folders[i]] = {&round, i / static_cast<std::size_t>(round.plansPerTask)};
    }
  }
  std::map<std::string, std::map<std::string, std::string>> queues, accounting;
  for (const CampaignPlan& plan : campaign->plans) {
    CampaignPlanStatus entry;
    entry.folder = plan.folder;
    const auto found = latest.find(plan.folder);
    if (found == latest.end()) {
      status.plans.push_back(std::move(entry));
      continue;
    }
    const CampaignRound& round = *found->second.first;
    const std::string index = std::to_string(found->second.second);
    entry.round = round.number;
    entry.task = round.jobId.empty() ? index : round.jobId + "_" + index;
    auto start = readJsonObject(stateFile(exported, plan.folder, ".start"));
    auto end = readJsonObject(stateFile(exported, plan.folder, ".end"));
    if (start) entry.node = start->value("node", std::string());
    if (end) {
      entry.node = end->value("node", entry.node);
      entry.seconds = end->value("seconds", 0.0);
      if (end->value("state", std::string()) == "done") {
        entry.state = CampaignPlanState::kDone;
      } else {
        entry.state = CampaignPlanState::kFailed;
        const int exit = end->value("exit", 0);
        const int missing = end->value("missing", 0);
        entry.reason = exit > 128  ? fmt::format("the runner was killed (signal {})", exit - 128)
                       : exit > 1  ? fmt::format("the runner ended with exit code {}", exit)
                                   : fmt::format("{} result(s) missing", missing);
      }
      status.plans.push_back(std::move(entry));
      continue;
    }
    if (round.scheduler == "slurm") {
      if (!queues.count(round.jobId)) {
        auto queue = slurmQueue(round.jobId);
        if (!queue) return queue.error();
        queues[round.jobId] = *queue;
      }
      const auto& queue = queues[round.jobId];
      const auto queued = queue.find(index);
      if (queued != queue.end()) {
        entry.state = queued->second == "PENDING" ? CampaignPlanState::kPending : CampaignPlanState::kRunning;
        // A task running its first folders has not reached this one yet.
        if (entry.state == CampaignPlanState::kRunning && !start) entry.state = CampaignPlanState::kPending;
        if (queued->second != "PENDING" && queued->second != "RUNNING") entry.reason = queued->second;
      } else {
        if (!accounting.count(round.jobId)) accounting[round.jobId] = slurmEndings(round.jobId);
        const auto& ended = accounting[round.jobId];
        const auto how = ended.find(index);
        entry.state = CampaignPlanState::kFailed;
        if (how != ended.end()) {
          entry.reason = how->second;
        } else if (start) {
          entry.reason = "its task ended without an end record (killed, time limit or node failure; the "
                         "cluster keeps no accounting to say which)";
        } else {
          entry.reason = "its task ended before reaching it";
        }
      }
    } else if (start && processAlive(*start)) {
      entry.state = CampaignPlanState::kRunning;
    } else if (start) {
      entry.state = CampaignPlanState::kFailed;
      entry.reason = "stopped before it finished (no end record)";
    } else {
      entry.state = CampaignPlanState::kNotRun;
    }
    status.plans.push_back(std::move(entry));
  }
  return status;
}

Expected<CampaignStatus> waitForCampaign(const fs::path& exported, double timeoutSeconds, double pollSeconds) {
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    auto status = campaignStatus(exported);
    if (!status) return status.error();
    if (status->settled()) return status;
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (timeoutSeconds > 0 && waited >= timeoutSeconds) {
      return makeError(ErrorCode::kTimeout, "{}: not settled after {:.0f} s: {}", exported.string(), waited,
                       campaignStatusText(*status, false));
    }
    const double sleep = timeoutSeconds > 0 ? std::min(pollSeconds, timeoutSeconds - waited) : pollSeconds;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.05, sleep)));
  }
}

Expected<CampaignSubmitReport> resubmitCampaign(const fs::path& given, const std::optional<CampaignOptions>& changes) {
  std::error_code error;
  const fs::path exported = fs::absolute(given, error).lexically_normal();
  auto campaign = readCampaign(exported);
  if (!campaign) return campaign.error();
  CampaignOptions options = changes ? *changes : campaign->options;
  if (options.runner.empty()) options.runner = campaign->options.runner;
  if (Status checked = checkOptions(options); !checked) return checked.error();
  auto status = campaignStatus(exported);
  if (!status) return status.error();
  std::vector<std::string> again;
  for (const CampaignPlanStatus& plan : status->plans) {
    if (plan.state == CampaignPlanState::kFailed || plan.state == CampaignPlanState::kNotRun) {
      again.push_back(plan.folder);
    }
  }
  if (again.empty()) {
    return makeError(ErrorCode::kInvalidInput, "{}: nothing to run again ({} done, {} pending or running)",
                     exported.string(), status->count(CampaignPlanState::kDone),
                     status->count(CampaignPlanState::kPending) + status->count(CampaignPlanState::kRunning));
  }
  // Records of the folders run again are the campaign's own files: replaced, never the results beside them.
  for (const std::string& folder : again) {
    for (const char* which : {".start", ".end", ".end.part"}) fs::remove(stateFile(exported, folder, which), error);
  }
  const std::size_t skipped = status->plans.size() - again.size();
  auto report = submitRound(exported, *campaign, std::move(again), options);
  if (!report) return report.error();
  report->skipped = skipped;
  return report;
}

Expected<CampaignOptions> submittedCampaignOptions(const fs::path& exported) {
  auto campaign = readCampaign(fs::absolute(exported).lexically_normal());
  if (!campaign) return campaign.error();
  return campaign->options;
}

std::string campaignSubmitText(const CampaignSubmitReport& report) {
  const CampaignRound& round = report.round;
  std::string text;
  if (round.scheduler == "slurm") {
    text = fmt::format("{}: round {}: {} plan folders as Slurm array job {} ({} tasks)", report.folder.string(),
                       round.number, round.folders.size(), round.jobId, report.tasks);
  } else {
    text = fmt::format("{}: round {}: {} plan folders run here in {:.1f} s ({} tasks)", report.folder.string(),
                       round.number, round.folders.size(), report.wallSeconds, report.tasks);
  }
  if (report.skipped > 0) text += fmt::format("; {} left alone", report.skipped);
  return text + "\n";
}

std::string campaignStatusText(const CampaignStatus& status, bool everyPlan) {
  std::string text = fmt::format(
      "{}: {} plan folders: {} done, {} running, {} pending, {} failed, {} not run ({} round{}, {})\n",
      status.folder.string(), status.plans.size(), status.count(CampaignPlanState::kDone),
      status.count(CampaignPlanState::kRunning), status.count(CampaignPlanState::kPending),
      status.count(CampaignPlanState::kFailed), status.count(CampaignPlanState::kNotRun), status.rounds,
      status.rounds == 1 ? "" : "s", status.scheduler.empty() ? "-" : status.scheduler);
  for (const CampaignPlanStatus& plan : status.plans) {
    if (!everyPlan && plan.state == CampaignPlanState::kDone) continue;
    text += fmt::format("  {}  {}", plan.folder, campaignPlanStateName(plan.state));
    if (!plan.task.empty()) text += fmt::format("  task {}", plan.task);
    if (!plan.node.empty()) text += fmt::format("  on {}", plan.node);
    if (plan.seconds) text += fmt::format("  {:.0f} s", *plan.seconds);
    if (!plan.reason.empty()) text += fmt::format("  ({})", plan.reason);
    text += "\n";
  }
  return text;
}

nlohmann::json campaignStatusJson(const CampaignStatus& status) {
  nlohmann::json counts = nlohmann::json::object();
  for (CampaignPlanState state : {CampaignPlanState::kDone, CampaignPlanState::kRunning, CampaignPlanState::kPending,
                                  CampaignPlanState::kFailed, CampaignPlanState::kNotRun}) {
    counts[campaignPlanStateName(state)] = status.count(state);
  }
  nlohmann::json plans = nlohmann::json::array();
  for (const CampaignPlanStatus& plan : status.plans) {
    nlohmann::json entry = {{"folder", plan.folder}, {"state", campaignPlanStateName(plan.state)},
                            {"round", plan.round},   {"task", plan.task},
                            {"node", plan.node},     {"reason", plan.reason}};
    entry["seconds"] = plan.seconds ? nlohmann::json(*plan.seconds) : nlohmann::json();
    plans.push_back(std::move(entry));
  }
  return {{"folder", status.folder.string()}, {"scheduler", status.scheduler}, {"rounds", status.rounds},
          {"settled", status.settled()},      {"complete", status.complete()}, {"counts", counts},
          {"plans", plans}};
}

nlohmann::json campaignSubmitJson(const CampaignSubmitReport& report) {
  return {{"folder", report.folder.string()},
          {"round", report.round.number},
          {"scheduler", report.round.scheduler},
          {"job", report.round.jobId},
          {"plan_folders", report.round.folders.size()},
          {"tasks", report.tasks},
          {"skipped", report.skipped},
          {"wall_seconds", report.wallSeconds}};
}

}  // namespace mirtune
