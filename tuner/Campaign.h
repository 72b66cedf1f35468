// Campaigns: the plan folders of an exported folder measured as one job array of a scheduler (Slurm, or worker
// processes on this machine), their state read back from the scheduler and the folders, and the plan folders that
// failed, were killed or never ran submitted again without touching finished ones.
//
// Everything a campaign writes lives in <exported>/campaign/: campaign.json (plans, options, rounds), task.sh (the
// array task), round-N.txt (the plan folders of submission N), state/ (a start and an end record per plan folder
// run) and logs/. Each plan folder run also gets the node's machine record (platform.json; for OpenCL plans
// probe.json and devices.txt) beside its results, so results of different node types are stored as different
// platforms when the folder is ingested.
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// How the plans of one plan folder are carried out.
enum class CampaignPlanKind {
  kProcess,  ///< plan-1.json: `mirtune-run process --resume` into results-1.jsonl
  kOpenCl,   ///< plan.json or f*.plan.json: `mirtune-run opencl` on each device into device-P-D/ (<stem>.device-P-D/)
};

/// One plan folder of an exported folder: what an array task runs.
struct CampaignPlan {
  std::string folder;  ///< relative to the exported folder (one level: "3", "gemm-large")
  CampaignPlanKind kind = CampaignPlanKind::kProcess;
};

/// The plan folders of an exported folder, in natural order ("2" before "10"), recognised by their plan files.
/// kInvalidInput naming the folder when it holds none (not an exported folder), or when a plan folder's name could
/// not be used safely in a shell word or a file name (only letters, digits, '.', '_', '-', '+' are).
Expected<std::vector<CampaignPlan>> listCampaignPlans(const std::filesystem::path& exported);

enum class CampaignScheduler { kLocal, kSlurm };

/// How a campaign is submitted.
struct CampaignOptions {
  CampaignScheduler scheduler = CampaignScheduler::kSlurm;
  std::filesystem::path runner;          ///< mirtune-run as the nodes reach it; empty: the one beside mirtune
  int maxParallel = 0;                   ///< most array tasks at once; 0: Slurm's choice, 1 worker for local
  int plansPerTask = 1;                  ///< plan folders one array task runs, one after another
  int cpusPerPlan = 0;                   ///< cores of one array task; 0: the whole node (sbatch --exclusive)
  std::string partition;                 ///< sbatch --partition
  std::string timePerPlan;               ///< Slurm time limit of one plan folder ("30", "1:30:00", "2-0"); the task
                                         ///< gets plansPerTask times it
  std::string constraint;                ///< sbatch --constraint (node features: one node type per campaign)
  std::vector<std::string> sbatchArgs;   ///< further sbatch arguments, passed as given (e.g. --gres=gpu:1)
  std::vector<std::string> devices;      ///< OpenCL devices "P:D" to run on; empty: every device of the node
};

/// One submission of plan folders to a scheduler.
struct CampaignRound {
  int number = 0;                    ///< 1 for submit, then one more per resubmit
  std::string scheduler;             ///< "slurm" or "local"
  std::string jobId;                 ///< Slurm's array job id; empty for local
  std::vector<std::string> folders;  ///< the plan folders of this round, in task order
  int plansPerTask = 1;
  std::string submitted;             ///< UTC timestamp
};

/// What submit or resubmit did.
struct CampaignSubmitReport {
  std::filesystem::path folder;  ///< the exported folder
  CampaignRound round;
  std::size_t tasks = 0;         ///< array tasks of the round
  std::size_t skipped = 0;       ///< resubmit: plan folders left alone (done, or still pending or running)
  double wallSeconds = 0;        ///< local: how long the round took
};

enum class CampaignPlanState {
  kDone,     ///< every plan of the folder ran and left its result (a failed kernel is a result too)
  kRunning,  ///< its array task runs now
  kPending,  ///< its array task waits in the queue
  kFailed,   ///< its task ended without the folder's results: runner error, killed, time limit, node failure
  kNotRun,   ///< never submitted, or its round was stopped before it started
};

/// "done", "running", "pending", "failed", "not_run".
const char* campaignPlanStateName(CampaignPlanState state);

/// The state of one plan folder, from the latest round that holds it.
struct CampaignPlanStatus {
  std::string folder;
  CampaignPlanState state = CampaignPlanState::kNotRun;
  int round = 0;       ///< 0: never submitted
  std::string task;    ///< Slurm "JOB_INDEX"; local: the task index
  std::string node;    ///< where it ran or runs
  std::string reason;  ///< why it failed: the scheduler's state (TIMEOUT, NODE_FAIL, CANCELLED...) or the runner's exit
  std::optional<double> seconds;  ///< how long the folder ran, when it ended
};

struct CampaignStatus {
  std::filesystem::path folder;
  std::vector<CampaignPlanStatus> plans;
  int rounds = 0;
  std::string scheduler;  ///< of the latest round
  std::size_t count(CampaignPlanState state) const;
  /// Nothing pending or running.
  bool settled() const;
  /// Every plan folder done.
  bool complete() const;
};

/// Writes campaign/ (refused when the exported folder already has a campaign: use resubmit) and submits every plan
/// folder as round 1. Slurm: one `sbatch --array` and back at once. Local: runs the array here with
/// options.maxParallel workers (each pinned to its own options.cpusPerPlan cores when given) and returns when it
/// is finished.
Expected<CampaignSubmitReport> submitCampaign(const std::filesystem::path& exported, const CampaignOptions& options);

/// The state of every plan folder: its records in campaign/state/, and for a Slurm round still unfinished the
/// queue (squeue) and accounting (sacct, where the cluster keeps it). kIo when Slurm cannot be asked.
Expected<CampaignStatus> campaignStatus(const std::filesystem::path& exported);

/// Polls campaignStatus every pollSeconds until it is settled; kTimeout (with the last status in the message)
/// after timeoutSeconds (<= 0: no limit).
Expected<CampaignStatus> waitForCampaign(const std::filesystem::path& exported, double timeoutSeconds,
                                         double pollSeconds = 5);

/// Submits, as a new round with the campaign's options (those given in `changes` replacing them), the plan folders
/// that failed or never ran; done, pending and running ones are left alone. The records of the folders it reruns
/// are replaced; results already in them stay (process plans resume from them). kInvalidInput when there is
/// nothing to run again.
Expected<CampaignSubmitReport> resubmitCampaign(const std::filesystem::path& exported,
                                                const std::optional<CampaignOptions>& changes = std::nullopt);

/// The options the campaign of an exported folder was last submitted with.
Expected<CampaignOptions> submittedCampaignOptions(const std::filesystem::path& exported);

/// Reports: one line for a submission; a summary line plus one line per plan folder not done for a status.
std::string campaignSubmitText(const CampaignSubmitReport& report);
std::string campaignStatusText(const CampaignStatus& status, bool everyPlan);
nlohmann::json campaignStatusJson(const CampaignStatus& status);
nlohmann::json campaignSubmitJson(const CampaignSubmitReport& report);

}  // namespace mirtune
