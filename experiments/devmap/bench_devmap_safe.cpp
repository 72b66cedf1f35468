// Calibrated, novelty-aware device-mapping decisions under kernel-grouped folds (experiments/RESULTS.md,
// "Device mapping: calibrated, novelty-aware decisions"): ECE before and after calibration, and accuracy,
// mean speedup and fraction of the oracle of the raw head, the expected-speedup decision, the safe policy and
// the code-free ones.
#include "support/Files.h"
#include "support/Log.h"
#include "tasks/devmap/SafeDecision.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{
      "Device mapping: calibrated expected-speedup decisions with a novelty fallback, kernel-grouped folds"};
  mirtune::devmap::SafeEvalRequest request;
  std::string output;
  bool json = false;
  app.add_option("--platform", request.platform, "amd, nvidia or all (default)");
  app.add_option("--ir", request.ir, "source (default) or dataset");
  app.add_option("--head-kind", request.headKind,
                 "auto (default), xgboost or mlp: the embedding head's candidates");
  app.add_option("--data", request.data, "devmap data folder (default: $MIRTUNE_DATA/devmap)");
  app.add_option("--encoder", request.encoder, "Encoder folder (default: the shipped one)");
  app.add_option("--db", request.databasePath, "Embedding cache database (default: mirtune's)");
  app.add_flag("--no-cache", request.noCache, "Neither read nor write the embedding cache");
  app.add_option("--threads", request.threads, "Threads (default 2)")->check(CLI::Range(1, 512));
  app.add_option("--seed", request.seed, "Seed of the folds and heads (default 204)");
  app.add_option("--outer-folds", request.outerFolds, "Kernel-grouped outer folds (default 10)");
  app.add_option("--inner-folds", request.innerFolds,
                 "Kernel-grouped inner folds the policy is fitted on (default 5)");
  app.add_option("-o,--output", output, "Write the report here instead of stdout");
  app.add_flag("--json", json, "JSON instead of Markdown");
  CLI11_PARSE(app, argc, argv);
  if (request.databasePath.empty()) request.databasePath = mirtune::defaultDatabasePath().string();
  auto report = mirtune::devmap::evaluateSafeDecisions(request);
  if (!report) {
    fmt::print(stderr, "error: {}\n", report.error().message());
    return report.error().code() == mirtune::ErrorCode::kUsage ? 2 : 1;
  }
  const std::string text = json ? report->toJson().dump(2) + "\n" : report->toMarkdown();
  if (output.empty()) {
    fmt::print("{}", text);
    return 0;
  }
  if (auto written = mirtune::writeFileAtomically(output, text); !written) {
    fmt::print(stderr, "error: {}\n", written.error().message());
    return 1;
  }
  return 0;
}
