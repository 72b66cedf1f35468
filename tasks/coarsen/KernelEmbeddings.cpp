// embedKernels: one EmbedSource per kernel, source text first with a fall-back to the data set's .ll file.
#include "tasks/coarsen/KernelEmbeddings.h"

#include "frontend/Frontend.h"
#include "support/Log.h"
#include "tasks/common/DatabaseCache.h"
#include "tasks/common/HeadCandidates.h"

#include <atomic>
#include <memory>
#include <numeric>

namespace mirtune::coarsen {

Expected<KernelEmbeddings> embedKernels(const CoarsenData& data, const Encoder& encoder, IrSource source,
                                        const std::vector<Modality>& modalities, EmbeddingCache* cache,
                                        unsigned threads) {
  auto usedFile = std::make_shared<std::vector<std::atomic<bool>>>(data.kernels.size());
  CompileOptions options;
  options.language = Language::kOpenCl;
  std::vector<EmbedSource> sources;
  for (std::size_t k = 0; k < data.kernels.size(); ++k) {
    const CoarsenKernel* kernel = &data.kernels[k];
    std::filesystem::path irFile = data.directory / kernel->irFile;
    sources.push_back({kernel->name, [kernel, irFile, source, options, usedFile, k]() -> Expected<IrModule> {
                         if (source == IrSource::kSource) {
                           auto module = compileSource(kernel->source, kernel->name + ".cl", options);
                           if (module) return module;
                           logDebug("{}: {}; using {}", kernel->name, module.error().message(), irFile.string());
                         }
                         (*usedFile)[k] = true;
                         return compileFile(irFile, CompileOptions{});
                       }});
  }
  BatchEmbedOptions batch;
  batch.modalities = modalities;
  batch.threads = threads;
  batch.cache = cache;
  auto results = embedBatch(encoder, sources, batch);
  if (!results) return results.error();
  KernelEmbeddings out;
  out.modalities = modalities;
  out.vectors.assign(modalities.size(), {});
  for (std::size_t k = 0; k < results->size(); ++k) {
    const EmbedResult& result = (*results)[k];
    if (result.error) return result.error->withContext("coarsening kernel " + data.kernels[k].name);
    for (std::size_t m = 0; m < modalities.size(); ++m) out.vectors[m].push_back(result.vectors[m]);
    out.irSha256.push_back(result.irSha256);
    out.fromIrFile.push_back((*usedFile)[k]);
  }
  return out;
}

std::vector<std::size_t> programGroups(const CoarsenData& data, const std::vector<std::string>& irSha256) {
  std::vector<std::size_t> group(data.kernels.size());
  std::iota(group.begin(), group.end(), 0);
  // Kernels are few: relabel until nothing changes (each pass joins every equal pair into the lower label).
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t a = 0; a < group.size(); ++a) {
      for (std::size_t b = a + 1; b < group.size(); ++b) {
        bool same = data.kernels[a].irFileSha256 == data.kernels[b].irFileSha256 ||
                    (a < irSha256.size() && b < irSha256.size() && !irSha256[a].empty() && irSha256[a] == irSha256[b]);
        if (same && group[a] != group[b]) {
          std::size_t low = std::min(group[a], group[b]), high = std::max(group[a], group[b]);
          for (std::size_t& g : group) g = g == high ? low : g;
          changed = true;
        }
      }
    }
  }
  return group;
}

Expected<EncodedKernels> encodeDataSet(const CoarsenData& data, const std::string& encoderDirectory, IrSource source,
                                       Modality modality, bool noCache, const std::string& databasePath, int threads) {
  configureThreads(threads);
  auto encoder = Encoder::loadOrDefault(encoderDirectory);
  if (!encoder) return encoder.error();
  CacheHandle cache;
  if (Status opened = openCache(cache, noCache, databasePath); !opened) return opened.error();
  auto embeddings = embedKernels(data, *encoder, source, {modality}, cache.get(), static_cast<unsigned>(threads));
  if (!embeddings) return embeddings.error();
  std::vector<std::size_t> group = programGroups(data, embeddings->irSha256);
  return EncodedKernels{std::move(*encoder), std::move(*embeddings), std::move(group)};
}

}  // namespace mirtune::coarsen
