// `mirtune campaign submit|status|wait|resubmit DIR`: the plan folders of an exported folder as a Slurm job array
// (or local workers), their state, and running again what failed.
#include "cli/Commands.h"
#include "tuner/Campaign.h"

#include <fmt/format.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace mirtune::cli {

namespace {

struct CampaignCommandOptions {
  std::string folder;
  std::string scheduler = "slurm";
  CampaignOptions submit;
  std::string runner;
  bool json = false;
  bool everyPlan = false;
  double timeoutSeconds = 0;
  double pollSeconds = 5;
};

// The scheduler options of submit and resubmit; `given` collects the ones on the command line.
void addSchedulerOptions(CLI::App* command, CampaignCommandOptions& options, std::vector<CLI::Option*>& given) {
  given.push_back(command->add_option("--scheduler", options.scheduler, "slurm (sbatch --array) or local (workers here)")
                      ->check(CLI::IsMember({"slurm", "local"})));
  given.push_back(command->add_option("--runner", options.runner,
                                      "mirtune-run as the nodes reach it (default: the one beside mirtune; the "
                                      "exported folder must be on a file system the nodes share)"));
  given.push_back(command->add_option("--max-parallel", options.submit.maxParallel,
                                      "Most array tasks at once (Slurm: --array=...%N; local: workers, default 1)")
                      ->check(CLI::NonNegativeNumber));
  given.push_back(command->add_option("--plans-per-task", options.submit.plansPerTask,
                                      "Plan folders one array task runs one after another (default 1)")
                      ->check(CLI::PositiveNumber));
  given.push_back(command->add_option("--cpus-per-plan", options.submit.cpusPerPlan,
                                      "Cores one task has to itself (Slurm --cpus-per-task; local: pinned with "
                                      "taskset); default: the whole node (--exclusive)")
                      ->check(CLI::NonNegativeNumber));
  given.push_back(command->add_option("--partition", options.submit.partition, "Slurm partition"));
  given.push_back(command->add_option("--time-per-plan", options.submit.timePerPlan,
                                      "Slurm time limit of one plan folder (M, M:S, H:M:S, D-H:M:S); a task gets "
                                      "--plans-per-task times it"));
  given.push_back(command->add_option("--constraint", options.submit.constraint,
                                      "Slurm node features (one node type per campaign)"));
  given.push_back(command->add_option("--sbatch-arg", options.submit.sbatchArgs,
                                      "A further sbatch argument, e.g. --sbatch-arg=--gres=gpu:1 (repeatable)")
                      ->allow_extra_args(false));
  given.push_back(command->add_option("--device", options.submit.devices,
                                      "OpenCL plans: the device P:D to run on (repeatable; default: every device "
                                      "of the node)")
                      ->allow_extra_args(false));
}

CampaignOptions optionsFrom(const CampaignCommandOptions& options) {
  CampaignOptions submit = options.submit;
  submit.scheduler = options.scheduler == "local" ? CampaignScheduler::kLocal : CampaignScheduler::kSlurm;
  submit.runner = options.runner;
  return submit;
}

int runSubmit(const CampaignCommandOptions& options) {
  auto report = submitCampaign(options.folder, optionsFrom(options));
  if (!report) return reportError(report.error());
  if (options.json) return writeOutput("", campaignSubmitJson(*report).dump(2) + "\n");
  return writeOutput("", campaignSubmitText(*report));
}

// Resubmission keeps the campaign's options but for those on the command line.
int runResubmit(const CampaignCommandOptions& options, const std::set<std::string>& given) {
  std::optional<CampaignOptions> changes;
  if (!given.empty()) {
    auto saved = submittedCampaignOptions(options.folder);
    if (!saved) return reportError(saved.error());
    const CampaignOptions typed = optionsFrom(options);
    changes = *saved;
    if (given.count("--scheduler")) changes->scheduler = typed.scheduler;
    if (given.count("--runner")) changes->runner = typed.runner;
    if (given.count("--max-parallel")) changes->maxParallel = typed.maxParallel;
    if (given.count("--plans-per-task")) changes->plansPerTask = typed.plansPerTask;
    if (given.count("--cpus-per-plan")) changes->cpusPerPlan = typed.cpusPerPlan;
    if (given.count("--partition")) changes->partition = typed.partition;
    if (given.count("--time-per-plan")) changes->timePerPlan = typed.timePerPlan;
    if (given.count("--constraint")) changes->constraint = typed.constraint;
    if (given.count("--sbatch-arg")) changes->sbatchArgs = typed.sbatchArgs;
    if (given.count("--device")) changes->devices = typed.devices;
    // Options that only Slurm takes do not follow a switch to local workers.
    if (changes->scheduler == CampaignScheduler::kLocal) {
      changes->partition.clear();
      changes->timePerPlan.clear();
      changes->constraint.clear();
      changes->sbatchArgs.clear();
    }
  }
  auto report = resubmitCampaign(options.folder, changes);
  if (!report) return reportError(report.error());
  if (options.json) return writeOutput("", campaignSubmitJson(*report).dump(2) + "\n");
  return writeOutput("", campaignSubmitText(*report));
}

int printStatus(const CampaignStatus& status, const CampaignCommandOptions& options) {
  if (options.json) return writeOutput("", campaignStatusJson(status).dump(2) + "\n");
  return writeOutput("", campaignStatusText(status, options.everyPlan));
}

}  // namespace

void addCampaignCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  CLI::App* campaign = app.add_subcommand(
      "campaign",
      "Measure an exported folder (omp collect, coarsen collect, coarsen FILE.cu --run, tune ... --export DIR) as a "
      "Slurm job array or with local workers, follow it, and run again what failed; then --ingest DIR as usual");
  campaign->require_subcommand(1);

  // submit
  auto submitOptions = std::make_shared<CampaignCommandOptions>();
  auto submitGiven = std::make_shared<std::vector<CLI::Option*>>();
  CLI::App* submit = campaign->add_subcommand(
      "submit", "Submit every plan folder of DIR: one array task per plan folder (or per --plans-per-task)");
  submit->add_option("DIR", submitOptions->folder, "The exported folder")->required();
  addSchedulerOptions(submit, *submitOptions, *submitGiven);
  submit->add_flag("--json", submitOptions->json, "Print JSON");
  submit->callback([&action, submitOptions] { action = [submitOptions] { return runSubmit(*submitOptions); }; });

  // status
  auto statusOptions = std::make_shared<CampaignCommandOptions>();
  CLI::App* statusCommand = campaign->add_subcommand(
      "status", "Done, running, pending, failed or not run, per plan folder (the queue, accounting and the records)");
  statusCommand->add_option("DIR", statusOptions->folder, "The exported folder")->required();
  statusCommand->add_flag("--all", statusOptions->everyPlan, "List the plan folders that are done too");
  statusCommand->add_flag("--json", statusOptions->json, "Print JSON");
  statusCommand->callback([&action, statusOptions] {
    action = [statusOptions] {
      auto status = campaignStatus(statusOptions->folder);
      if (!status) return reportError(status.error());
      return printStatus(*status, *statusOptions);
    };
  });

  // wait
  auto waitOptions = std::make_shared<CampaignCommandOptions>();
  CLI::App* waitCommand = campaign->add_subcommand(
      "wait", "Wait until nothing is pending or running; exit 0 when every plan folder is done, 1 otherwise");
  waitCommand->add_option("DIR", waitOptions->folder, "The exported folder")->required();
  waitCommand->add_option("--timeout", waitOptions->timeoutSeconds, "Give up after S seconds (default: no limit)")
      ->check(finiteNonNegative());
  waitCommand->add_option("--poll", waitOptions->pollSeconds, "Seconds between two looks (default 5)")
      ->check(CLI::PositiveNumber);
  waitCommand->add_flag("--json", waitOptions->json, "Print JSON");
  waitCommand->callback([&action, waitOptions] {
    action = [waitOptions] {
      auto status = waitForCampaign(waitOptions->folder, waitOptions->timeoutSeconds, waitOptions->pollSeconds);
      if (!status) return reportError(status.error());
      const int printed = printStatus(*status, *waitOptions);
      return printed != 0 ? printed : status->complete() ? 0 : 1;
    };
  });

  // resubmit
  auto resubmitOptions = std::make_shared<CampaignCommandOptions>();
  auto resubmitGiven = std::make_shared<std::vector<CLI::Option*>>();
  CLI::App* resubmit = campaign->add_subcommand(
      "resubmit",
      "Submit again only the plan folders that failed, were killed or never ran (finished ones are left alone), "
      "with the campaign's options unless new ones are given");
  resubmit->add_option("DIR", resubmitOptions->folder, "The exported folder")->required();
  addSchedulerOptions(resubmit, *resubmitOptions, *resubmitGiven);
  resubmit->add_flag("--json", resubmitOptions->json, "Print JSON");
  resubmit->callback([&action, resubmitOptions, resubmitGiven] {
    std::set<std::string> given;
    for (const CLI::Option* option : *resubmitGiven) {
      if (option->count() > 0) given.insert(option->get_name());
    }
    action = [resubmitOptions, given] { return runResubmit(*resubmitOptions, given); };
  });
}

}  // namespace mirtune::cli
