// Embeddings of single loops: the fused embedding of each loop's IR slice and of its enclosing function.
#pragma once

#include "embeddings/BatchEmbed.h"
#include "tasks/unroll/UnrollModel.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mirtune::unroll {

struct LoopToEmbed {
  std::string key;  ///< loopKey(...)
  std::filesystem::path source;
  std::string function;
  int line = 0;
  std::vector<std::string> flags;  ///< compiler flags (-I, -D, -fopenmp)
};

/// An embedBatch source for the loop's slice (or, with `enclosing`, its function).
EmbedSource loopSliceSource(const LoopToEmbed& loop, bool enclosing);

/// Embeddings by key, cached. A loop whose source does not compile or slice is left out and named in `failed`
/// ("key: message"); an error of the encoder itself is the function's error.
struct EmbeddedLoops {
  std::map<std::string, LoopEmbedding> embeddings;
  std::vector<std::string> failed;
};
Expected<EmbeddedLoops> embedLoops(const Encoder& encoder, const std::vector<LoopToEmbed>& loops,
                                   EmbeddingCache* cache, unsigned threads = 2);

}  // namespace mirtune::unroll
