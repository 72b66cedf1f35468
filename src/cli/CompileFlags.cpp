// Front-end options shared by the source-reading commands.
#include "cli/CompileFlags.h"

namespace mirtune::cli {

void addCompileFlags(CLI::App& command, CompileFlags& flags) {
  command.add_option("--lang", flags.language, "Language, overriding the extension: " + languageChoices());
  command.add_option("-O", flags.optimizationLevel, "Optimisation level 0..3 (default 2)")->check(CLI::Range(0, 3));
  command.add_option("-D", flags.defines, "Preprocessor define NAME or NAME=VALUE (repeatable)");
  command.add_option("-I", flags.includeDirectories, "Include folder (repeatable)");
  command.add_option("--cl-std", flags.openClStandard, "OpenCL C standard (default CL1.2)")
      ->check(CLI::IsMember({"CL1.2", "CL2.0", "CL3.0"}));
  command.add_flag("--no-cl-prelude", flags.noOpenClPrelude, "Do not include mirtune's OpenCL prelude");
}

Expected<CompileOptions> toCompileOptions(const CompileFlags& flags) {
  CompileOptions options;
  if (!flags.language.empty()) {
    auto language = parseLanguage(flags.language);
    if (!language) {
      return makeError(ErrorCode::kUsage, "--lang {}: expected one of {}", flags.language, languageChoices());
    }
    options.language = *language;
  }
  options.optimizationLevel = flags.optimizationLevel;
  options.defines = flags.defines;
  options.includeDirectories = flags.includeDirectories;
  options.openClStandard = flags.openClStandard;
  options.openClCompatPrelude = !flags.noOpenClPrelude;
  return options;
}

}  // namespace mirtune::cli
