// `mirtune corpus build` and `mirtune corpus info`: build the pretraining corpus and report what it holds.
#include "cli/CorpusCommand.h"

#include "corpus/CorpusBuilder.h"
#include "corpus/CorpusReports.h"
#include "support/Log.h"

#include <memory>

namespace mirtune::cli {
namespace {

struct CorpusBuildOptions {
  std::string outputDirectory;
  std::string dataDirectory;
  std::string kernelsDirectory;
  std::vector<std::string> sources;
  std::vector<int> optimizationLevels = {0, 1, 2, 3};
  unsigned jobs = 0;
  std::size_t csmithPrograms = 5000;
  std::uint64_t csmithSeed = 1;
  std::size_t limitPerSource = 0;
  bool noCache = false;
  bool json = false;
};

struct CorpusInfoOptions {
  std::string directory;
  bool verify = false;
  unsigned jobs = 0;
  bool json = false;
};

constexpr auto kReplaceInvalidUtf8 = nlohmann::json::error_handler_t::replace;

int runCorpusBuild(const CorpusBuildOptions& cli) {
  auto sources = parseCorpusSourceList(cli.sources);
  if (!sources) return reportError(sources.error());
  CorpusOptions options;
  options.outputDirectory = cli.outputDirectory;
  options.dataDirectory = cli.dataDirectory;
  options.kernelsDirectory = cli.kernelsDirectory;
  options.sources = *sources;
  options.optimizationLevels = cli.optimizationLevels;
  options.jobs = cli.jobs;
  options.csmithPrograms = cli.csmithPrograms;
  options.csmithSeed = cli.csmithSeed;
  options.limitPerSource = cli.limitPerSource;
  options.useCache = !cli.noCache;
  auto summary = buildCorpus(options);
  if (!summary) return reportError(summary.error());
  return writeOutput("", cli.json ? corpusSummaryToJson(*summary).dump(2, ' ', false, kReplaceInvalidUtf8) + "\n"
                                  : corpusBuildText(*summary, cli.outputDirectory));
}

int runCorpusInfo(const CorpusInfoOptions& cli) {
  auto inspection = inspectCorpus(cli.directory);
  if (!inspection) return reportError(inspection.error());
  if (cli.verify) {
    if (Status verified = verifyCorpusInspection(*inspection, cli.directory, cli.jobs); !verified) {
      return reportError(verified.error());
    }
  }
  writeOutput("", cli.json ? toJson(*inspection, cli.directory, cli.verify).dump(2, ' ', false, kReplaceInvalidUtf8) + "\n"
                           : textReport(*inspection, cli.directory, cli.verify));
  for (const std::string& problem : inspection->problems) logError("{}: {}", cli.directory, problem);
  return inspection->problems.empty() ? 0 : 1;
}

}  // namespace

void addCorpusCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  CLI::App* corpus =
      app.add_subcommand("corpus", "Build and inspect the pretraining corpus of LLVM IR modules");
  corpus->require_subcommand(1);

  auto build = std::make_shared<CorpusBuildOptions>();
  CLI::App* buildCommand = corpus->add_subcommand(
      "build",
      "Compile every available source at -O0..-O3, deduplicate by canonical IR hash, store as bitcode");
  buildCommand
      ->add_option("--out", build->outputDirectory, "Corpus folder (created; existing modules are kept)")
      ->required();
  buildCommand->add_option("--jobs", build->jobs, "Worker threads (default: number of cores)")
      ->check(CLI::Range(1u, 1024u));
  buildCommand->add_option("--csmith", build->csmithPrograms, "Programs to generate with csmith")
      ->capture_default_str();
  buildCommand
      ->add_option("--csmith-seed", build->csmithSeed, "Seed of the first csmith program (then +1, +2, ...)")
      ->capture_default_str();
  buildCommand
      ->add_option("--sources", build->sources,
                   "Sources to use, comma-separated (default all): " + corpusSourceChoices())
      ->delimiter(',');
  buildCommand->add_option("--limit-per-source", build->limitPerSource,
                           "At most N programs per source (quick runs)");
  buildCommand->add_option("--kernels", build->kernelsDirectory,
                           "The project's kernels folder (default: kernels/)");
  buildCommand->add_option("--data", build->dataDirectory,
                           "Data set folder (default: $MIRTUNE_DATA or ../shared/datasets)");
  buildCommand
      ->add_option("--opt-levels", build->optimizationLevels, "-O levels, comma-separated (default 0,1,2,3)")
      ->delimiter(',')
      ->check(CLI::Range(0, 3));
  buildCommand->add_flag("--no-cache", build->noCache,
                         "Recompile everything instead of reusing compile-cache.jsonl");
  buildCommand->add_flag("--json", build->json, "Print summary.json instead of a table");
  buildCommand->callback([build, &action] { action = [build] { return runCorpusBuild(*build); }; });

  auto info = std::make_shared<CorpusInfoOptions>();
  CLI::App* infoCommand = corpus->add_subcommand(
      "info", "Counts per source from summary.json and the manifest, checked against the files");
  infoCommand->add_option("dir", info->directory, "Corpus folder")->required();
  infoCommand->add_flag("--verify", info->verify, "Also read every module back and check its hash");
  infoCommand->add_option("--jobs", info->jobs, "Threads for --verify (default: number of cores)")
      ->check(CLI::Range(1u, 1024u));
  infoCommand->add_flag("--json", info->json, "Print JSON instead of text");
  infoCommand->callback([info, &action] { action = [info] { return runCorpusInfo(*info); }; });
}

}  // namespace mirtune::cli
