// `mirtune campaign` with local workers, end to end on this machine's OpenCL device: an exported tuning session's
// plan folders run as array tasks, each beside its node's machine record; a runner error and a task killed midway
// show as failed; resubmit runs only those again and leaves finished folders untouched. Also the plan listing and
// the refusals (not an exported folder, a second submit, bad scheduler options). Skips without an OpenCL device.
#include "common/OpenClDevices.h"
#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"
#include "support/Files.h"
#include "support/Subprocess.h"
#include "tuner/Campaign.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace mirtune {
namespace {
namespace fs = std::filesystem;

const fs::path kSourceRoot = MIRTUNE_SOURCE_ROOT;

void writeText(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

nlohmann::json parseJson(const std::string& text) { return nlohmann::json::parse(text, nullptr, false); }

// A runner that does what the faults file beside it says for a plan folder ("fail 3": exit 2 as a broken runner
// does; "die 5": kill its whole task, as a node that goes away), and otherwise runs the real one.
fs::path writeFaultyRunner(const fs::path& folder) {
  const fs::path script = folder / "faulty-runner.sh";
  writeText(script, fmt::format(R"sh(#!/bin/sh
faults="$(dirname "$0")/faults.txt"
for arg in "$@"; do
  case "$arg" in */plan*.json)
    item=$(basename "$(dirname "$arg")")
    if [ -f "$faults" ]; then
      if grep -qx "fail $item" "$faults"; then echo "faulty runner: failing $item" >&2; exit 2; fi
      if grep -qx "die $item" "$faults"; then kill -9 0; fi
    fi
  ;; esac
done
exec {} "$@"
)sh",
                                MIRTUNE_RUN_EXECUTABLE));
  fs::permissions(script, fs::perms::owner_all, fs::perm_options::add);
  return script;
}

class CampaignCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!hasOpenClDevice()) GTEST_SKIP() << "no OpenCL device (install pocl-opencl-icd)";
  }
  // Exports the 13 configurations of the shipped matmul_wpt space into <folder>/export.
  fs::path exportTuning(const TemporaryFolder& folder) {
    const fs::path exported = folder.path() / "export";
    auto run = runMirtune({"--db", folder.db(), "--quiet", "tune", (kSourceRoot / "kernels/tune/matmul_wpt.json").string(),
                           "--strategy", "exhaustive", "--export", exported.string()});
    EXPECT_EQ(run.exitCode, 0) << run.standardError;
    return exported;
  }
};

TEST_F(CampaignCli, LocalWorkersRunEveryPlanFolderBesideItsMachineRecord) {
  TemporaryFolder folder("mirtune-campaign", "local");
  const fs::path exported = exportTuning(folder);
  auto plans = listCampaignPlans(exported);
  ASSERT_TRUE(plans.ok()) << plans.error().message();
  ASSERT_EQ(plans->size(), 13u);
  EXPECT_EQ(plans->at(2).folder, "2");  // natural order: 2 before 10
  EXPECT_EQ(plans->at(10).folder, "10");
  EXPECT_EQ(plans->front().kind, CampaignPlanKind::kOpenCl);

  auto submit = runMirtune({"campaign", "submit", exported.string(), "--scheduler", "local", "--max-parallel", "2",
                            "--json"});
  ASSERT_EQ(submit.exitCode, 0) << submit.standardError;
  const auto report = parseJson(submit.standardOutput);
  EXPECT_EQ(report["plan_folders"], 13);
  EXPECT_EQ(report["tasks"], 13);
  EXPECT_EQ(report["scheduler"], "local");

  auto status = runMirtune({"campaign", "status", exported.string(), "--json"});
  ASSERT_EQ(status.exitCode, 0) << status.standardError;
  const auto json = parseJson(status.standardOutput);
  EXPECT_EQ(json["counts"]["done"], 13) << status.standardOutput;
  EXPECT_TRUE(json["complete"].get<bool>());
  for (const CampaignPlan& plan : *plans) {
    const fs::path item = exported / plan.folder;
    EXPECT_TRUE(fs::exists(item / "platform.json")) << item;
    EXPECT_TRUE(fs::exists(item / "probe.json")) << item;
    EXPECT_TRUE(fs::exists(item / "devices.txt")) << item;
    EXPECT_TRUE(fs::exists(item / "device-0-0" / "result.json")) << item;
    const auto machine = parseJson(readFile(item / "platform.json").value());
    EXPECT_GE(machine["cores"].get<int>(), 1);
    EXPECT_FALSE(machine.contains("gpus"));  // an OpenCL export's run-all.sh records none either
  }
  // The export folder itself gets no machine record: each plan folder has its own.
  EXPECT_FALSE(fs::exists(exported / "platform.json"));

  // A campaign is submitted once; resubmit has nothing to run again.
  auto again = runMirtune({"campaign", "submit", exported.string(), "--scheduler", "local"});
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_NE(again.standardError.find("already submitted"), std::string::npos) << again.standardError;
  auto nothing = runMirtune({"campaign", "resubmit", exported.string()});
  EXPECT_EQ(nothing.exitCode, 1);
  EXPECT_NE(nothing.standardError.find("nothing to run again (13 done"), std::string::npos) << nothing.standardError;
  auto wait = runMirtune({"campaign", "wait", exported.string(), "--timeout", "5"});
  EXPECT_EQ(wait.exitCode, 0) << wait.standardOutput << wait.standardError;
}

