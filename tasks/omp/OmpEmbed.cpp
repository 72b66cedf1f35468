// Parallel-region extraction and batch embedding of OpenMP programs.
#include "tasks/omp/OmpEmbed.h"

#include <fmt/format.h>

namespace mirtune::omp {

Expected<IrModule> compileParallelRegions(const std::filesystem::path& source,
                                          const CompileOptions& options) {
  auto module = compileFile(source, options);
  if (!module) return module.error();
  const std::vector<std::string> regions = module->kernelNames();
  if (regions.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: no OpenMP parallel region (nothing for `#pragma omp parallel` to tune)",
                             source.string()));
  }
  return extractKernels(*module, regions, ExtractScope::kReachable);
}

EmbedSource parallelRegionSource(const std::filesystem::path& source, const CompileOptions& options) {
  return {source.string(), [source, options]() { return compileParallelRegions(source, options); }};
}

Expected<std::map<std::string, std::vector<float>>> embedPrograms(
    const Encoder& encoder, const std::vector<std::pair<std::string, std::filesystem::path>>& programs,
    EmbeddingCache* cache, unsigned threads) {
  std::vector<EmbedSource> sources;
  for (const auto& [name, path] : programs) sources.push_back(parallelRegionSource(path));
  BatchEmbedOptions options;
  options.modalities = {Modality::kFused};
  options.threads = threads;
  options.cache = cache;
  auto embedded = embedBatch(encoder, sources, options);
  if (!embedded) return embedded.error();
  std::map<std::string, std::vector<float>> result;
  for (std::size_t i = 0; i < programs.size(); ++i) {
    const EmbedResult& r = (*embedded)[i];
    if (r.error) return *r.error;
    result[programs[i].first] = r.vectors.front();
  }
  return result;
}

}  // namespace mirtune::omp
