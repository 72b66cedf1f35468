// `mirtune ir`: compile a source (or read an .ll/.bc) and print its LLVM IR or a JSON summary.
#include "cli/Commands.h"
#include "frontend/Frontend.h"
#include "ir/Normaliser.h"
#include "support/Files.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace mirtune::cli {
namespace {

struct IrOptions {
  std::string file;
  std::string output;
  std::string language;
  int optimizationLevel = 2;
  std::vector<std::string> defines;
  std::vector<std::string> includeDirectories;
  std::string openClStandard = "CL1.2";
  bool noOpenClPrelude = false;
  bool json = false;
  bool normalised = false;
};

int runIr(const IrOptions& options) {
  CompileOptions compile;
  if (!options.language.empty()) {
    auto language = parseLanguage(options.language);
    if (!language) {
      return reportError(makeError(ErrorCode::kUsage, "--lang {}: expected one of {}", options.language,
                                   languageChoices()));
    }
    compile.language = *language;
  }
  compile.optimizationLevel = options.optimizationLevel;
  compile.defines = options.defines;
  compile.includeDirectories = options.includeDirectories;
  compile.openClStandard = options.openClStandard;
  compile.openClCompatPrelude = !options.noOpenClPrelude;

  auto module = compileFile(options.file, compile);
  if (!module) return reportError(module.error());

  std::string out;
  if (options.json) {
    nlohmann::json summary = {
        {"file", options.file},
        {"language", languageName(module->language())},
        {"ir_sha256", module->irSha256()},
        {"functions", module->functionCount()},
        {"instructions", module->instructionCount()},
        {"kernels", module->kernelNames()},
        {"optimization_level", options.optimizationLevel},
        {"clang_version", clangVersion()},
    };
    out = summary.dump(2) + "\n";
  } else if (options.normalised) {
    auto normalisedModule = NormalisedModule::create(*module);
    if (!normalisedModule) return reportError(normalisedModule.error());
    out = normalisedModule->text();
  } else {
    out = module->text();
  }
  if (options.output.empty() || options.output == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : reportError(Error(ErrorCode::kIo, "cannot write to stdout"));
  }
  if (auto written = writeFileAtomically(options.output, out); !written) return reportError(written.error());
  return 0;
}

}  // namespace

void addIrCommand(CLI::App& app, const GlobalOptions& /*global*/, CommandAction& action) {
  auto options = std::make_shared<IrOptions>();
  CLI::App* command = app.add_subcommand(
      "ir", "Compile OpenCL C, C/C++ with OpenMP, CUDA device code, or read .ll/.bc, and print LLVM IR");
  command->add_option("file", options->file, "Source file (.cl .c .cpp .cu .ll .bc)")->required();
  command->add_option("-o,--output", options->output, "Write here instead of stdout (never a partial file)");
  command->add_option("--lang", options->language, "Language, overriding the extension: " + languageChoices());
  command->add_option("-O", options->optimizationLevel, "Optimisation level 0..3 (default 2)")
      ->check(CLI::Range(0, 3));
  command->add_option("-D", options->defines, "Preprocessor define NAME or NAME=VALUE (repeatable)");
  command->add_option("-I", options->includeDirectories, "Include folder (repeatable)");
  command->add_option("--cl-std", options->openClStandard, "OpenCL C standard (default CL1.2)")
      ->check(CLI::IsMember({"CL1.2", "CL2.0", "CL3.0"}));
  command->add_flag("--no-cl-prelude", options->noOpenClPrelude, "Do not include mirtune's OpenCL prelude");
  command->add_flag("--normalised", options->normalised,
                    "Print the normalised IR the encoder reads (canonical names, bucketed constants)");
  command->add_flag("--json", options->json,
                    "Print {file, language, ir_sha256, functions, instructions, kernels} instead of IR");
  command->callback([options, &action] { action = [options] { return runIr(*options); }; });
}

}  // namespace mirtune::cli
