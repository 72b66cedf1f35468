// `mirtune rewrite`: the source rewrites the tuning tasks rely on, shown before they are used: OpenMP loops
// made schedule(runtime), the innermost loops that can take an unroll pragma, and a coarsened kernel.
#include "cli/Commands.h"
#include "frontend/RewriteReports.h"

#include <fmt/ranges.h>

#include <memory>

namespace mirtune::cli {
namespace {

struct RewriteOptions {
  CoarsenRequest request;  ///< the file and -o for every rewrite; the rest for `coarsen`
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

const Error kSourceOrJson(ErrorCode::kUsage, "-o - writes the source to stdout; it cannot be combined with --json");

using RewriteRun = int (*)(const RewriteOptions&);

// A `rewrite` subcommand with the options every rewrite takes: FILE, -D, -I and --json.
CLI::App* addRewrite(CLI::App& rewrite, CommandAction& action, const std::shared_ptr<RewriteOptions>& options,
                     RewriteRun run, const char* name, const std::string& help, const std::string& fileHelp) {
  CLI::App* command = rewrite.add_subcommand(name, help);
  command->add_option("file", options->request.file, fileHelp)->required();
  command->add_option("-D", options->defines, "Preprocessor define NAME or NAME=VALUE (repeatable)");
  command->add_option("-I", options->includeDirectories, "Include folder (repeatable)");
  command->add_flag("--json", options->json, "Print the report as JSON");
  command->callback([options, run, &action] { action = [options, run] { return run(*options); }; });
  return command;
}

int runRewriteOmp(const RewriteOptions& options) {
  const CoarsenRequest& request = options.request;
  if (request.output == "-" && options.json) return reportError(kSourceOrJson);
  auto result = rewriteOmpSchedules(request.file, options.extraFlags());
  if (!result) return reportError(result.error());
  if (!request.output.empty()) {
    if (int code = writeOutput(request.output, result->text); code != 0 || request.output == "-") return code;
  }
  return writeOutput("", options.json ? toJson(*result, request.file, request.output).dump(2) + "\n"
                                      : textReport(*result, request.output));
}

int runRewriteLoops(const RewriteOptions& options) {
  auto loops = findInnermostLoops(options.request.file, options.extraFlags());
  if (!loops) return reportError(loops.error());
  return writeOutput("", options.json ? innermostLoopsJson(*loops, options.request.file).dump(2) + "\n"
                                      : innermostLoopsText(*loops));
}

int runRewriteCoarsen(const RewriteOptions& options) {
  const CoarsenRequest& request = options.request;
  if (request.output == "-" && options.json) return reportError(kSourceOrJson);
  if (!request.localSize.empty() && request.globalSize.size() != request.localSize.size()) {
    return reportError(Error(ErrorCode::kUsage, "--local needs as many values as --global"));
  }
  CoarsenOptions coarsen{request.factor, request.dimension, *parseCoarsenMode(request.mode),
                         fmt::format("{}", fmt::join(options.extraFlags(), " "))};
  auto result = coarsenKernel(request.file, request.kernel, coarsen);
  if (!result) return reportError(result.error());
  if (result->refused()) {
    if (options.json) writeOutput("", toJson(request, *result, std::nullopt).dump(2) + "\n");
    return reportError(Error(ErrorCode::kInvalidInput, fmt::format("{} (not coarsened: {})", result->refusalMessage,
                                                                   coarsenRefusalName(*result->refusal))));
  }
  std::optional<NdRange> range;
  if (!request.globalSize.empty()) {
    auto checked = checkNdRange(request.globalSize, request.localSize, *result);
    if (!checked) return reportError(checked.error().withContext(request.file));
    range = std::move(*checked);
  }
  if (!request.output.empty()) {
    if (int code = writeOutput(request.output, result->text); code != 0 || request.output == "-") return code;
  }
  return writeOutput("", options.json ? toJson(request, *result, range).dump(2) + "\n"
                                      : textReport(request, *result, range));
}

}  // namespace

void addRewriteCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  CLI::App* rewrite = app.add_subcommand(
      "rewrite", "Show the source rewrites tuning applies (OpenMP schedules, loop pragmas, thread coarsening)");
  rewrite->require_subcommand(1);

  auto omp = std::make_shared<RewriteOptions>();
  addRewrite(*rewrite, action, omp, runRewriteOmp, "omp",
             "Make every OpenMP worksharing loop schedule(runtime); report each loop directive and what changes",
             "C or C++ source file (.c .cpp .cc .cxx)")
      ->add_option("-o,--output", omp->request.output,
                   "Write the rewritten source here ('-' for stdout instead of the report)");
  addRewrite(*rewrite, action, std::make_shared<RewriteOptions>(), runRewriteLoops, "loops",
             "List the innermost loops (line, kind, depth, existing pragmas) that can take a loop pragma",
             "C, C++, OpenCL C or CUDA source file");

  auto co = std::make_shared<RewriteOptions>();
  CoarsenRequest& request = co->request;
  CLI::App* coarsen = addRewrite(
      *rewrite, action, co, runRewriteCoarsen, "coarsen",
      "Thread-coarsen one OpenCL or CUDA kernel: each new work-item does the work of FACTOR original "
      "ones; print the new kernel and its launch, or why the kernel cannot be coarsened",
      "OpenCL C (.cl) or CUDA (.cu) source file");
  coarsen->add_option("--kernel", request.kernel, "The kernel to coarsen")->required();
  coarsen->add_option("--factor", request.factor, "Original work-items per new one: 2, 4, ..., 1024")
      ->required()
      ->check(CLI::Range(1u, 1024u));
  coarsen->add_option("--dim", request.dimension, "NDRange dimension to coarsen (default 0: x)")
      ->check(CLI::Range(0u, 2u));
  coarsen->add_option("--mode", request.mode, "consecutive (default): new item g does items g*F+k; strided: g + k*(G/F)")
      ->check(CLI::IsMember({"consecutive", "strided"}));
  coarsen
      ->add_option("--global", request.globalSize,
                   "The original global work size (1 to 3 values): print the new launch and check divisibility")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(CLI::PositiveNumber);
  coarsen->add_option("--local", request.localSize, "The original local work size, with --global")
      ->delimiter(',')
      ->expected(1, 3)
      ->check(CLI::PositiveNumber);
  coarsen->add_option("-o,--output", request.output, "Write the new source here ('-' for stdout instead of the report)");
}

}  // namespace mirtune::cli
