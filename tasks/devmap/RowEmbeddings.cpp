// embedRows: one EmbedSource per distinct program text, compiled from source with a fall-back to the .ll file.
#include "tasks/devmap/RowEmbeddings.h"

#include "frontend/Frontend.h"
#include "support/Log.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"
#include "tasks/devmap/Features.h"

#include <atomic>
#include <map>
#include <memory>

namespace mirtune::devmap {

std::vector<float> rowFeatures(const std::vector<float>& embedding, double transferBytes, double wgsize) {
  std::vector<float> features = embedding;
  for (const AuxFeature& feature : kAuxFeatures) features.push_back(static_cast<float>(feature.value(transferBytes, wgsize)));
  return features;
}

Expected<RowEmbeddings> embedRows(const DevmapData& data, const Encoder& encoder, IrSource source,
                                  const std::vector<Modality>& modalities, EmbeddingCache* cache, unsigned threads) {
  // Distinct (source text, .ll file) pairs: the compile of a text that fails falls back to that row's file.
  std::map<std::pair<std::string, std::string>, std::size_t> programOf;
  std::vector<std::size_t> programOfRow;
  std::vector<const DevmapRow*> representative;
  for (const DevmapRow& row : data.rows) {
    std::pair<std::string, std::string> key{source == IrSource::kSource ? row.source : std::string(), row.irFile};
    auto [it, inserted] = programOf.emplace(std::move(key), representative.size());
    if (inserted) representative.push_back(&row);
    programOfRow.push_back(it->second);
  }
  auto usedFile = std::make_shared<std::vector<std::atomic<bool>>>(representative.size());
  std::vector<EmbedSource> sources;
  CompileOptions options;
  options.language = Language::kOpenCl;
  for (std::size_t i = 0; i < representative.size(); ++i) {
    const DevmapRow* row = representative[i];
    std::filesystem::path irFile = data.directory / row->irFile;
    sources.push_back({row->benchmark, [row, irFile, source, options, usedFile, i]() -> Expected<IrModule> {
                         if (source == IrSource::kSource) {
                           auto module = compileSource(row->source, row->benchmark + ".cl", options);
                           if (module) return module;
                           logDebug("{}: {}; using {}", row->benchmark, module.error().message(), irFile.string());
                         }
                         (*usedFile)[i] = true;
                         return compileFile(irFile, CompileOptions{});
                       }});
  }
  BatchEmbedOptions batch;
  batch.modalities = modalities;
  batch.threads = threads;
  batch.cache = cache;
  ProgressLine progress("embed devmap", sources.size());
  batch.progress = &progress;
  auto results = embedBatch(encoder, sources, batch);
  if (!results) return results.error();
  progress.finish();

  RowEmbeddings out;
  out.modalities = modalities;
  out.vectors.assign(modalities.size(), {});
  std::map<std::string, int> distinct;
  for (std::size_t i = 0; i < results->size(); ++i) {
    const EmbedResult& result = (*results)[i];
    if (result.error) return result.error->withContext("device-mapping row " + representative[i]->benchmark);
    distinct[result.irSha256] = 1;
  }
  out.distinctPrograms = distinct.size();
  if (source == IrSource::kSource) {
    std::map<std::string, bool> failedTexts;
    for (std::size_t i = 0; i < representative.size(); ++i) failedTexts[representative[i]->source] |= (*usedFile)[i];
    for (const auto& [text, failed] : failedTexts) out.sourceFailures += failed ? 1 : 0;
  }
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    const EmbedResult& result = (*results)[programOfRow[r]];
    for (std::size_t m = 0; m < modalities.size(); ++m) out.vectors[m].push_back(result.vectors[m]);
    out.fromIrFile.push_back((*usedFile)[programOfRow[r]]);
  }
  return out;
}

Expected<FusedRows> loadFusedRows(const std::string& dataFolder, const std::string& encoder, IrSource source,
                                  bool noCache, const std::string& databasePath, int threads) {
  auto data = loadDevmapData(dataFolder.empty() ? defaultDevmapDirectory() : std::filesystem::path(dataFolder));
  if (!data) return data.error();
  configureThreads(threads);
  auto loaded = Encoder::loadOrDefault(encoder);
  if (!loaded) return loaded.error();
  CacheHandle cache;
  if (Status opened = openCache(cache, noCache, databasePath); !opened) return opened.error();
  auto embeddings =
      embedRows(*data, *loaded, source, {Modality::kFused}, cache.get(), static_cast<unsigned>(threads));
  if (!embeddings) return embeddings.error();
  if (Status cached = cache.status(); !cached) logWarn("{}", cached.error().message());
  return FusedRows{std::move(*data), std::move(*loaded), std::move(*embeddings)};
}

}  // namespace mirtune::devmap
