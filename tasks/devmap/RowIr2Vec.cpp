// ir2vecRows: distinct programs compiled on a few threads, then one symbolic vector each.
#include "tasks/devmap/RowIr2Vec.h"

#include "frontend/Frontend.h"
#include "support/Log.h"
#include "support/Progress.h"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace mirtune::devmap {

Expected<RowEmbeddings> ir2vecRows(const DevmapData& data, const Ir2VecVocabulary& vocabulary,
                                   IrSource source, unsigned threads) {
  // Distinct (source text, .ll file) pairs, as embedRows: a text that does not compile falls back to its
  // row's file.
  std::map<std::pair<std::string, std::string>, std::size_t> programOf;
  std::vector<std::size_t> programOfRow;
  std::vector<const DevmapRow*> representative;
  for (const DevmapRow& row : data.rows) {
    std::pair<std::string, std::string> key{source == IrSource::kSource ? row.source : std::string(),
                                            row.irFile};
    auto [it, inserted] = programOf.emplace(std::move(key), representative.size());
    if (inserted) representative.push_back(&row);
    programOfRow.push_back(it->second);
  }
  const std::size_t count = representative.size();
  std::vector<std::vector<float>> vectors(count);
  std::vector<char> usedFile(count, 0);
  std::vector<std::optional<Error>> errors(count);
  std::map<std::string, std::size_t> missing;
  std::mutex missingMutex;
  Ir2VecSymbolic symbolic(vocabulary);
  CompileOptions options;
  options.language = Language::kOpenCl;
  ProgressLine progress("ir2vec devmap", count);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      const DevmapRow& row = *representative[i];
      Expected<IrModule> module = makeError(ErrorCode::kInternal, "not compiled");
      if (source == IrSource::kSource) {
        module = compileSource(row.source, row.benchmark + ".cl", options);
        if (!module) logDebug("{}: {}; using {}", row.benchmark, module.error().message(), row.irFile);
      }
      if (!module) {
        usedFile[i] = 1;
        module = compileFile(data.directory / row.irFile, CompileOptions{});
      }
      if (!module) {
        errors[i] = module.error().withContext("device-mapping row " + row.benchmark);
      } else {
        Ir2VecEmbedding embedding = symbolic.module(module->module());
        vectors[i] = std::move(embedding.vector);
        std::lock_guard<std::mutex> lock(missingMutex);
        for (const auto& [key, n] : embedding.missingKeys) missing[key] += n;
      }
      progress.advance();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  progress.finish();
  for (std::size_t i = 0; i < count; ++i) {
    if (errors[i]) return *errors[i];
  }
  for (const auto& [key, n] : missing) {
    logInfo("IR2Vec: {} operands or instructions of kind '{}' are not in {} and add nothing", n, key,
            vocabulary.file().string());
  }

  RowEmbeddings out;
  out.vectors.assign(1, {});
  out.distinctPrograms = count;
  if (source == IrSource::kSource) {
    std::map<std::string, bool> failedTexts;
    for (std::size_t i = 0; i < count; ++i) failedTexts[representative[i]->source] |= usedFile[i] != 0;
    for (const auto& [text, failed] : failedTexts) out.sourceFailures += failed ? 1 : 0;
  }
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    out.vectors[0].push_back(vectors[programOfRow[r]]);
    out.fromIrFile.push_back(usedFile[programOfRow[r]] != 0);
  }
  return out;
}

}  // namespace mirtune::devmap
