// predictKernels: files compiled in parallel once, kernels extracted into their own modules, embedBatch,
// heads.
#include "tasks/devmap/Predict.h"

#include "support/Parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

namespace mirtune::devmap {

namespace {

// Answers queries whose files are all compiled together (one chunk of predictKernels).
Expected<std::vector<KernelPrediction>> predictChunk(const Encoder& encoder, const DevmapModel& model,
                                                     const std::vector<KernelQuery>& queries,
                                                     const PredictOptions& options) {
  // Distinct files, compiled once each; then the kernels asked of each file.
  std::map<std::string, std::size_t> fileIndex;
  std::vector<std::string> files;
  for (const KernelQuery& query : queries) {
    if (fileIndex.emplace(query.file, files.size()).second) files.push_back(query.file);
  }
  std::vector<std::optional<Expected<IrModule>>> compiled(files.size());
  parallelFor(files.size(), std::max(1u, options.threads),
              [&](std::size_t i) { compiled[i].emplace(compileFile(files[i], options.compile)); });

  // Expand queries into (file, kernel) predictions.
  std::vector<KernelPrediction> predictions;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const KernelQuery& query = queries[q];
    const Expected<IrModule>& module = *compiled[fileIndex[query.file]];
    KernelPrediction base;
    base.query = q;
    base.file = query.file;
    base.kernel = query.kernel;
    base.transferBytes = query.transferBytes;
    base.wgsize = query.wgsize;
    if (!module) {
      base.error = module.error();
      predictions.push_back(base);
      continue;
    }
    std::vector<std::string> kernels = module->kernelNames();
    if (kernels.empty()) {
      base.error = makeError(ErrorCode::kInvalidInput, "{}: no kernel in this file", query.file);
      predictions.push_back(base);
      continue;
    }
    if (!query.kernel.empty()) {
      if (std::find(kernels.begin(), kernels.end(), query.kernel) == kernels.end()) {
        base.error = makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})", query.file,
                               query.kernel, fmt::join(kernels, ", "));
      }
      predictions.push_back(base);
      continue;
    }
    for (const std::string& kernel : kernels) {
      KernelPrediction expanded = base;
      expanded.kernel = kernel;
      predictions.push_back(expanded);
    }
  }

  // One embedding source per distinct (file, kernel); a file with a single kernel is embedded whole.
  std::map<std::pair<std::string, std::string>, std::size_t> sourceIndex;
  std::vector<EmbedSource> sources;
  std::vector<std::size_t> sourceOf(predictions.size(), 0);
  for (std::size_t p = 0; p < predictions.size(); ++p) {
    KernelPrediction& prediction = predictions[p];
    if (prediction.error) continue;
    auto [it, inserted] =
        sourceIndex.emplace(std::make_pair(prediction.file, prediction.kernel), sources.size());
    sourceOf[p] = it->second;
    if (!inserted) continue;
    sources.push_back(
        kernelEmbedSource(&**compiled[fileIndex[prediction.file]], prediction.file, prediction.kernel));
  }
  BatchEmbedOptions batch;
  batch.modalities = {Modality::kFused};
  batch.threads = options.threads;
  batch.cache = options.cache;
  auto embedded = embedBatch(encoder, sources, batch);
  if (!embedded) return embedded.error();

  for (std::size_t p = 0; p < predictions.size(); ++p) {
    KernelPrediction& prediction = predictions[p];
    if (prediction.error) continue;
    const EmbedResult& result = (*embedded)[sourceOf[p]];
    if (result.error) {
      prediction.error = result.error;
      continue;
    }
    prediction.irSha256 = result.irSha256;
    auto answer =
        model.answer(options.platform, result.vectors.front(), prediction.transferBytes, prediction.wgsize);
    if (!answer) return answer.error();
    prediction.rawGpuProbability = answer->rawGpuProbability;
    if (answer->safe) {
      prediction.calibrated = true;
      prediction.gpuProbability = answer->safe->gpuProbability;
      prediction.device = answer->safe->device;
      prediction.novelty = answer->novelty;
      prediction.expectedSpeedup = answer->safe->expectedSpeedup;
      prediction.fallback = answer->safe->fallback;
      prediction.policy = std::string(policyName(answer->safe->policy));
    } else {
      prediction.gpuProbability = answer->rawGpuProbability;
      prediction.device = answer->rawGpuProbability > 0.5 ? Device::kGpu : Device::kCpu;
    }
  }
  return predictions;
}

}  // namespace

Expected<std::vector<KernelPrediction>> predictKernels(const Encoder& encoder, const DevmapModel& model,
                                                       const std::vector<KernelQuery>& queries,
                                                       const PredictOptions& options) {
  if (model.heads.count(options.platform) == 0) {
    return makeError(ErrorCode::kUsage, "{}: no head for platform '{}' (has: {})", model.directory.string(),
                     options.platform, fmt::join(model.platforms(), ", "));
  }
  // Files are handled in chunks (compiled, embedded, then released) so memory stays bounded by a chunk.
  constexpr std::size_t kFilesPerChunk = 64;
  std::map<std::string, std::vector<std::size_t>> queriesOfFile;
  std::vector<std::string> files;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    auto [it, inserted] = queriesOfFile.try_emplace(queries[q].file);
    if (inserted) files.push_back(queries[q].file);
    it->second.push_back(q);
  }
  std::vector<std::vector<KernelPrediction>> byQuery(queries.size());
  for (std::size_t start = 0; start < files.size(); start += kFilesPerChunk) {
    std::vector<KernelQuery> chunk;
    std::vector<std::size_t> original;
    for (std::size_t f = start; f < std::min(files.size(), start + kFilesPerChunk); ++f) {
      for (std::size_t q : queriesOfFile[files[f]]) {
        chunk.push_back(queries[q]);
        original.push_back(q);
      }
    }
    auto answered = predictChunk(encoder, model, chunk, options);
    if (!answered) return answered.error();
    for (KernelPrediction& prediction : *answered) {
      prediction.query = original[prediction.query];
      byQuery[prediction.query].push_back(std::move(prediction));
    }
    if (options.progress != nullptr)
      options.progress->advance(std::min(files.size(), start + kFilesPerChunk) - start);
  }
  std::vector<KernelPrediction> predictions;
  for (auto& answers : byQuery) {
    for (KernelPrediction& prediction : answers) predictions.push_back(std::move(prediction));
  }
  return predictions;
}

}  // namespace mirtune::devmap
