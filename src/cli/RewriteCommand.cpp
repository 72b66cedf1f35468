// `mirtune rewrite`: the source rewrites the tuning tasks rely on, shown before they are used: OpenMP loops
// made schedule(runtime), and the innermost loops that can take an unroll pragma.
#include "cli/Commands.h"
#include "frontend/LoopPragmas.h"
#include "frontend/OmpScheduleRewrite.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace mirtune::cli {
namespace {

struct RewriteOptions {
  std::string file;
  std::string output;
  bool json = false;
  std::vector<std::string> defines;
  std::vector<std::string> includeDirectories;

  std::vector<std::string> extraFlags() const {
    std::vector<std::string> flags;
    for (const std::string& define : defines) flags.push_back("-D" + define);
    for (const std::string& folder : includeDirectories) flags.push_back("-I" + folder);
    return flags;
  }
};

void addSourceOptions(CLI::App& command, RewriteOptions& options, const std::string& fileHelp) {
  command.add_option("file", options.file, fileHelp)->required();
  command.add_option("-D", options.defines, "Preprocessor define NAME or NAME=VALUE (repeatable)");
  command.add_option("-I", options.includeDirectories, "Include folder (repeatable)");
  command.add_flag("--json", options.json, "Print the report as JSON");
}

int runRewriteOmp(const RewriteOptions& options) {
  if (options.output == "-" && options.json) {
    return reportError(
        Error(ErrorCode::kUsage, "-o - writes the source to stdout; it cannot be combined with --json"));
  }
  auto result = rewriteOmpSchedules(options.file, options.extraFlags());
  if (!result) return reportError(result.error());
  if (!options.output.empty()) {
    if (int code = writeOutput(options.output, result->text); code != 0) return code;
    if (options.output == "-") return 0;
  }

  std::string report;
  if (options.json) {
    nlohmann::json sites = nlohmann::json::array();
    for (const OmpLoopSite& site : result->sites) {
      sites.push_back({{"file", site.file},
                       {"line", site.line},
                       {"column", site.column},
                       {"loop_line", site.loopLine},
                       {"directive", site.directive},
                       {"original_schedule", site.originalSchedule},
                       {"rewritten", site.rewritten},
                       {"runtime_schedule", site.runtimeSchedule},
                       {"note", site.note}});
    }
    nlohmann::json summary = {{"file", options.file},
                              {"output", options.output},
                              {"rewritten", result->rewrittenCount()},
                              {"sites", sites}};
    report = summary.dump(2) + "\n";
  } else {
    for (const OmpLoopSite& site : result->sites) {
      std::string before = site.originalSchedule.empty() ? "(no schedule)" : site.originalSchedule;
      if (site.rewritten) {
        report += fmt::format("{}:{}:{}: omp {}: {} -> {}\n", site.file, site.line, site.column,
                              site.directive, before, kRuntimeScheduleClause);
      } else {
        report += fmt::format("{}:{}:{}: omp {}: unchanged ({})\n", site.file, site.line, site.column,
                              site.directive, site.note);
      }
    }
    report += fmt::format(
        "{} of {} OpenMP loop directive{} rewritten{}\n", result->rewrittenCount(), result->sites.size(),
        result->sites.size() == 1 ? "" : "s",
        options.output.empty() ? "; write the rewritten file with -o OUT" : " into " + options.output);
  }
  return writeOutput("", report);
}

int runRewriteLoops(const RewriteOptions& options) {
  auto loops = findInnermostLoops(options.file, options.extraFlags());
  if (!loops) return reportError(loops.error());
  std::string report;
  if (options.json) {
    nlohmann::json sites = nlohmann::json::array();
    for (const LoopSite& loop : *loops) {
      sites.push_back({{"file", loop.file},
                       {"function", loop.function},
                       {"line", loop.line},
                       {"column", loop.column},
                       {"kind", loopKindName(loop.kind)},
                       {"depth", loop.depth},
                       {"in_header", loop.inHeader},
                       {"from_macro", loop.fromMacro},
                       {"insertable", loop.insertable},
                       {"existing_pragmas", loop.existingPragmas},
                       {"note", loop.note}});
    }
    report = nlohmann::json({{"file", options.file}, {"loops", sites}}).dump(2) + "\n";
  } else {
    int insertable = 0;
    for (const LoopSite& loop : *loops) {
      insertable += loop.insertable ? 1 : 0;
      report += fmt::format("{}:{}:{}: {} loop in {} (depth {})", loop.file, loop.line, loop.column,
                            loopKindName(loop.kind), loop.function.empty() ? "?" : loop.function, loop.depth);
      for (const std::string& pragma : loop.existingPragmas) report += fmt::format(" [{}]", pragma);
      report += loop.insertable ? "\n" : fmt::format(": {}\n", loop.note);
    }
    report += fmt::format("{} innermost loop{}, {} can take a loop pragma\n", loops->size(),
                          loops->size() == 1 ? "" : "s", insertable);
  }
  return writeOutput("", report);
}

}  // namespace

void addRewriteCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  CLI::App* rewrite = app.add_subcommand(
      "rewrite", "Show the source rewrites tuning applies (OpenMP schedules, loop pragmas)");
  rewrite->require_subcommand(1);

  auto ompOptions = std::make_shared<RewriteOptions>();
  CLI::App* omp = rewrite->add_subcommand(
      "omp",
      "Make every OpenMP worksharing loop schedule(runtime); report each loop directive and what changes");
  addSourceOptions(*omp, *ompOptions, "C or C++ source file (.c .cpp .cc .cxx)");
  omp->add_option("-o,--output", ompOptions->output,
                  "Write the rewritten source here ('-' for stdout instead of the report)");
  omp->callback([ompOptions, &action] { action = [ompOptions] { return runRewriteOmp(*ompOptions); }; });

  auto loopOptions = std::make_shared<RewriteOptions>();
  CLI::App* loops = rewrite->add_subcommand(
      "loops", "List the innermost loops (line, kind, depth, existing pragmas) that can take a loop pragma");
  addSourceOptions(*loops, *loopOptions, "C, C++, OpenCL C or CUDA source file");
  loops->callback(
      [loopOptions, &action] { action = [loopOptions] { return runRewriteLoops(*loopOptions); }; });
}

}  // namespace mirtune::cli
