// `mirtune coarsen eval`: tasks/coarsen/EvalWorkflow.h's leave-one-kernel-out evaluation, printed with
// tasks/coarsen/Reports.h beside the published rows.
#include "cli/CoarsenOptions.h"
#include "tasks/coarsen/EvalWorkflow.h"
#include "tasks/coarsen/Reports.h"

namespace mirtune::cli {

int runCoarsenEval(const CoarsenEvalOptions& options, const GlobalOptions& global) {
  coarsen::EvaluationRequest request;
  request.platform = options.platform;
  request.features = options.features;
  request.ir2vecVocabulary = options.ir2vecVocabulary;
  request.form = options.form;
  request.pooling = options.pooling;
  request.ir = options.ir;
  request.headKind = options.headKind;
  request.candidates = options.candidates;
  request.data = options.data;
  request.encoder = options.encoder;
  request.method = options.method;
  request.magni = options.magni;
  request.noCache = options.noCache;
  request.threads = options.threads;
  request.innerFolds = options.innerFolds;
  request.seed = options.seed;
  request.databasePath = resolveDatabasePath(global);
  auto report = coarsen::evaluate(request);
  if (!report) return reportError(report.error());
  if (!options.predictions.empty()) {
    if (int status = writeOutput(options.predictions, coarsen::predictionsCsv(*report)); status != 0)
      return status;
  }
  return writeOutput(options.output, options.json ? coarsen::toJson(*report).dump(2) + "\n"
                                                  : coarsen::textReport(*report));
}

}  // namespace mirtune::cli
