// Embedding many source or IR files with the encoder, through the database's embedding cache.
#include "tasks/common/EmbedFiles.h"

#include "embeddings/BatchEmbed.h"
#include "embeddings/Encoder.h"
#include "frontend/Language.h"
#include "support/Csv.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Npy.h"
#include "support/Progress.h"
#include "tasks/common/DatabaseCache.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace mirtune {

namespace fs = std::filesystem;

Expected<std::vector<fs::path>> expandEmbedInputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(input, ec)) {
        if (entry.is_regular_file() && languageFromExtension(entry.path().extension().string())) {
          found.push_back(entry.path());
        }
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) logWarn("{}: no source or IR files in this folder", input);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.emplace_back(input);
    }
  }
  if (files.empty()) return makeError(ErrorCode::kUsage, "no files to embed");
  return files;
}

Expected<EmbedFilesResult> embedFiles(const EmbedFilesRequest& request) {
  auto modality = parseModality(request.modality);
  if (!modality) return makeError(ErrorCode::kUsage, "unknown modality '{}' (fused, tokens or graph)", request.modality);
  auto files = expandEmbedInputs(request.inputs);
  if (!files) return files.error();
  setEncoderThreads(request.threads);
  auto encoder = Encoder::loadOrDefault(request.encoder);
  if (!encoder) return encoder.error();
  CacheHandle cache;
  if (auto opened = openCache(cache, request.noCache, request.databasePath); !opened) return opened.error();

  std::vector<EmbedSource> sources;
  const CompileOptions& compile = request.compile;
  for (const fs::path& file : *files) {
    sources.push_back({file.string(), [file, &compile] { return compileFile(file, compile); }});
  }
  ProgressLine progress("embed", files->size());
  BatchEmbedOptions batch;
  batch.modalities = {*modality};
  batch.threads = static_cast<unsigned>(std::max(1, request.threads));
  batch.batchSize = request.batchSize;
  batch.chunkSize = std::max<std::size_t>(64, 4 * request.batchSize);
  batch.cache = cache.get();
  batch.progress = &progress;
  auto results = embedBatch(*encoder, sources, batch);
  if (!results) return results.error();
  progress.finish();

  EmbedFilesResult out;
  out.modelId = encoder->id();
  out.modality = request.modality;
  out.dimension = encoder->dimension(*modality);
  for (std::size_t i = 0; i < results->size(); ++i) {
    EmbedResult& result = (*results)[i];
    if (result.error) {
      logError("{}", result.error->message());
      ++out.failed;
      continue;
    }
    out.cached += result.fromCache ? 1 : 0;
    out.files.push_back({(*files)[i].string(), result.irSha256, std::move(result.vectors.front())});
  }
  logInfo("{} embedded ({} from the cache), {} failed; model {}", out.files.size(), out.cached, out.failed,
          out.modelId);
  out.cacheStatus = cache.status();
  return out;
}

std::string formatEmbeddings(const EmbedFilesResult& result, const std::string& format) {
  if (format == "csv") {
    std::string out = "file,ir_sha256";
    for (std::size_t i = 0; i < result.dimension; ++i) out += fmt::format(",d{}", i);
    out += '\n';
    for (const EmbeddedFile& row : result.files) {
      out += csvField(row.file) + "," + row.irSha256;
      for (float value : row.vector) out += fmt::format(",{}", value);
      out += '\n';
    }
    return out;
  }
  nlohmann::json embeddings = nlohmann::json::array();
  for (const EmbeddedFile& row : result.files) {
    embeddings.push_back({{"file", row.file}, {"ir_sha256", row.irSha256}, {"vector", row.vector}});
  }
  return nlohmann::json{{"model", result.modelId}, {"modality", result.modality}, {"dimension", result.dimension},
                        {"embeddings", embeddings}}
             .dump() +
         "\n";
}

Status writeEmbeddingsNpy(const EmbedFilesResult& result, const fs::path& path) {
  std::vector<std::vector<float>> vectors;
  std::string list;
  for (const EmbeddedFile& row : result.files) {
    vectors.push_back(row.vector);
    list += row.file + "\n";
  }
  const fs::path listPath = path.string() + ".files";
  if (auto written = writeFileAtomically(listPath, list); !written) return written.error();
  if (auto written = writeFileAtomically(path, npyFloat32Matrix(vectors, result.dimension)); !written) {
    std::error_code ignored;
    fs::remove(listPath, ignored);
    return written.error();
  }
  return {};
}

}  // namespace mirtune
