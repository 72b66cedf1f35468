// `coarsen eval`: the published leave-one-kernel-out protocol over the coarsening data set.
#include "tasks/coarsen/EvalWorkflow.h"

#include "embeddings/Encoder.h"
#include "frontend/Frontend.h"
#include "ir/Ir2VecSymbolic.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "tasks/coarsen/CoarsenCurves.h"
#include "tasks/coarsen/CoarsenModel.h"
#include "tasks/coarsen/KernelEmbeddings.h"
#include "tasks/coarsen/Workflows.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace mirtune::coarsen {

namespace {

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

// The method a command runs: the request's, else classifier for a candidates list of classifier heads (which
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

// IR2Vec symbolic vectors of every kernel, from the IR the encoder would embed (source, else the .ll file).
Expected<KernelEmbeddings> ir2vecKernels(const CoarsenData& data, const Ir2VecVocabulary& vocabulary,
                                         IrSource source) {
  Ir2VecSymbolic symbolic(vocabulary);
  CompileOptions options;
  options.language = Language::kOpenCl;
  KernelEmbeddings embeddings;
  embeddings.vectors.assign(1, {});
  std::map<std::string, std::size_t> missing;
  for (const CoarsenKernel& kernel : data.kernels) {
    Expected<IrModule> module = makeError(ErrorCode::kInternal, "not compiled");
    if (source == IrSource::kSource) module = compileSource(kernel.source, kernel.name + ".cl", options);
    bool fromFile = !module;
    if (fromFile) module = compileFile(data.directory / kernel.irFile, CompileOptions{});
    if (!module) return module.error().withContext("coarsening kernel " + kernel.name);
    Ir2VecEmbedding embedding = symbolic.module(module->module());
    for (const auto& [key, n] : embedding.missingKeys) missing[key] += n;
    embeddings.vectors[0].push_back(std::move(embedding.vector));
    embeddings.irSha256.push_back(module->irSha256());
    embeddings.fromIrFile.push_back(fromFile);
  }
  for (const auto& [key, n] : missing) {
    logInfo("IR2Vec: {} operands or instructions of kind '{}' are not in {} and add nothing", n, key,
            vocabulary.file().string());
  }
  return embeddings;
}

}  // namespace

Expected<EvaluationReport> evaluate(const EvaluationRequest& request) {
  EvaluationReport report;
  report.request = request;
  EvaluationRequest& options = report.request;
  const bool ir2vec = options.features == "ir2vec";
  auto modality = parseModality(ir2vec ? "fused" : options.features);
  if (!modality) {
    return Error(ErrorCode::kUsage,
                 fmt::format("unknown --features '{}' (fused, tokens, graph or ir2vec)", options.features));
  }
  std::optional<Ir2VecVocabulary> vocabulary;
  if (ir2vec) {
    auto loaded = Ir2VecVocabulary::load(ir2vecVocabularyFile(options.ir2vecVocabulary));
    if (!loaded) return loaded.error();
    vocabulary.emplace(std::move(*loaded));
  }
  auto form = parseHeadForm(options.form);
  if (!form) return form.error();
  auto pooling = parsePooling(options.pooling);
  if (!pooling) return pooling.error();
  auto irSource = parseIrSource(options.ir);
  if (!irSource) return irSource.error();
  if (options.platform != "all") {
    if (auto index = platformIndex(options.platform); !index) return index.error();
  }
  // Outer folds run in parallel, one head fit per thread.
  auto candidates = headCandidates(options.headKind, 1, options.candidates);
  if (!candidates) return candidates.error();
  options.method = resolvedMethod(options.method, *candidates, !options.candidates.empty());
  auto data =
      loadCoarsenData(options.data.empty() ? defaultCoarsenDirectory() : std::filesystem::path(options.data));
  if (!data) return data.error();
  report.data = std::move(*data);
  KernelEmbeddings embeddings;
  std::vector<std::size_t> group;
  if (ir2vec) {
    auto vectors = ir2vecKernels(report.data, *vocabulary, *irSource);
    if (!vectors) return vectors.error();
    embeddings = std::move(*vectors);
    group = programGroups(report.data, embeddings.irSha256);
    report.encoderId = "ir2vec-symbolic:" + vocabulary->file().filename().string();
  } else {
    auto encoded = encodeDataSet(report.data, options.encoder, *irSource, *modality, options.noCache,
                                 options.databasePath, options.threads);
    if (!encoded) return encoded.error();
    report.encoderId = encoded->encoder.id();
    embeddings = std::move(encoded->embeddings);
    group = std::move(encoded->group);
  }
  report.kernelsUsingLlFile = static_cast<std::size_t>(
      std::count(embeddings.fromIrFile.begin(), embeddings.fromIrFile.end(), true));

  std::vector<std::vector<float>> features = std::move(embeddings.vectors.front());
  if (options.magni) {
    auto magni = loadMagniFeatures(report.data);
    if (!magni) return magni.error();
    for (std::size_t k = 0; k < features.size(); ++k)
      features[k].insert(features[k].end(), (*magni)[k].begin(), (*magni)[k].end());
  }
  std::vector<CurveCandidate> curveCandidates;
  if (options.method != "classifier" && !options.candidates.empty()) {
    // The candidates file lists curve heads here: {"kind": "knn", "params": {"k": 3}}, ...
    for (const heads::Candidate& candidate : *candidates) {
      auto parsed = parseCurveCandidate(candidate);
      if (!parsed) return parsed.error().withContext(options.candidates);
      curveCandidates.push_back(std::move(*parsed));
    }
  } else if (options.method != "classifier") {
    curveCandidates = defaultCurveCandidates(options.method);
    if (curveCandidates.empty()) {
      return Error(ErrorCode::kUsage, fmt::format("unknown --method '{}' (classifier, prior, knn, regression, "
                                                  "factor-head or auto)",
                                                  options.method));
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
  report.platforms = selectedPlatforms(options.platform);
  ProgressLine progress("coarsen eval", report.data.kernels.size());
  auto result = curveCandidates.empty()
                    ? crossValidate(report.data, features, group, report.platforms, evalOptions, &progress)
                    : crossValidateCurves(curveCandidates, report.data, features, group, report.platforms,
                                          options.innerFolds, options.seed, evalOptions.threads, &progress);
  progress.finish();
  if (!result) return result.error();
  report.result = std::move(*result);
  report.heldOutTogether = sharedPrograms(report.data, group);
  return report;
}

}  // namespace mirtune::coarsen
