// `mirtune coarsen FILE --run` and `coarsen collect` (here, --export, --ingest): the workflows of
// tasks/coarsen/CoarsenRuns.h and CoarsenCollect.h, printed with tasks/coarsen/Reports.h.
#include "cli/CoarsenOptions.h"
#include "tasks/coarsen/CoarsenCollect.h"
#include "tasks/coarsen/CoarsenRuns.h"
#include "tasks/coarsen/Reports.h"

#include <fmt/format.h>

#include <algorithm>

namespace mirtune::cli {

int runCoarsenRun(const CoarsenPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  coarsen::RunRequest request;
  request.files = options.files;
  request.kernel = options.kernel;
  request.platform = options.platform;
  request.encoder = options.encoder;
  request.heads = options.heads;
  request.compile = *compile;
  request.globalSize = options.globalSize;
  request.localSize = options.localSize;
  request.args = options.args;
  request.budget = std::max(0, options.budget);
  request.dimension = options.dimension;
  request.mode = options.mode;
  request.timeout = options.timeout;
  request.minTime = options.minTime;
  request.databasePath = resolveDatabasePath(global);
  request.noCache = options.noCache;
  request.threads = options.threads;
  auto report = coarsen::runKernels(request);
  if (!report) return reportError(report.error());
  int status = report->exitStatus();
  for (const Error& failure : report->failures) reportError(failure);
  if (report->runs.empty()) return 1;
  int written = writeOutput(options.output, options.json ? coarsen::toJson(*report).dump(2) + "\n"
                                                         : coarsen::textReport(*report));
  return written != 0 ? written : status;
}

int runCoarsenCollect(const CoarsenCollectOptions& options, const GlobalOptions& global) {
  if (!options.exportFolder.empty() && !options.ingestFolder.empty()) {
    return reportError(Error(ErrorCode::kUsage, "--export and --ingest exclude each other"));
  }
  coarsen::CollectRequest request;
  request.kernels = options.kernels;
  request.sizes = options.sizes;
  request.dimension = options.dimension;
  request.mode = options.mode;
  request.timeout = options.timeout;
  request.minTime = options.minTime;
  request.exportFolder = options.exportFolder;
  request.ingestFolder = options.ingestFolder;
  request.databasePath = resolveDatabasePath(global);
  if (!options.exportFolder.empty()) {
    auto summary = coarsen::exportCollection(request);
    if (!summary) return reportError(summary.error());
    fmt::print("{}", coarsen::exportText(options.exportFolder, *summary));
    return 0;
  }
  const bool ingest = !options.ingestFolder.empty();
  auto report = ingest ? coarsen::ingestCollection(request) : coarsen::collect(request);
  if (!report) return reportError(report.error());
  fmt::print("{}", coarsen::textReport(*report, ingest));
  const bool allIn = !report->ingest || report->ingest->complete();  // else: ingest again later
  return report->ok > 0 && report->recorded && allIn ? 0 : 1;
}

}  // namespace mirtune::cli
