// `mirtune devmap eval`: the device-mapping cross-validation under the chosen splits (devmap::evaluate),
// printed.
#include "cli/DevmapOptions.h"
#include "tasks/devmap/Reports.h"

namespace mirtune::cli {

int runDevmapEval(const DevmapEvalOptions& options, const GlobalOptions& global) {
  devmap::EvalRequest request = options.request;
  request.databasePath = resolveDatabasePath(global);
  if (options.noAuxReference) request.auxReference = false;
  auto report = devmap::evaluate(request);
  if (!report) return reportError(report.error());
  if (!options.predictions.empty()) {
    if (int status = writeOutput(options.predictions, devmap::predictionsCsv(*report)); status != 0) return status;
  }
  if (options.json) return writeOutput(options.output, devmap::toJson(*report).dump(2) + "\n");
  return writeOutput(options.output, devmap::textReport(*report));
}

}  // namespace mirtune::cli
