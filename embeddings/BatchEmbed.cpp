// embedBatch: chunked parallel compile + prepare, cache lookups, batched forward passes, one embedding per IR.
#include "embeddings/BatchEmbed.h"

#include "support/Parallel.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace mirtune {

std::string embeddingCacheKey(const Encoder& encoder, Modality modality) {
  return fmt::format("{}#{}", encoder.id(), modalityName(modality));
}

Expected<std::vector<EmbedResult>> embedBatch(const Encoder& encoder, const std::vector<EmbedSource>& sources,
                                              const BatchEmbedOptions& options) {
  std::vector<EmbedResult> results(sources.size());
  std::vector<std::string> keys;
  for (Modality modality : options.modalities) keys.push_back(embeddingCacheKey(encoder, modality));
  // IR hash -> the result that holds its vectors (identical IR is embedded once).
  std::unordered_map<std::string, std::size_t> firstWithIr;
  const unsigned workers = std::max(1u, options.threads);
  const std::size_t chunkSize = std::max<std::size_t>(1, options.chunkSize);

  for (std::size_t chunkStart = 0; chunkStart < sources.size(); chunkStart += chunkSize) {
    const std::size_t chunkEnd = std::min(sources.size(), chunkStart + chunkSize);
    const std::size_t count = chunkEnd - chunkStart;
    std::vector<std::optional<Expected<IrModule>>> modules(count);
    parallelFor(count, workers, [&](std::size_t i) { modules[i].emplace(sources[chunkStart + i].compile()); });

    std::vector<std::size_t> toPrepare;  // chunk indices whose IR is new and not fully cached
    std::vector<std::size_t> duplicates;  // chunk indices whose IR another source holds
    for (std::size_t i = 0; i < count; ++i) {
      EmbedResult& result = results[chunkStart + i];
      Expected<IrModule>& module = *modules[i];
      if (!module) {
        result.error = module.error();
        continue;
      }
      result.irSha256 = module->irSha256();
      if (firstWithIr.count(result.irSha256) != 0) {
        duplicates.push_back(i);
        continue;
      }
      firstWithIr.emplace(result.irSha256, chunkStart + i);
      if (options.cache != nullptr) {
        std::vector<std::vector<float>> cached;
        for (std::size_t m = 0; m < keys.size(); ++m) {
          auto hit = options.cache->get(result.irSha256, keys[m]);
          if (!hit || hit->size() != encoder.dimension(options.modalities[m])) break;
          cached.push_back(std::move(*hit));
        }
        if (cached.size() == keys.size()) {
          result.vectors = std::move(cached);
          result.fromCache = true;
          continue;
        }
      }
      toPrepare.push_back(i);
    }

    std::vector<std::optional<Expected<EncoderInput>>> inputs(toPrepare.size());
    parallelFor(toPrepare.size(), workers, [&](std::size_t k) { inputs[k].emplace(encoder.prepare(**modules[toPrepare[k]])); });
    modules.clear();  // the IR is no longer needed; keep memory bounded by one chunk
    std::vector<EncoderInput> ready;
    std::vector<std::size_t> readyResults;
    for (std::size_t k = 0; k < toPrepare.size(); ++k) {
      EmbedResult& result = results[chunkStart + toPrepare[k]];
      if (!*inputs[k]) {
        result.error = inputs[k]->error().withContext(sources[chunkStart + toPrepare[k]].name);
        firstWithIr.erase(result.irSha256);
        result.irSha256.clear();
        continue;
      }
      ready.push_back(std::move(**inputs[k]));
      readyResults.push_back(chunkStart + toPrepare[k]);
    }
    for (std::size_t m = 0; m < options.modalities.size(); ++m) {
      auto vectors = encoder.embed(ready, options.modalities[m], options.batchSize);
      if (!vectors) return vectors.error();
      for (std::size_t k = 0; k < ready.size(); ++k) {
        EmbedResult& result = results[readyResults[k]];
        if (options.cache != nullptr) options.cache->put(result.irSha256, keys[m], (*vectors)[k]);
        result.vectors.push_back(std::move((*vectors)[k]));
      }
    }
    for (std::size_t i : duplicates) {
      EmbedResult& result = results[chunkStart + i];
      auto holder = firstWithIr.find(result.irSha256);
      if (holder == firstWithIr.end()) {  // the holder itself failed to prepare
        result.error = makeError(ErrorCode::kInvalidInput, "{}: its IR could not be prepared for the encoder",
                                 sources[chunkStart + i].name);
        result.irSha256.clear();
        continue;
      }
      result.vectors = results[holder->second].vectors;
      result.fromCache = results[holder->second].fromCache;
    }
    if (options.progress != nullptr) options.progress->advance(count);
  }
  return results;
}

}  // namespace mirtune
