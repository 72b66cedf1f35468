// `devmap eval` as a library call: features, embeddings and the per-platform cross-validation.
#include "tasks/devmap/EvalWorkflow.h"

#include "support/Log.h"
#include "support/Progress.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/devmap/Metrics.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <fmt/format.h>

namespace mirtune::devmap {

namespace {

// What the head sees: an encoder modality plus the auxiliary inputs, or the auxiliary inputs alone.
Expected<std::optional<Modality>> parseFeatures(const std::string& name) {
  if (name == "aux") return std::optional<Modality>();
  auto modality = parseModality(name);
  if (!modality) return makeError(ErrorCode::kUsage, "unknown --features '{}' (fused, tokens, graph or aux)", name);
  return std::optional<Modality>(*modality);
}

Expected<std::vector<std::size_t>> selectedPlatforms(const std::string& platform) {
  if (platform == "all") return std::vector<std::size_t>{0, 1};
  auto index = platformIndex(platform);
  if (!index) return index.error();
  return std::vector<std::size_t>{*index};
}

}  // namespace

Expected<EvalReport> evaluate(const EvalRequest& request) {
  auto modality = parseFeatures(request.features);
  if (!modality) return modality.error();
  auto irSource = parseIrSource(request.ir);
  if (!irSource) return irSource.error();
  auto candidates = headCandidates(request.headKind, request.threads, request.candidates);
  if (!candidates) return candidates.error();
  auto data = loadDevmapData(request.data.empty() ? defaultDevmapDirectory() : std::filesystem::path(request.data));
  if (!data) return data.error();
  auto rows = rowSet(*data, request.rows);
  if (!rows) return rows.error();
  auto platforms = selectedPlatforms(request.platform);
  if (!platforms) return platforms.error();
  configureThreads(request.threads);

  EvalReport report;
  report.request = request;
  std::optional<RowEmbeddings> embeddings;
  if (*modality) {
    auto encoder = Encoder::loadOrDefault(request.encoder);
    if (!encoder) return encoder.error();
    report.encoderId = encoder->id();
    CacheHandle cache;
    if (auto opened = openCache(cache, request.noCache, request.databasePath); !opened) return opened.error();
    auto embedded = embedRows(*data, *encoder, *irSource, {**modality}, cache.get(),
                              static_cast<unsigned>(request.threads));
    if (!embedded) return embedded.error();
    embeddings.emplace(std::move(*embedded));
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
  for (std::size_t platform : *platforms) {
    heads::FeatureMatrix matrix = rowFeatureMatrix(*data, platform, embeddings ? &embeddings->vectors.front() : nullptr);
    ProgressLine progress(fmt::format("eval {}", kPlatforms[platform].name), 10);
    auto result = crossValidate(*data, platform, *rows, matrix, evalOptions);
    progress.finish();
    if (!result) return result.error();
    for (std::size_t i = 0; i < result->rows.size(); ++i) {
      const DevmapRow& row = data->rows[result->rows[i]];
      report.predictions.push_back({platform, row.row, row.benchmark, row.dataset, row.fold[platform],
                                    row.oracle[platform], result->predicted[i], result->gpuProbability[i],
                                    speedupOverStatic(row, platform, result->predicted[i])});
    }
    report.platforms.push_back({platform, std::move(*result)});
  }
  return report;
}

}  // namespace mirtune::devmap
