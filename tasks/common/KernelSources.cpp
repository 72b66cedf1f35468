// Kernels as the tasks embed them: extraction from a compiled file, and the kernels of local measurements.
#include "tasks/common/KernelSources.h"

#include "support/Parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

namespace mirtune {

Expected<IrSource> parseIrSource(std::string_view name) {
  if (name == "source") return IrSource::kSource;
  if (name == "dataset") return IrSource::kDataset;
  return makeError(ErrorCode::kUsage, "unknown IR source '{}' (source or dataset)", name);
}

std::string_view irSourceName(IrSource source) { return source == IrSource::kSource ? "source" : "dataset"; }

EmbedSource kernelEmbedSource(IrModule* module, const std::string& file, const std::string& kernel) {
  if (module->kernelNames().size() == 1) {
    return {file, [module]() -> Expected<IrModule> { return std::move(*module); }};
  }
  // Extraction reads the shared module; LLVM contexts are not thread-safe, so extractions take turns.
  return {file + ":" + kernel, [module, kernel]() -> Expected<IrModule> {
            static std::mutex lock;
            std::lock_guard<std::mutex> guard(lock);
            return extractKernel(*module, kernel);
          }};
}

std::vector<std::string> buildOptionDefines(const std::string& buildOptions) {
  std::vector<std::string> defines;
  std::istringstream words(buildOptions);
  std::string word;
  bool nextIsDefine = false;
  while (words >> word) {
    if (nextIsDefine) {
      defines.push_back(word);
      nextIsDefine = false;
    } else if (word == "-D") {
      nextIsDefine = true;
    } else if (word.rfind("-D", 0) == 0) {
      defines.push_back(word.substr(2));
    }
  }
  return defines;
}

Expected<std::vector<std::vector<float>>> embedLocalKernels(const Encoder& encoder,
                                                            const std::vector<LocalKernel>& kernels,
                                                            const CompileOptions& compile,
                                                            EmbeddingCache* cache, unsigned threads) {
  // Distinct (source, defines) compiled once; distinct kernels of each embedded once.
  using Build = std::pair<std::string, std::vector<std::string>>;
  std::map<Build, std::size_t> buildIndex;
  std::vector<Build> builds;
  for (const LocalKernel& row : kernels) {
    Build build{row.source.string(), row.defines};
    if (buildIndex.emplace(build, builds.size()).second) builds.push_back(build);
  }
  std::vector<std::optional<Expected<IrModule>>> compiled(builds.size());
  parallelFor(builds.size(), std::max(1u, threads), [&](std::size_t i) {
    CompileOptions options = compile;
    options.defines.insert(options.defines.end(), builds[i].second.begin(), builds[i].second.end());
    compiled[i].emplace(compileFile(builds[i].first, options));
  });
  for (std::size_t i = 0; i < builds.size(); ++i) {
    if (!*compiled[i]) return compiled[i]->error();
  }

  std::map<std::pair<std::size_t, std::string>, std::size_t> sourceIndex;
  std::vector<EmbedSource> sources;
  std::vector<std::size_t> sourceOf(kernels.size(), 0);
  for (std::size_t r = 0; r < kernels.size(); ++r) {
    std::size_t build = buildIndex[{kernels[r].source.string(), kernels[r].defines}];
    auto [it, inserted] = sourceIndex.emplace(std::make_pair(build, kernels[r].kernel), sources.size());
    sourceOf[r] = it->second;
    if (!inserted) continue;
    IrModule* module = &**compiled[build];
    const std::string kernel = kernels[r].kernel;
    const std::vector<std::string> names = module->kernelNames();
    if (std::find(names.begin(), names.end(), kernel) == names.end()) {
      return makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})",
                       kernels[r].source.string(), kernel, fmt::join(names, ", "));
    }
    sources.push_back(kernelEmbedSource(module, kernels[r].source.string(), kernel));
  }
  BatchEmbedOptions batch;
  batch.modalities = {Modality::kFused};
  batch.threads = threads;
  batch.cache = cache;
  auto embedded = embedBatch(encoder, sources, batch);
  if (!embedded) return embedded.error();
  std::vector<std::vector<float>> vectors;
  for (std::size_t r = 0; r < kernels.size(); ++r) {
    const EmbedResult& result = (*embedded)[sourceOf[r]];
    if (result.error) return *result.error;
    vectors.push_back(result.vectors.front());
  }
  return vectors;
}

}  // namespace mirtune
