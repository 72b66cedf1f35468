// `mirtune corpus build` and `mirtune corpus info`: build the pretraining corpus and report what it holds.
#include "cli/CorpusCommand.h"

#include "corpus/CorpusBuilder.h"
#include "corpus/Manifest.h"
#include "support/Log.h"
#include "support/Progress.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
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

std::string mebibytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

void printCountsTable(const CorpusSummary& summary,
                      const std::map<std::string, std::size_t>* recordsPerSource) {
  fmt::print("{:<16}{:>9}{:>10}{:>9}{:>8}{:>11}{:>9}", "source", "programs", "attempted", "compiled",
             "failed", "duplicates", "stored");
  fmt::print(recordsPerSource != nullptr ? "{:>10}\n" : "{}\n",
             recordsPerSource != nullptr ? "manifest" : "");
  auto row = [&](const CorpusSourceCounts& c, std::optional<std::size_t> inManifest) {
    fmt::print("{:<16}{:>9}{:>10}{:>9}{:>8}{:>11}{:>9}", c.source, c.programs, c.attempted, c.compiled,
               c.failed, c.duplicates, c.stored);
    if (inManifest) fmt::print("{:>10}", *inManifest);
    fmt::print("{}\n", c.skipped ? "  skipped: " + c.skipReason : "");
  };
  for (const CorpusSourceCounts& counts : summary.sources) {
    std::optional<std::size_t> inManifest;
    if (recordsPerSource != nullptr) {
      auto it = recordsPerSource->find(counts.source);
      inManifest = it == recordsPerSource->end() ? 0 : it->second;
    }
    row(counts, inManifest);
  }
  std::optional<std::size_t> totalInManifest;
  if (recordsPerSource != nullptr) {
    totalInManifest = 0;
    for (const auto& [source, count] : *recordsPerSource) *totalInManifest += count;
  }
  row(summary.totals, totalInManifest);
  const CorpusInstructionStats& s = summary.instructions;
  fmt::print("records       {} distinct modules, {} of bitcode\n", summary.records,
             mebibytes(summary.moduleBytes));
  fmt::print("instructions  min {}  p10 {}  p25 {}  median {}  p75 {}  p90 {}  p99 {}  max {}  mean {:.1f}\n",
             s.min, s.p10, s.p25, s.p50, s.p75, s.p90, s.p99, s.max, s.mean);
  fmt::print("built in      {} ({} jobs)\n", formatDuration(summary.wallSeconds),
             summary.options.value("jobs", 0u));
}

int runCorpusBuild(const CorpusBuildOptions& cli) {
  CorpusOptions options;
  options.outputDirectory = cli.outputDirectory;
  options.dataDirectory = cli.dataDirectory;
  options.kernelsDirectory = cli.kernelsDirectory;
  auto sources = parseCorpusSourceList(cli.sources);
  if (!sources) return reportError(sources.error());
  options.sources = *sources;
  options.optimizationLevels = cli.optimizationLevels;
  options.jobs = cli.jobs;
  options.csmithPrograms = cli.csmithPrograms;
  options.csmithSeed = cli.csmithSeed;
  options.limitPerSource = cli.limitPerSource;
  options.useCache = !cli.noCache;

  auto summary = buildCorpus(options);
  if (!summary) return reportError(summary.error());
  if (cli.json) {
    std::cout << corpusSummaryToJson(*summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  } else {
    fmt::print("corpus        {}\n", cli.outputDirectory);
    printCountsTable(*summary, nullptr);
  }
  return 0;
}

int runCorpusInfo(const CorpusInfoOptions& cli) {
  auto inspection = inspectCorpus(cli.directory);
  if (!inspection) return reportError(inspection.error());
  if (cli.verify) {
    auto records = readCorpusManifest(cli.directory);
    if (!records) return reportError(records.error());
    std::vector<std::string> problems = verifyCorpusModules(cli.directory, *records, cli.jobs);
    if (problems.size() > 10) {
      std::size_t more = problems.size() - 10;
      problems.resize(10);
      problems.push_back(fmt::format("… and {} more module files that do not verify", more));
    }
    inspection->problems.insert(inspection->problems.end(), problems.begin(), problems.end());
  }
  if (cli.json) {
    nlohmann::ordered_json json;
    json["directory"] = cli.directory;
    json["summary"] = corpusSummaryToJson(inspection->summary);
    json["manifest_records_per_source"] = inspection->recordsPerSource;
    json["distinct_programs"] = inspection->distinctPrograms;
    json["missing_files"] = inspection->missingFiles;
    json["unlisted_files"] = inspection->unlistedFiles;
    json["module_bytes_on_disk"] = inspection->moduleBytes;
    json["verified"] = cli.verify;
    json["problems"] = inspection->problems;
    std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    fmt::print("corpus        {}\n", cli.directory);
    printCountsTable(inspection->summary, &inspection->recordsPerSource);
    fmt::print("programs      {} distinct program ids in the manifest\n", inspection->distinctPrograms);
    fmt::print("on disk       {} ({} files missing, {} files no record names){}\n",
               mebibytes(inspection->moduleBytes), inspection->missingFiles, inspection->unlistedFiles,
               cli.verify ? ", every file's hash checked" : "");
  }
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
