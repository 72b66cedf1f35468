// `mirtune devmap FILE --run` and `devmap collect`: devmap::runKernels and devmap::collect, printed as their reports
// (tasks/devmap/Reports.h).
#include "cli/DevmapOptions.h"
#include "tasks/devmap/Reports.h"

#include <fmt/format.h>

namespace mirtune::cli {

int runDevmapRun(const DevmapPredictOptions& options, const GlobalOptions& global) {
  devmap::RunRequest request = options.request;
  request.setup.databasePath = resolveDatabasePath(global);
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  request.compile = *compile;
  auto report = devmap::runKernels(request);
  if (!report) return reportError(report.error());
  const std::string out = options.json ? devmap::toJson(*report, request).dump(2) + "\n"
                                       : devmap::textReport(*report, request);
  const int written = writeOutput(options.output, out);
  return written != 0 ? written : report->exitStatus();
}

int runDevmapCollect(const DevmapCollectOptions& options, const GlobalOptions& global) {
  devmap::CollectRequest request = options;
  request.databasePath = resolveDatabasePath(global);
  auto report = devmap::collect(request);
  if (!report) return reportError(report.error());
  fmt::print("{}", options.json ? devmap::toJson(*report).dump(2) + "\n" : devmap::textReport(*report));
  return report->ok > 0 && report->recorded ? 0 : 1;
}

}  // namespace mirtune::cli
