// `devmap eval` as a library call: features, embeddings, the splits and the per-platform cross-validation.
#include "tasks/devmap/EvalWorkflow.h"

#include "ir/Ir2VecSymbolic.h"
#include "support/Log.h"
#include "support/Progress.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/devmap/Metrics.h"
#include "tasks/devmap/RowEmbeddings.h"
#include "tasks/devmap/RowIr2Vec.h"

#include <fmt/format.h>

#include <algorithm>

namespace mirtune::devmap {

namespace {

// What the head sees besides the auxiliary inputs.
enum class FeatureKind { kEncoder, kIr2Vec, kAux };

struct FeatureChoice {
  FeatureKind kind = FeatureKind::kAux;
  Modality modality = Modality::kFused;  ///< for kEncoder
};

Expected<FeatureChoice> parseFeatures(const std::string& name) {
  if (name == "aux") return FeatureChoice{FeatureKind::kAux};
  if (name == "ir2vec") return FeatureChoice{FeatureKind::kIr2Vec};
  auto modality = parseModality(name);
  if (!modality) {
    return makeError(ErrorCode::kUsage, "unknown --features '{}' (fused, tokens, graph, ir2vec or aux)",
                     name);
  }
  return FeatureChoice{FeatureKind::kEncoder, *modality};
}

// Folds of `split` that hold at least one of `rows`.
std::size_t usedFolds(const OuterSplit& split, const std::vector<std::size_t>& rows) {
  std::vector<bool> used(split.foldNames.size(), false);
  for (std::size_t r : rows) used[static_cast<std::size_t>(split.foldOfRow[r])] = true;
  return static_cast<std::size_t>(std::count(used.begin(), used.end(), true));
}

}  // namespace

Device PlatformEvaluation::bestFixedDevice() const {
  return alwaysGpu.meanSpeedup > alwaysCpu.meanSpeedup ? Device::kGpu : Device::kCpu;
}

Expected<EvalReport> evaluate(const EvalRequest& request) {
  auto features = parseFeatures(request.features);
  if (!features) return features.error();
  auto splits = parseSplits(request.split);
  if (!splits) return splits.error();
  auto irSource = parseIrSource(request.ir);
  if (!irSource) return irSource.error();
  auto candidates = headCandidates(request.headKind, request.threads, request.candidates);
  if (!candidates) return candidates.error();
  std::optional<Ir2VecVocabulary> vocabulary;
  if (features->kind == FeatureKind::kIr2Vec) {
    auto loaded = Ir2VecVocabulary::load(ir2vecVocabularyFile(request.ir2vecVocabulary));
    if (!loaded) return loaded.error();
    vocabulary.emplace(std::move(*loaded));
  }
  auto data = loadDevmapData(request.data.empty() ? defaultDevmapDirectory() : std::filesystem::path(request.data));
  if (!data) return data.error();
  auto rows = rowSet(*data, request.rows);
  if (!rows) return rows.error();
  auto platforms = platformIndices(request.platform);
  if (!platforms) return platforms.error();
  configureThreads(request.threads);

  EvalReport report;
  report.request = request;
  std::optional<RowEmbeddings> embeddings;
  if (features->kind == FeatureKind::kEncoder) {
    auto encoder = Encoder::loadOrDefault(request.encoder);
    if (!encoder) return encoder.error();
    report.encoderId = encoder->id();
    CacheHandle cache;
    if (auto opened = openCache(cache, request.noCache, request.databasePath); !opened) return opened.error();
    auto embedded = embedRows(*data, *encoder, *irSource, {features->modality}, cache.get(),
                              static_cast<unsigned>(request.threads));
    if (!embedded) return embedded.error();
    embeddings.emplace(std::move(*embedded));
  } else if (features->kind == FeatureKind::kIr2Vec) {
    report.encoderId = "ir2vec-symbolic:" + vocabulary->file().filename().string();
    auto vectors = ir2vecRows(*data, *vocabulary, *irSource, static_cast<unsigned>(request.threads));
    if (!vectors) return vectors.error();
    embeddings.emplace(std::move(*vectors));
  }
  if (embeddings) {
    logInfo("{} distinct programs; {} source texts did not compile with Clang 14 and use their .ll file",
            embeddings->distinctPrograms, embeddings->sourceFailures);
    std::size_t fromFile = 0;
    for (std::size_t r : *rows) fromFile += embeddings->fromIrFile[r] ? 1 : 0;
    report.rowsUsingLlFile = fromFile;
    report.sourceTextsNotCompiled = embeddings->sourceFailures;
  }

  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.seed = request.seed;
  const bool withAux = request.auxReference && embeddings.has_value();
  for (Split split : *splits) {
    SplitEvaluation splitEvaluation;
    splitEvaluation.split = split;
    for (std::size_t platform : *platforms) {
      auto folds = outerSplit(*data, platform, split, request.seed);
      if (!folds) return folds.error();
      splitEvaluation.folds = usedFolds(*folds, *rows);
      PlatformEvaluation evaluation;
      evaluation.platform = platform;
      heads::FeatureMatrix matrix =
          rowFeatureMatrix(*data, platform, embeddings ? &embeddings->vectors.front() : nullptr);
      ProgressLine progress(fmt::format("eval {} {}", splitName(split), kPlatforms[platform].name),
                            withAux ? 2 : 1);
      auto result = crossValidate(*data, platform, *rows, matrix, *folds, evalOptions);
      if (!result) return result.error();
      progress.advance();
      if (withAux) {
        auto aux = crossValidate(*data, platform, *rows, rowFeatureMatrix(*data, platform, nullptr), *folds,
                                 evalOptions);
        if (!aux) return aux.error().withContext("auxiliary-input reference");
        evaluation.aux = std::move(*aux);
        progress.advance();
      }
      progress.finish();
      evaluation.alwaysCpu =
          scoreMapping(*data, platform, *rows, std::vector<Device>(rows->size(), Device::kCpu));
      evaluation.alwaysGpu =
          scoreMapping(*data, platform, *rows, std::vector<Device>(rows->size(), Device::kGpu));
      for (std::size_t i = 0; i < result->rows.size(); ++i) {
        const DevmapRow& row = data->rows[result->rows[i]];
        report.predictions.push_back({platform, row.row, row.benchmark, row.dataset, split,
                                      folds->foldNames[static_cast<std::size_t>(result->rowFold[i])],
                                      row.oracle[platform], result->predicted[i], result->gpuProbability[i],
                                      speedupOverStatic(row, platform, result->predicted[i])});
      }
      evaluation.result = std::move(*result);
      splitEvaluation.platforms.push_back(std::move(evaluation));
    }
    report.splits.push_back(std::move(splitEvaluation));
  }
  return report;
}

}  // namespace mirtune::devmap
