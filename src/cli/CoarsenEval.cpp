// `mirtune coarsen eval`: the published leave-one-kernel-out protocol over the coarsening data set, beside
// the published rows.
#include "cli/CoarsenOptions.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "support/Csv.h"
#include "support/Files.h"
#include "support/Log.h"
#include "tasks/coarsen/CoarsenCurves.h"
#include "tasks/coarsen/CoarsenEvaluate.h"
#include "tasks/coarsen/CoarsenModel.h"
#include "tasks/coarsen/KernelEmbeddings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace mirtune::cli {

namespace {

using namespace mirtune::coarsen;

std::vector<std::size_t> selectedPlatforms(const std::string& platform) {
  if (platform == "all") return {0, 1, 2, 3};
  return {*platformIndex(platform)};
}

// "mt + mtLocal" for every program that more than one kernel share.
std::vector<std::string> sharedPrograms(const CoarsenData& data, const std::vector<std::size_t>& group) {
  std::vector<std::string> shared;
  for (std::size_t g : std::set<std::size_t>(group.begin(), group.end())) {
    std::vector<std::string> names;
    for (std::size_t k = 0; k < group.size(); ++k) {
      if (group[k] == g) names.push_back(data.kernels[k].name);
    }
    if (names.size() > 1) shared.push_back(fmt::format("{}", fmt::join(names, " + ")));
  }
  return shared;
}

}  // namespace

namespace {

// The method a command runs: --method, else classifier for a --candidates list of classifier heads (which
// only that method reads), else kDefaultCoarsenMethod.
std::string resolvedMethod(const std::string& method, const std::vector<heads::Candidate>& candidates,
                           bool candidatesGiven) {
  if (!method.empty()) return method;
  bool classifiers =
      candidatesGiven && std::all_of(candidates.begin(), candidates.end(), [](const auto& candidate) {
        return candidate.kind == "xgboost" || candidate.kind == "mlp";
      });
  return classifiers ? "classifier" : kDefaultCoarsenMethod;
}

}  // namespace

