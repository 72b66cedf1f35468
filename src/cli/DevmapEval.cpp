// `mirtune devmap eval`: the published 10-fold protocol over the data set, with the shipped encoder.
#include "tasks/common/DatabaseCache.h"
#include "cli/DevmapOptions.h"
#include "support/Csv.h"
#include "support/Log.h"
#include "tasks/devmap/Evaluate.h"
#include "tasks/devmap/RowEmbeddings.h"

#include <fmt/format.h>

namespace mirtune::cli {

namespace {

using namespace mirtune::devmap;

// What the head sees: an encoder modality plus the auxiliary inputs, or the auxiliary inputs alone.
struct FeatureChoice {
  std::string name;
  std::optional<Modality> modality;
};

Expected<FeatureChoice> parseFeatures(const std::string& name) {
  if (name == "aux") return FeatureChoice{name, std::nullopt};
  auto modality = parseModality(name);
  if (!modality) return makeError(ErrorCode::kUsage, "unknown --features '{}' (fused, tokens, graph or aux)", name);
  return FeatureChoice{name, *modality};
}

std::vector<std::size_t> selectedPlatforms(const std::string& platform) {
  if (platform == "all") return {0, 1};
  return {*platformIndex(platform)};
}

}  // namespace

int runDevmapEval(const DevmapEvalOptions& options, const GlobalOptions& global) {
  auto features = parseFeatures(options.features);
  if (!features) return reportError(features.error());
  auto irSource = parseIrSource(options.ir);
  if (!irSource) return reportError(irSource.error());
  auto candidates = headCandidates(options.headKind, options.threads, options.candidates);
  if (!candidates) return reportError(candidates.error());
  auto data = loadDevmapData(options.data.empty() ? defaultDevmapDirectory() : std::filesystem::path(options.data));
  if (!data) return reportError(data.error());
  auto rows = rowSet(*data, options.rows);
  if (!rows) return reportError(rows.error());
  configureThreads(options.threads);

  std::optional<RowEmbeddings> embeddings;
  std::string encoderId = "none";
  if (features->modality) {
    auto encoder = Encoder::loadOrDefault(options.encoder);
    if (!encoder) return reportError(encoder.error());
    encoderId = encoder->id();
    CacheHandle cache;
    if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return reportError(opened.error());
    auto embedded = embedRows(*data, *encoder, *irSource, {*features->modality}, cache.get(),
                              static_cast<unsigned>(options.threads));
    if (!embedded) return reportError(embedded.error());
    embeddings.emplace(std::move(*embedded));
    logInfo("{} distinct programs; {} source texts did not compile with Clang 14 and use their .ll file",
            embeddings->distinctPrograms, embeddings->sourceFailures);
  }

  EvalOptions evalOptions;
  evalOptions.candidates = *candidates;
  evalOptions.seed = options.seed;
  nlohmann::json report = {{"rows", std::stoi(options.rows)},
                           {"ir", options.ir},
                           {"features", options.features},
                           {"heads", options.headKind},
                           {"encoder", encoderId}};
  if (embeddings) {
    std::size_t fromFile = 0;
    for (std::size_t r : *rows) fromFile += embeddings->fromIrFile[r] ? 1 : 0;
    report["rows_using_ll_file"] = fromFile;
    report["source_texts_not_compiled"] = embeddings->sourceFailures;
  }
  std::string predictionsCsv = "platform,row,benchmark,dataset,fold,oracle,predicted,gpu_probability,speedup\n";
  std::string text;
  for (std::size_t platform : selectedPlatforms(options.platform)) {
    heads::FeatureMatrix matrix = rowFeatureMatrix(*data, platform, embeddings ? &embeddings->vectors.front() : nullptr);
    ProgressLine progress(fmt::format("eval {}", kPlatforms[platform].name), 10);
    auto result = crossValidate(*data, platform, *rows, matrix, evalOptions);
    progress.finish();
    if (!result) return reportError(result.error());
    report[std::string(kPlatforms[platform].name)] = result->toJson();
    text += fmt::format("{:<7} accuracy {:6.2f}%  mean speedup {:.3f}  geomean {:.3f}  ({} rows)\n",
                        kPlatforms[platform].name, 100 * result->score.accuracy, result->score.meanSpeedup,
                        result->score.geomeanSpeedup, result->score.rows);
    for (std::size_t i = 0; i < result->rows.size(); ++i) {
      const DevmapRow& row = data->rows[result->rows[i]];
      predictionsCsv += fmt::format("{},{},{},{},{},{},{},{:.6f},{:.6f}\n", kPlatforms[platform].name, row.row,
                                    csvField(row.benchmark), csvField(row.dataset), row.fold[platform],
                                    deviceName(row.oracle[platform]), deviceName(result->predicted[i]),
                                    result->gpuProbability[i], speedupOverStatic(row, platform, result->predicted[i]));
    }
  }
  if (!options.predictions.empty()) {
    if (int status = writeOutput(options.predictions, predictionsCsv); status != 0) return status;
  }
  if (options.json) return writeOutput(options.output, report.dump(2) + "\n");
  std::string header = fmt::format("device mapping, {} rows, features {} (IR from {}), heads {}, encoder {}\n",
                                   options.rows, options.features, options.ir, options.headKind, encoderId);
  if (report.contains("rows_using_ll_file")) {
    header += fmt::format("{} rows use the data set's .ll file ({} source texts Clang 14 does not compile)\n",
                          report["rows_using_ll_file"].get<std::size_t>(),
                          report["source_texts_not_compiled"].get<std::size_t>());
  }
  return writeOutput(options.output, header + text);
}

}  // namespace mirtune::cli
