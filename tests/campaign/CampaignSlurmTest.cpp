// `mirtune campaign` through a real single-node Slurm (tests/slurm/local-cluster.sh: its own munged, slurmctld and
// slurmd under a temporary folder): an exported tuning session as one job array, pinned to one core per task; then
// faults in the middle of a campaign (array tasks cancelled, slurmd killed) and resubmit + ingest ending with every
// measurement stored exactly once. Fails, with the reason, when Slurm cannot start: the README installs it.
#include "common/TemporaryFolder.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace mirtune {
namespace {
namespace fs = std::filesystem;

const fs::path kSourceRoot = MIRTUNE_SOURCE_ROOT;
const fs::path kClusterScript = kSourceRoot / "tests/slurm/local-cluster.sh";

void writeText(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

nlohmann::json parseJson(const std::string& text) { return nlohmann::json::parse(text, nullptr, false); }

class SlurmCampaign : public ::testing::Test {
 protected:
  SlurmCampaign() : folder_("mslurm", "t") {}

  void SetUp() override {
    cluster_ = folder_.path() / "cluster";
    auto started = cluster({"start"}, 120);
    ASSERT_EQ(started.exitCode, 0) << "the local Slurm cluster did not start (the README's install command installs "
                                      "slurm-wlm and munge): "
                                   << started.standardOutput << started.standardError;
    running_ = true;
  }
  void TearDown() override {
    if (running_) {
      auto stopped = cluster({"stop"}, 120);
      EXPECT_EQ(stopped.exitCode, 0) << stopped.standardError;
    }
  }

  SubprocessResult cluster(const std::vector<std::string>& command, double timeout = 60) {
    SubprocessOptions options;
    options.argv = {"bash", kClusterScript.string(), command.front(), cluster_.string()};
    options.argv.insert(options.argv.end(), command.begin() + 1, command.end());
    options.timeoutSeconds = timeout;
    auto result = runSubprocess(options);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
    return result.ok() ? *result : SubprocessResult{};
  }

  // A program (mirtune, scancel, squeue) talking to this cluster.
  SubprocessResult run(std::vector<std::string> argv, double timeout = 180) {
    SubprocessOptions options;
    options.argv = std::move(argv);
    options.environment["SLURM_CONF"] = (cluster_ / "slurm.conf").string();
    options.timeoutSeconds = timeout;
    auto result = runSubprocess(options);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
    return result.ok() ? *result : SubprocessResult{};
  }
  SubprocessResult mirtune(std::vector<std::string> arguments, double timeout = 180) {
    arguments.insert(arguments.begin(), {MIRTUNE_EXECUTABLE, "--db", folder_.db(), "--quiet"});
    return run(std::move(arguments), timeout);
  }

  // The 13 configurations of the shipped matmul_wpt space, exported.
  fs::path exportTuning() {
    const fs::path exported = folder_.path() / "export";
    auto exportRun = mirtune({"tune", specPath(), "--strategy", "exhaustive", "--export", exported.string()});
    EXPECT_EQ(exportRun.exitCode, 0) << exportRun.standardError;
    return exported;
  }
  static std::string specPath() { return (kSourceRoot / "kernels/tune/matmul_wpt.json").string(); }

  // A runner that sleeps for the plan folders listed in the file beside it, then runs the real one.
  fs::path slowRunner() {
    const fs::path script = folder_.path() / "slow-runner.sh";
    writeText(script, fmt::format(R"sh(#!/bin/sh
for arg in "$@"; do
  case "$arg" in */plan*.json)
    item=$(basename "$(dirname "$arg")")
    if [ -f "{0}" ] && grep -qx "$item" "{0}"; then sleep 600; fi
  ;; esac
done
exec {1} "$@"
)sh",
                                  (folder_.path() / "slow.txt").string(), MIRTUNE_RUN_EXECUTABLE));
    fs::permissions(script, fs::perms::owner_all, fs::perm_options::add);
    return script;
  }

