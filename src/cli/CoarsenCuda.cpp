// `mirtune coarsen FILE.cu --run` (here or with --export) and `coarsen --ingest DIR`: the CUDA workflow of
// tasks/coarsen/CudaWorkflow.h, printed with tasks/coarsen/Reports.h.
#include "cli/CoarsenOptions.h"
#include "tasks/coarsen/CudaWorkflow.h"
#include "tasks/coarsen/Reports.h"

#include <fmt/format.h>

namespace mirtune::cli {

namespace {

coarsen::CudaRunRequest cudaRequest(const CoarsenPredictOptions& options, const CompileOptions& compile,
                                    const GlobalOptions& global) {
  coarsen::CudaRunRequest request;
  request.files = options.files;
  request.kernel = options.kernel;
  request.platform = options.platform;
  request.encoder = options.encoder;
  request.heads = options.heads;
  request.compile = compile;
  request.dimension = options.dimension;
  request.mode = options.mode;
  request.budget = options.budget;
  request.timeout = options.timeout;
  request.minTime = options.minTime;
  request.nvcc = options.nvcc;
  request.cudaArch = options.cudaArch;
  request.exportFolder = options.exportFolder;
  request.resume = options.resume;
  request.databasePath = resolveDatabasePath(global);
  request.noCache = options.noCache;
  request.threads = options.threads;
  return request;
}

}  // namespace

int runCoarsenCuda(const CoarsenPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  if (!options.ingestFolder.empty()) return reportError(Error(ErrorCode::kUsage, "--ingest takes no FILE"));
  const coarsen::CudaRunRequest request = cudaRequest(options, *compile, global);
  if (!options.exportFolder.empty()) {
    auto summary = coarsen::exportCudaPrograms(request);
    if (!summary) return reportError(summary.error());
    fmt::print("{}", coarsen::exportText(*summary));
    return 0;
  }
  auto report = coarsen::runCudaPrograms(request);
  if (!report) return reportError(report.error());
  int written = writeOutput(options.output, options.json ? coarsen::toJson(*report).dump(2) + "\n"
                                                         : coarsen::textReport(*report));
  return written != 0 ? written : report->exitStatus;
}

int runCoarsenCudaIngest(const CoarsenPredictOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  auto report = coarsen::ingestCudaPrograms(options.ingestFolder, cudaRequest(options, *compile, global));
  if (!report) return reportError(report.error());
  int written = writeOutput(options.output, options.json ? coarsen::toJson(*report).dump(2) + "\n"
                                                         : coarsen::textReport(*report));
  return written != 0 ? written : report->exitStatus;
}

}  // namespace mirtune::cli
