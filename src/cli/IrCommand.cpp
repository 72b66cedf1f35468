// `mirtune ir`: compile a source (or read an .ll/.bc) and print its LLVM IR or a JSON summary.
#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "ir/FileReports.h"
#include "ir/Normaliser.h"

#include <memory>

namespace mirtune::cli {
namespace {

struct IrOptions {
  std::string file;
  std::string output;
  CompileFlags compile;
  bool json = false;
  bool normalised = false;
};

int runIr(const IrOptions& options) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto module = compileFile(options.file, *compile);
  if (!module) return reportError(module.error());

  std::string out;
  if (options.json) {
    out = moduleSummaryJson(*module, options.file, options.compile.optimizationLevel).dump(2) + "\n";
  } else if (options.normalised) {
    auto normalisedModule = NormalisedModule::create(*module);
    if (!normalisedModule) return reportError(normalisedModule.error());
    out = normalisedModule->text();
  } else {
    out = module->text();
  }
  return writeOutput(options.output, out);
}

}  // namespace

void addIrCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  auto options = std::make_shared<IrOptions>();
  CLI::App* command = app.add_subcommand(
      "ir", "Compile OpenCL C, C/C++ with OpenMP, CUDA device code, or read .ll/.bc, and print LLVM IR");
  command->add_option("file", options->file, "Source file (.cl .c .cpp .cu .ll .bc)")->required();
  command->add_option("-o,--output", options->output, "Write here instead of stdout (never a partial file)");
  addCompileFlags(*command, options->compile);
  command->add_flag("--normalised", options->normalised,
                    "Print the normalised IR the encoder reads (canonical names, bucketed constants)");
  command->add_flag("--json", options->json,
                    "Print {file, language, ir_sha256, functions, instructions, kernels} instead of IR");
  command->callback([options, &action] { action = [options] { return runIr(*options); }; });
}

}  // namespace mirtune::cli