TEST_F(CampaignCli, ResubmitRunsOnlyWhatFailedOrWasKilled) {
  TemporaryFolder folder("mirtune-campaign", "faults");
  const fs::path exported = exportTuning(folder);
  const fs::path runner = writeFaultyRunner(folder.path());
  writeText(folder.path() / "faults.txt", "fail 3\ndie 5\n");
  auto submit = runMirtune({"campaign", "submit", exported.string(), "--scheduler", "local", "--max-parallel", "2",
                            "--runner", runner.string()});
  ASSERT_EQ(submit.exitCode, 0) << submit.standardError;

  auto status = runMirtune({"campaign", "status", exported.string(), "--json"});
  ASSERT_EQ(status.exitCode, 0) << status.standardError;
  auto json = parseJson(status.standardOutput);
  EXPECT_EQ(json["counts"]["done"], 11) << status.standardOutput;
  EXPECT_EQ(json["counts"]["failed"], 2) << status.standardOutput;
  std::map<std::string, nlohmann::json> byFolder;
  for (const auto& plan : json["plans"]) byFolder[plan["folder"].get<std::string>()] = plan;
  EXPECT_EQ(byFolder["3"]["state"], "failed");
  EXPECT_NE(byFolder["3"]["reason"].get<std::string>().find("exit code 2"), std::string::npos) << byFolder["3"];
  EXPECT_EQ(byFolder["5"]["state"], "failed");
  EXPECT_NE(byFolder["5"]["reason"].get<std::string>().find("no end record"), std::string::npos) << byFolder["5"];
  auto text = runMirtune({"campaign", "status", exported.string()});
  EXPECT_NE(text.standardOutput.find("13 plan folders: 11 done, 0 running, 0 pending, 2 failed, 0 not run"),
            std::string::npos)
      << text.standardOutput;
  auto wait = runMirtune({"campaign", "wait", exported.string()});
  EXPECT_EQ(wait.exitCode, 1);  // settled, but not complete

  // What finished stays as it is through the resubmission.
  const std::string doneRecord = readFile(exported / "campaign/state/4.end").value();
  const auto doneResult = fs::last_write_time(exported / "4/device-0-0/result.json");
  fs::remove(folder.path() / "faults.txt");
  auto resubmit = runMirtune({"campaign", "resubmit", exported.string(), "--json"});
  ASSERT_EQ(resubmit.exitCode, 0) << resubmit.standardError;
  const auto round = parseJson(resubmit.standardOutput);
  EXPECT_EQ(round["round"], 2);
  EXPECT_EQ(round["plan_folders"], 2);
  EXPECT_EQ(round["skipped"], 11);
  EXPECT_EQ(readFile(exported / "campaign/state/4.end").value(), doneRecord);
  EXPECT_EQ(fs::last_write_time(exported / "4/device-0-0/result.json"), doneResult);
  EXPECT_TRUE(fs::exists(exported / "3/device-0-0/result.json"));
  EXPECT_TRUE(fs::exists(exported / "5/device-0-0/result.json"));
  json = parseJson(runMirtune({"campaign", "status", exported.string(), "--json"}).standardOutput);
  EXPECT_EQ(json["counts"]["done"], 13) << json.dump();
  EXPECT_EQ(json["rounds"], 2);
}