  nlohmann::json status(const fs::path& exported) {
    auto result = mirtune({"campaign", "status", exported.string(), "--json"});
    EXPECT_EQ(result.exitCode, 0) << result.standardError;
    return parseJson(result.standardOutput);
  }
  std::map<std::string, nlohmann::json> byFolder(const nlohmann::json& json) {
    std::map<std::string, nlohmann::json> plans;
    for (const auto& plan : json["plans"]) plans[plan["folder"].get<std::string>()] = plan;
    return plans;
  }
  // Polls until every listed folder is running (has started), or fails after a minute.
  bool waitUntilRunning(const fs::path& exported, const std::set<std::string>& folders) {
    for (int attempt = 0; attempt < 120; ++attempt) {
      auto plans = byFolder(status(exported));
      bool all = true;
      for (const std::string& folder : folders) all = all && plans[folder]["state"] == "running";
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }
  std::size_t measurementCount() {
    if (!fs::exists(folder_.db())) return 0;
    auto exported = mirtune({"db", "export", "--table", "measurements", "--format", "json"});
    EXPECT_EQ(exported.exitCode, 0) << exported.standardError;
    return parseJson(exported.standardOutput).size();
  }

  TemporaryFolder folder_;
  fs::path cluster_;
  bool running_ = false;
};

TEST_F(SlurmCampaign, AJobArrayRunsEveryPlanFolderOnItsOwnCore) {
  const fs::path exported = exportTuning();
  auto submit = mirtune({"campaign", "submit", exported.string(), "--cpus-per-plan", "1", "--time-per-plan", "5",
                         "--json"});
  ASSERT_EQ(submit.exitCode, 0) << submit.standardError;
  const auto report = parseJson(submit.standardOutput);
  EXPECT_EQ(report["scheduler"], "slurm");
  EXPECT_EQ(report["tasks"], 13);
  EXPECT_FALSE(report["job"].get<std::string>().empty());

  auto wait = mirtune({"campaign", "wait", exported.string(), "--timeout", "300", "--poll", "1", "--json"});
  ASSERT_EQ(wait.exitCode, 0) << wait.standardOutput << wait.standardError;
  const auto json = parseJson(wait.standardOutput);
  EXPECT_EQ(json["counts"]["done"], 13) << json.dump(1);
  for (const auto& plan : json["plans"]) {
    EXPECT_EQ(plan["node"], "mirtune-node") << plan;
    EXPECT_EQ(plan["task"], report["job"].get<std::string>() + "_" + plan["folder"].get<std::string>()) << plan;
  }
  // Each task saw one core: the machine record it wrote counts the cores it could use.
  const auto machine = parseJson(readFile(exported / "0" / "platform.json").value());
  EXPECT_EQ(machine["cores"], 1) << machine.dump();

  auto ingest = mirtune({"tune", specPath(), "--ingest", exported.string()});
  EXPECT_EQ(ingest.exitCode, 0) << ingest.standardOutput << ingest.standardError;
  EXPECT_EQ(measurementCount(), 13u);
}

TEST_F(SlurmCampaign, AnArrayPastTheClustersMaxArraySizeIsRefusedWithTheGroupingThatFits) {
  const fs::path exported = folder_.path() / "wide";
  for (int i = 0; i < 1002; ++i) writeText(exported / std::to_string(i) / "plan.json", "{}\n");
  auto refused = mirtune({"campaign", "submit", exported.string()});
  EXPECT_EQ(refused.exitCode, 2) << refused.standardError;
  EXPECT_NE(refused.standardError.find("1002 array tasks: more than the cluster's MaxArraySize (1001) allows; give "
                                       "--plans-per-task 2"),
            std::string::npos)
      << refused.standardError;
  EXPECT_FALSE(fs::exists(exported / "campaign" / "campaign.json"));
  auto grouped = mirtune({"campaign", "submit", exported.string(), "--plans-per-task", "2", "--json"});
  ASSERT_EQ(grouped.exitCode, 0) << grouped.standardError;
  const auto report = parseJson(grouped.standardOutput);
  EXPECT_EQ(report["tasks"], 501);
  EXPECT_TRUE(run({"scancel", report["job"].get<std::string>()}).succeeded());
}

TEST_F(SlurmCampaign, CancelledTasksAndAKilledSlurmdEndWithEveryMeasurementOnce) {
  const fs::path exported = exportTuning();
  // Folder 0 holds the default configuration, which every other configuration's outputs are checked against.
  writeText(folder_.path() / "slow.txt", "1\n2\n");
  auto submit = mirtune({"campaign", "submit", exported.string(), "--cpus-per-plan", "1", "--runner",
                         slowRunner().string(), "--json"});
  ASSERT_EQ(submit.exitCode, 0) << submit.standardError;
  const std::string job = parseJson(submit.standardOutput)["job"].get<std::string>();

  // Folders 1 and 2 hang on the two cores; one is cancelled, then slurmd dies under the other.
  ASSERT_TRUE(waitUntilRunning(exported, {"1", "2"})) << status(exported).dump(1);
  auto cancel = run({"scancel", job + "_1"});
  ASSERT_EQ(cancel.exitCode, 0) << cancel.standardError;
  auto killed = cluster({"kill-slurmd"});
  ASSERT_EQ(killed.exitCode, 0) << killed.standardError;
  auto restarted = cluster({"start-slurmd"}, 120);
  ASSERT_EQ(restarted.exitCode, 0) << restarted.standardError;

  // The hung folders never finish; the others run once the node is back.
  writeText(folder_.path() / "slow.txt", "");
  auto settled = mirtune({"campaign", "wait", exported.string(), "--timeout", "300", "--poll", "1", "--json"});
  EXPECT_EQ(settled.exitCode, 1) << settled.standardOutput << settled.standardError;
  auto plans = byFolder(parseJson(settled.standardOutput));
  EXPECT_EQ(plans["0"]["state"], "done") << plans["0"];
  EXPECT_EQ(plans["1"]["state"], "failed") << plans["1"];
  EXPECT_EQ(plans["1"]["reason"], "CANCELLED") << plans["1"];
  EXPECT_EQ(plans["2"]["state"], "failed") << plans["2"];
  // Slurm's word, or the task's own end record when its shell outlived the runner by a moment.
  const std::set<std::string> endings = {"NODE_FAIL", "the runner was killed (signal 9)"};
  EXPECT_TRUE(endings.count(plans["2"]["reason"].get<std::string>())) << plans["2"];

  // What finished is stored now; the rest after resubmit; a third ingest adds nothing.
  auto partial = mirtune({"tune", specPath(), "--ingest", exported.string()});
  EXPECT_EQ(partial.exitCode, 1) << partial.standardOutput << partial.standardError;
  const std::size_t before = measurementCount();
  EXPECT_EQ(before, 13u - std::count_if(plans.begin(), plans.end(), [](const auto& plan) {
                      return plan.second["state"] != "done";
                    }));

  auto resubmit = mirtune({"campaign", "resubmit", exported.string(), "--json"});
  ASSERT_EQ(resubmit.exitCode, 0) << resubmit.standardError;
  EXPECT_EQ(parseJson(resubmit.standardOutput)["plan_folders"], 13 - static_cast<int>(before));
  auto done = mirtune({"campaign", "wait", exported.string(), "--timeout", "300", "--poll", "1", "--json"});
  ASSERT_EQ(done.exitCode, 0) << done.standardOutput << done.standardError;

  auto rest = mirtune({"tune", specPath(), "--ingest", exported.string()});
  EXPECT_EQ(rest.exitCode, 0) << rest.standardOutput << rest.standardError;
  auto again = mirtune({"tune", specPath(), "--ingest", exported.string()});
  EXPECT_EQ(again.exitCode, 0) << again.standardOutput << again.standardError;
  EXPECT_EQ(measurementCount(), 13u);
}

}  // namespace
}  // namespace mirtune
