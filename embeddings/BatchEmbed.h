// Embedding many programs at once: compile and prepare in parallel, answer from a cache, run the forward passes
// in batches, and embed each distinct IR only once. No LibTorch in this header.
#pragma once

#include "embeddings/Encoder.h"
#include "frontend/IrModule.h"
#include "support/Error.h"
#include "support/Progress.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mirtune {

/// Where embeddings are kept between runs, keyed by (canonical IR SHA-256, embeddingCacheKey()).
class EmbeddingCache {
 public:
  virtual ~EmbeddingCache() = default;
  virtual std::optional<std::vector<float>> get(const std::string& irSha256, const std::string& key) = 0;
  virtual void put(const std::string& irSha256, const std::string& key, const std::vector<float>& vector) = 0;
};

/// "<encoder id>#<modality>": embeddings of different modalities never share a cache entry.
std::string embeddingCacheKey(const Encoder& encoder, Modality modality);

/// One program to embed: a name for messages and how to get its IR.
struct EmbedSource {
  std::string name;
  std::function<Expected<IrModule>()> compile;
};

struct EmbedResult {
  std::string irSha256;                     ///< empty when the program failed
  std::vector<std::vector<float>> vectors;  ///< one per requested modality, in the requested order
  std::optional<Error> error;               ///< why it failed (compile error names the file and line)
  bool fromCache = false;                   ///< every modality came from the cache
};

struct BatchEmbedOptions {
  std::vector<Modality> modalities{Modality::kFused};
  unsigned threads = 2;              ///< compile/prepare workers (forward passes use setEncoderThreads)
  std::size_t batchSize = 16;        ///< modules per forward pass
  std::size_t chunkSize = 64;        ///< modules compiled before embedding them (bounds memory)
  EmbeddingCache* cache = nullptr;   ///< optional
  ProgressLine* progress = nullptr;  ///< advanced once per source
};

/// Results line up with `sources`. A source that fails to compile or prepare gets an error and the others go
/// on; an error of the forward pass itself is returned as the function's error.
Expected<std::vector<EmbedResult>> embedBatch(const Encoder& encoder, const std::vector<EmbedSource>& sources,
                                              const BatchEmbedOptions& options);

}  // namespace mirtune
