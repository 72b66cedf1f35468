// The embedding of an OpenMP program's parallel regions: its outlined regions and what they call, without
// main and the sequential code around them.
#pragma once

#include "embeddings/BatchEmbed.h"
#include "frontend/Frontend.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mirtune::omp {

/// Compiles a C/C++ file with OpenMP and keeps its parallel regions; kInvalidInput naming the file when it
/// has none.
Expected<IrModule> compileParallelRegions(const std::filesystem::path& source,
                                          const CompileOptions& options = {});

/// An embedBatch source for compileParallelRegions(source).
EmbedSource parallelRegionSource(const std::filesystem::path& source, const CompileOptions& options = {});

/// Fused embeddings of several named programs (name -> source), cached; the first failure is the error.
Expected<std::map<std::string, std::vector<float>>> embedPrograms(
    const Encoder& encoder, const std::vector<std::pair<std::string, std::filesystem::path>>& programs,
    EmbeddingCache* cache, unsigned threads = 2);

}  // namespace mirtune::omp