TEST_F(CampaignCli, ASubmissionSlurmRefusesLeavesNoCampaignBehind) {
  TemporaryFolder folder("mirtune-campaign", "refused");
  const fs::path exported = exportTuning(folder);
  // An sbatch that refuses, as one does when no controller answers.
  writeText(folder.path() / "bin" / "sbatch", "#!/bin/sh\necho 'sbatch: error: Batch job submission failed' >&2\nexit 1\n");
  fs::permissions(folder.path() / "bin" / "sbatch", fs::perms::owner_all, fs::perm_options::add);
  const char* path = std::getenv("PATH");
  auto refused = runProgram({MIRTUNE_EXECUTABLE, "campaign", "submit", exported.string()}, 120,
                            {{"PATH", (folder.path() / "bin").string() + ":" + (path ? path : "/usr/bin:/bin")}});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.standardError.find("sbatch refused the campaign (exit code 1): sbatch: error: Batch job "
                                       "submission failed"),
            std::string::npos)
      << refused.standardError;
  EXPECT_FALSE(fs::exists(exported / "campaign" / "campaign.json"));
  // So it can be given again, here with local workers.
  auto local = runMirtune({"campaign", "submit", exported.string(), "--scheduler", "local", "--max-parallel", "2"});
  EXPECT_EQ(local.exitCode, 0) << local.standardError;
}

TEST(CampaignRefusals, NotAnExportAndBadOptions) {
  TemporaryFolder folder("mirtune-campaign", "refusals");
  auto none = runMirtune({"campaign", "submit", folder.path().string(), "--scheduler", "local"});
  EXPECT_EQ(none.exitCode, 1);
  EXPECT_NE(none.standardError.find("no plan folders"), std::string::npos) << none.standardError;
  auto missing = runMirtune({"campaign", "status", folder.path().string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find("no campaign was submitted"), std::string::npos) << missing.standardError;

  writeText(folder.path() / "bad name" / "plan.json", "{}");
  auto unsafe = runMirtune({"campaign", "submit", folder.path().string(), "--scheduler", "local"});
  EXPECT_EQ(unsafe.exitCode, 1);
  EXPECT_NE(unsafe.standardError.find("'bad name'"), std::string::npos) << unsafe.standardError;
  fs::remove_all(folder.path() / "bad name");
  writeText(folder.path() / "a" / "plan-1.json", "{}");
  for (const std::vector<std::string>& options :
       {std::vector<std::string>{"--scheduler", "local", "--partition", "gpu"},
        std::vector<std::string>{"--scheduler", "slurm", "--time-per-plan", "ten minutes"},
        std::vector<std::string>{"--scheduler", "local", "--max-parallel", "2", "--cpus-per-plan", "100000"},
        std::vector<std::string>{"--scheduler", "local", "--device", "first"}}) {
    std::vector<std::string> arguments = {"campaign", "submit", folder.path().string()};
    arguments.insert(arguments.end(), options.begin(), options.end());
    auto refused = runMirtune(arguments);
    EXPECT_EQ(refused.exitCode, 2) << options[2] << ": " << refused.standardError;
  }
  // Nothing was written for the refused submissions.
  EXPECT_FALSE(fs::exists(folder.path() / "campaign"));
}

}  // namespace
}  // namespace mirtune
