// `mirtune rewrite`: the source rewrites the tuning tasks rely on, shown before they are used: OpenMP loops
// made schedule(runtime), the innermost loops that can take an unroll pragma, and a coarsened kernel.
#include "cli/Commands.h"
#include "frontend/Coarsening.h"
#include "frontend/LoopPragmas.h"
#include "frontend/OmpScheduleRewrite.h"

#include <fmt/ranges.h>

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

struct RewriteCoarsenOptions {
  RewriteOptions source;
  std::string kernel;
  unsigned factor = 2;
  unsigned dimension = 0;
  std::string mode = "consecutive";
  std::vector<std::uint64_t> globalSize;
  std::vector<std::uint64_t> localSize;
};

int runRewriteCoarsen(const RewriteCoarsenOptions& options) {
  const RewriteOptions& source = options.source;
  if (source.output == "-" && source.json) {
    return reportError(
        Error(ErrorCode::kUsage, "-o - writes the source to stdout; it cannot be combined with --json"));
  }
  if (!options.localSize.empty() && options.globalSize.size() != options.localSize.size()) {
    return reportError(Error(ErrorCode::kUsage, "--local needs as many values as --global"));
  }
  CoarsenOptions coarsen;
  coarsen.factor = options.factor;
  coarsen.dimension = options.dimension;
  coarsen.mode = *parseCoarsenMode(options.mode);  // the option's check allows the two names only
  coarsen.buildOptions = fmt::format("{}", fmt::join(source.extraFlags(), " "));
  auto result = coarsenKernel(source.file, options.kernel, coarsen);
  if (!result) return reportError(result.error());

  nlohmann::json summary = {{"file", source.file},
                            {"kernel", options.kernel},
                            {"factor", options.factor},
                            {"dimension", options.dimension},
                            {"mode", options.mode}};
  if (result->refused()) {
    summary["refused"] = coarsenRefusalName(*result->refusal);
    summary["message"] = result->refusalMessage;
    if (source.json) writeOutput("", summary.dump(2) + "\n");
    return reportError(Error(
        ErrorCode::kInvalidInput,
        fmt::format("{} (not coarsened: {})", result->refusalMessage, coarsenRefusalName(*result->refusal))));
  }
  std::optional<NdRange> range;
  if (!options.globalSize.empty()) {
    auto checked = checkNdRange(options.globalSize, options.localSize, *result);
    if (!checked) return reportError(checked.error().withContext(source.file));
    range = std::move(*checked);
  }
  if (!source.output.empty()) {
    if (int code = writeOutput(source.output, result->text); code != 0) return code;
    if (source.output == "-") return 0;
  }
  summary["new_kernel"] = result->kernelName;
  summary["scheme"] = workGroupSchemeName(result->scheme);
  summary["launch"] = result->sizeTransform;
  summary["output"] = source.output;
  if (range) {
    summary["global"] = range->global;
    summary["local"] = range->local;
  }
  std::string report;
  if (source.json) {
    report = summary.dump(2) + "\n";
  } else {
    report = fmt::format("{}: {} -> {} (factor {}, dimension {}, {}, {})\nlaunch: {}\n", source.file,
                         options.kernel, result->kernelName, options.factor, options.dimension, options.mode,
                         workGroupSchemeName(result->scheme), result->sizeTransform);
    if (range) {
      report += fmt::format(
          "NDRange: global {} local {} -> global {} local {}\n", fmt::join(options.globalSize, ","),
          options.localSize.empty() ? "(driver)" : fmt::format("{}", fmt::join(options.localSize, ",")),
          fmt::join(range->global, ","),
          range->local.empty() ? "(driver)" : fmt::format("{}", fmt::join(range->local, ",")));
    }
    report += source.output.empty()
                  ? "write the new source (the original kernel kept beside it) with -o OUT\n"
                  : fmt::format("written to {}\n", source.output);
  }
  return writeOutput("", report);
}

}  // namespace

void addRewriteCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  CLI::App* rewrite = app.add_subcommand(
      "rewrite",
      "Show the source rewrites tuning applies (OpenMP schedules, loop pragmas, thread coarsening)");
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

  auto coarsenOptions = std::make_shared<RewriteCoarsenOptions>();
  CLI::App* coarsen = rewrite->add_subcommand(
      "coarsen",
      "Thread-coarsen one OpenCL or CUDA kernel: each new work-item does the work of FACTOR original "
      "ones; print the new kernel and its launch, or why the kernel cannot be coarsened");
  addSourceOptions(*coarsen, coarsenOptions->source, "OpenCL C (.cl) or CUDA (.cu) source file");
  coarsen->add_option("--kernel", coarsenOptions->kernel, "The kernel to coarsen")->required();
  coarsen->add_option("--factor", coarsenOptions->factor, "Original work-items per new one: 2, 4, ..., 1024")
      ->required()
      ->check(CLI::Range(1u, 1024u));
  coarsen->add_option("--dim", coarsenOptions->dimension, "NDRange dimension to coarsen (default 0: x)")
      ->check(CLI::Range(0u, 2u));
  coarsen
      ->add_option("--mode", coarsenOptions->mode,
                   "consecutive (default): new item g does items g*F+k; strided: g + k*(G/F)")
      ->check(CLI::IsMember({"consecutive", "strided"}));
  coarsen
      ->add_option(
          "--global", coarsenOptions->globalSize,
          "The original global work size (1 to 3 values): print the new launch and check divisibility")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(CLI::PositiveNumber);
  coarsen->add_option("--local", coarsenOptions->localSize, "The original local work size, with --global")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(CLI::PositiveNumber);
  coarsen->add_option("-o,--output", coarsenOptions->source.output,
                      "Write the new source here ('-' for stdout instead of the report)");
  coarsen->callback([coarsenOptions, &action] {
    action = [coarsenOptions] { return runRewriteCoarsen(*coarsenOptions); };
  });
}

}  // namespace mirtune::cli