int runCoarsenEval(const CoarsenEvalOptions& givenOptions, const GlobalOptions& global) {
  CoarsenEvalOptions options = givenOptions;
  auto modality = parseModality(options.features);
  if (!modality)
    return reportError(
        Error(ErrorCode::kUsage,
              fmt::format("unknown --features '{}' (fused, tokens or graph)", options.features)));
  auto form = parseHeadForm(options.form);
  if (!form) return reportError(form.error());
  auto pooling = parsePooling(options.pooling);
  if (!pooling) return reportError(pooling.error());
  auto irSource = parseIrSource(options.ir);
  if (!irSource) return reportError(irSource.error());
  if (options.platform != "all") {
    if (auto index = platformIndex(options.platform); !index) return reportError(index.error());
  }
  // Outer folds run in parallel, one head fit per thread.
  auto candidates = headCandidates(options.headKind, 1, options.candidates);
  if (!candidates) return reportError(candidates.error());
  options.method = resolvedMethod(options.method, *candidates, !options.candidates.empty());
  auto data =
      loadCoarsenData(options.data.empty() ? defaultCoarsenDirectory() : std::filesystem::path(options.data));
  if (!data) return reportError(data.error());
  configureThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  CacheHandle cache;
  if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return reportError(opened.error());
  auto embeddings = embedKernels(*data, *encoder, *irSource, {*modality}, cache.get(),
                                 static_cast<unsigned>(options.threads));
  if (!embeddings) return reportError(embeddings.error());
  std::vector<std::size_t> group = programGroups(*data, embeddings->irSha256);
  std::size_t fromFile = static_cast<std::size_t>(
      std::count(embeddings->fromIrFile.begin(), embeddings->fromIrFile.end(), true));

  std::vector<std::vector<float>> features = std::move(embeddings->vectors.front());
  if (options.magni) {
    auto magni = loadMagniFeatures(*data);
    if (!magni) return reportError(magni.error());
    for (std::size_t k = 0; k < features.size(); ++k)
      features[k].insert(features[k].end(), (*magni)[k].begin(), (*magni)[k].end());
  }
  std::vector<CurveCandidate> curveCandidates;
  if (options.method != "classifier" && !options.candidates.empty()) {
    // --candidates lists curve heads here: {"kind": "knn", "params": {"k": 3}}, ...
    for (const heads::Candidate& candidate : *candidates) {
      auto parsed = parseCurveCandidate(candidate);
      if (!parsed) return reportError(parsed.error().withContext(options.candidates));
      curveCandidates.push_back(std::move(*parsed));
    }
  } else if (options.method != "classifier") {
    curveCandidates = defaultCurveCandidates(options.method);
    if (curveCandidates.empty()) {
      return reportError(
          Error(ErrorCode::kUsage, fmt::format("unknown --method '{}' (classifier, prior, knn, regression, "
                                               "factor-head or auto)",
                                               options.method)));
    }
  }

  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.form = *form;
  evalOptions.pooling = *pooling;
  evalOptions.innerFolds = options.innerFolds;
  evalOptions.seed = options.seed;
  evalOptions.threads = static_cast<unsigned>(options.threads);
  heads::setTorchThreads(1);
  std::vector<std::size_t> platforms = selectedPlatforms(options.platform);
  ProgressLine progress("coarsen eval", data->kernels.size());
  auto result = curveCandidates.empty()
                    ? crossValidate(*data, features, group, platforms, evalOptions, &progress)
                    : crossValidateCurves(curveCandidates, *data, features, group, platforms,
                                          options.innerFolds, options.seed, evalOptions.threads, &progress);
  progress.finish();
  if (!result) return reportError(result.error());

  std::vector<std::string> shared = sharedPrograms(*data, group);
  if (!options.predictions.empty()) {
    std::string csv =
        "platform,kernel,oracle_factor,predicted_factor,clipped_factor,probability,speedup,oracle_speedup\n";
    for (std::size_t i = 0; i < platforms.size(); ++i) {
      for (std::size_t k = 0; k < data->kernels.size(); ++k) {
        const CoarsenKernel& kernel = data->kernels[k];
        int predicted = result->predicted[i][k];
        csv += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{:.6f}\n", kPlatforms[platforms[i]].name,
                           csvField(kernel.name), kernel.oracleFactor[platforms[i]], predicted,
                           kernel.clip(platforms[i], predicted), result->probability[i][k],
                           kernel.speedup(platforms[i], predicted), kernel.oracleSpeedup(platforms[i]));
      }
    }
    if (int status = writeOutput(options.predictions, csv); status != 0) return status;
  }
  if (options.json) {
    nlohmann::json report = result->toJson(*data);
    report["kernels"] = data->kernels.size();
    report["features"] = options.features;
    report["method"] = options.method;
    report["magni_features"] = options.magni;
    report["form"] = options.method == "classifier" ? nlohmann::json(options.form) : nlohmann::json(nullptr);
    report["pooling"] =
        options.method == "classifier" ? nlohmann::json(options.pooling) : nlohmann::json(nullptr);
    report["ir"] = options.ir;
    report["heads"] = options.candidates.empty() ? options.headKind : options.candidates;
    report["inner_folds"] = options.innerFolds;
    report["encoder"] = encoder->id();
    report["kernels_using_ll_file"] = fromFile;
    report["held_out_together"] = shared;
    return writeOutput(options.output, report.dump(2) + "\n");
  }

  std::string text = fmt::format(
      "thread coarsening, leave-one-kernel-out over {} kernels; held out together as one program: {}\n"
      "features {}{} (IR from {}; {} kernels use the data set's .ll), method {}, encoder {}\n"
      "mean speedup over coarsening factor 1 (arithmetic mean over kernels, as published)\n\n",
      data->kernels.size(), shared.empty() ? "none" : fmt::format("{}", fmt::join(shared, "; ")),
      options.features, options.magni ? " + Magni PCA1..PCA7" : "", options.ir, fromFile,
      options.method == "classifier"
          ? fmt::format("classifier (head form {}, {}, heads {})", options.form, options.pooling,
                        options.candidates.empty() ? options.headKind : options.candidates)
          : options.method + " (chosen by inner cross-validation per fold)",
      encoder->id());
  text += "| method |";
  for (std::size_t p : platforms) text += fmt::format(" {} |", kPlatforms[p].column);
  text += platforms.size() > 1 ? " mean |\n|---|" : "\n|---|";
  for (std::size_t i = 0; i < platforms.size() + (platforms.size() > 1 ? 1 : 0); ++i) text += "---|";
  text += "\n";
  for (const PublishedRow& row : kPublished) {
    text += fmt::format("| {} (published) |", row.method);
    for (std::size_t p : platforms) text += fmt::format(" {:.3f} |", row.speedup[p]);
    text += platforms.size() > 1 ? fmt::format(" {:.3f} |\n", row.mean) : "\n";
  }
  text += "| **mirtune** |";
  for (const Score& score : result->scores) text += fmt::format(" **{:.3f}** |", score.meanSpeedup);
  text += platforms.size() > 1 ? fmt::format(" **{:.3f}** |\n", result->meanSpeedup) : "\n";
  text += "\n";
  for (std::size_t i = 0; i < platforms.size(); ++i) {
    const Score& score = result->scores[i];
    text += fmt::format(
        "{:<8} speedup {:.3f}  geomean {:.3f}  oracle {:.3f}  {:.1f}% of oracle  best factor for {}/{}"
        "  with an oracle guard {:.3f}\n",
        kPlatforms[platforms[i]].name, score.meanSpeedup, score.geomeanSpeedup, score.oracleSpeedup,
        100 * score.fractionOfOracle, score.optimal, score.kernels, score.guardedSpeedup);
  }
  text +=
      "(oracle guard: factor 1 wherever the predicted factor is slower; no detector of harmful coarsening on "
      "top of "
      "these predictions can do better)\n";
  return writeOutput(options.output, text);
}


}  // namespace mirtune::cli
