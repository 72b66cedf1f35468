// Loop-slice embedding through embedBatch.
#include "tasks/unroll/UnrollEmbed.h"

#include "frontend/LoopSlice.h"
#include "support/Log.h"

#include <fmt/format.h>

namespace mirtune::unroll {

EmbedSource loopSliceSource(const LoopToEmbed& loop, bool enclosing) {
  return {fmt::format("{}:{}{}", loop.source.string(), loop.line, enclosing ? " (function)" : ""),
          [loop, enclosing]() -> Expected<IrModule> {
            CompileOptions options;
            options.extraArguments = loop.flags;
            auto module = compileForLoopSlices(loop.source, options);
            if (!module) return module.error();
            auto slice = sliceLoop(*module, loop.function, loop.line);
            if (!slice) return slice.error();
            if (!slice->matched && !enclosing)
              logInfo("{}:{}: {}", loop.source.string(), loop.line, slice->note);
            return enclosing ? std::move(slice->enclosing) : std::move(slice->loop);
          }};
}

Expected<EmbeddedLoops> embedLoops(const Encoder& encoder, const std::vector<LoopToEmbed>& loops,
                                   EmbeddingCache* cache, unsigned threads) {
  std::vector<EmbedSource> sources;
  for (const auto& loop : loops) {
    sources.push_back(loopSliceSource(loop, false));
    sources.push_back(loopSliceSource(loop, true));
  }
  BatchEmbedOptions options;
  options.modalities = {Modality::kFused};
  options.threads = threads;
  options.cache = cache;
  auto embedded = embedBatch(encoder, sources, options);
  if (!embedded) return embedded.error();
  EmbeddedLoops result;
  for (std::size_t i = 0; i < loops.size(); ++i) {
    const EmbedResult& loop = (*embedded)[2 * i];
    const EmbedResult& function = (*embedded)[2 * i + 1];
    if (loop.error || function.error) {
      result.failed.push_back(
          fmt::format("{}: {}", loops[i].key, (loop.error ? *loop.error : *function.error).message()));
      continue;
    }
    result.embeddings[loops[i].key] = {loop.vectors.front(), function.vectors.front()};
  }
  return result;
}

}  // namespace mirtune::unroll
