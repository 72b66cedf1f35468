// An OpenMP app's tuning problem as an application spec of the generic tuner (tasks/tune): threads, schedule
// and chunk as T1 tuning parameters with the OpenMP space's values, the rewritten source copied into the work
// folder and built once, every configuration run under its OMP_* variables. `omp --app` runs it through the
// same session as `mirtune tune`, and --write-spec writes it out for `mirtune tune` to run as it is or
// edited.
#pragma once

#include "support/Error.h"
#include "tasks/omp/OmpWorkflow.h"
#include "tasks/tune/TuneSpec.h"
#include "tuner/SearchSpace.h"
#include "tuner/TuningSession.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune::omp {

/// What the spec is made of.
struct OmpSpecInput {
  std::filesystem::path app;           ///< the app's source as the user named it
  std::vector<std::string> arguments;  ///< the app's arguments
  std::string rewrittenSource;         ///< the source with schedule(runtime) (rewriteOmpSchedules)
  const SearchSpace* space = nullptr;  ///< makeOmpSpace's: values and defaults of threads, schedule, chunk
  OmpMeasureOptions measure;           ///< compiler, flags, timeouts, repetitions
  OutputCheck check = OutputCheck::kSelfCheckOrDigest;
};

/// The spec as a T1 document and the one file it names besides itself.
struct OmpSpecDocument {
  nlohmann::json t1;
  std::string sourceName;  ///< the rewritten source's file, relative to the spec's folder ("<app>.omp.c")
  std::string sourceText;
};

/// The document: parameters with the space's values and defaults (chunk is of mirtune's type "any": "default"
/// or a size), the build `<compiler> -O3 -fopenmp <flags> app.c -o @BINARY@ -lm` of the copied source, the
/// run with the arguments and mirtune.Application.OpenMP naming the three parameters, the settings and the
/// output check. kUsage for an unknown compiler.
Expected<OmpSpecDocument> ompSpecDocument(const OmpSpecInput& input);

/// The document read by the generic tuner's reader, as if it were the file `specFile` (its source held in
/// memory).
Expected<tune::TuneSpec> ompTuneSpec(const OmpSpecDocument& document, const std::filesystem::path& specFile);

/// Writes the document to `specFile` and its source beside it, for `mirtune tune specFile`.
Status writeOmpSpec(const OmpSpecDocument& document, const std::filesystem::path& specFile);

}  // namespace mirtune::omp
