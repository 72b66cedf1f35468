// The OpenMP tuning problem of one app as a T1 document with mirtune's Application key.
#include "tasks/omp/OmpSpec.h"

#include "support/Files.h"
#include "tasks/omp/OmpApp.h"

#include <fmt/format.h>

namespace mirtune::omp {
namespace fs = std::filesystem;

namespace {

const char* checkName(OutputCheck check) {
  switch (check) {
    case OutputCheck::kSelfCheckOrDigest:
      return "self-check-or-digest";
    case OutputCheck::kDigest:
      return "digest";
    case OutputCheck::kNone:
      return "none";
  }
  return "self-check-or-digest";
}

/// A parameter of the space as a T1 TuningParameter.
nlohmann::json parameterJson(const TunableParameter& parameter, const char* type) {
  return {{"Name", parameter.name},
          {"Type", type},
          {"Values", parameter.values},
          {"Default", parameter.defaultValue}};
}

}  // namespace

Expected<OmpSpecDocument> ompSpecDocument(const OmpSpecInput& input) {
  auto compiler = parseCompiler(input.measure.compiler);
  if (!compiler) return compiler.error();
  if (input.space == nullptr) return makeError(ErrorCode::kInternal, "an OpenMP spec needs its space");
  const std::string extension = input.app.extension().string();
  const bool cxx = extension != ".c";
  OmpSpecDocument document;
  document.sourceName = input.app.stem().string() + ".omp" + extension;
  document.sourceText = input.rewrittenSource;
  // The same build and run as `omp collect` (ompCommandFactory), in the spec's words.
  const std::string workName = cxx ? "app" + extension : "app.c";
  nlohmann::json build = nlohmann::json::array(
      {*compiler == Compiler::kClang ? (cxx ? "clang++-14" : "clang-14") : (cxx ? "g++" : "gcc"), "-O3",
       "-fopenmp"});
  for (const std::string& flag : input.measure.flags) build.push_back(flag);
  build.push_back(workName);
  build.push_back("-o");
  build.push_back(kBinaryPlaceholder);
  build.push_back("-lm");
  nlohmann::json run = nlohmann::json::array({kBinaryPlaceholder});
  for (const std::string& argument : input.arguments) run.push_back(argument);

  nlohmann::json parameters = nlohmann::json::array();
  for (const TunableParameter& parameter : input.space->parameters()) {
    const char* type = parameter.name == "threads" ? "int" : parameter.name == "schedule" ? "string" : "any";
    parameters.push_back(parameterJson(parameter, type));
  }
  document.t1 = {{"General", {{"BenchmarkName", input.app.stem().string()}, {"OutputFormat", "JSON"}}},
                 {"ConfigurationSpace", {{"TuningParameters", parameters}}},
                 {"mirtune",
                  {{"Timeout", input.measure.runTimeout},
                   {"BuildTimeout", input.measure.buildTimeout},
                   {"RelativeTimeout", kRelativeTimeout},
                   {"MinTime", input.measure.minTime},
                   {"MinRepetitions", input.measure.minRepetitions},
                   {"MaxRepetitions", input.measure.maxRepetitions},
                   {"Warmup", 1},
                   {"Application",
                    {{"Files", {{workName, document.sourceName}}},
                     {"Build", build},
                     {"Run", run},
                     {"OpenMP", {{"Threads", "threads"}, {"Schedule", "schedule"}, {"Chunk", "chunk"}}},
                     {"Check", checkName(input.check)}}}}}};
  return document;
}

Expected<tune::TuneSpec> ompTuneSpec(const OmpSpecDocument& document, const fs::path& specFile) {
  return tune::parseTuneSpec(document.t1, specFile, {{document.sourceName, document.sourceText}});
}

Status writeOmpSpec(const OmpSpecDocument& document, const fs::path& specFile) {
  const fs::path folder = fs::absolute(specFile).parent_path();
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return makeError(ErrorCode::kIo, "cannot create {}: {}", folder.string(), ec.message());
  if (Status written = writeFileAtomically(folder / document.sourceName, document.sourceText); !written) {
    return written;
  }
  return writeFileAtomically(specFile, document.t1.dump(2) + "\n");
}

}  // namespace mirtune::omp
