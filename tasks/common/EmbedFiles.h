// Embedding many source or IR files with the encoder (`mirtune embed` as a library call): expand folders, compile
// and embed in batches through the embedding cache, and format or write the vectors.
#pragma once

#include "frontend/Frontend.h"
#include "support/Error.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

struct EmbedFilesRequest {
  std::vector<std::string> inputs;  ///< files, or folders searched for every known source or IR extension
  std::string modality = "fused";   ///< fused, tokens or graph
  std::string encoder;              ///< encoder folder; empty: the shipped encoder
  std::string databasePath;         ///< the embedding cache
  bool noCache = false;             ///< neither read nor write the embedding cache
  int threads = 2;                  ///< compile/prepare workers and the encoder's threads
  std::size_t batchSize = 16;       ///< modules per forward pass
  CompileOptions compile;           ///< -D/-I of the compiles
};

/// One embedded file.
struct EmbeddedFile {
  std::string file;
  std::string irSha256;
  std::vector<float> vector;
};

struct EmbedFilesResult {
  std::string modelId;
  std::string modality;
  std::size_t dimension = 0;
  std::vector<EmbeddedFile> files;  ///< the embedded ones, in input order
  std::size_t failed = 0;           ///< files that did not compile or embed (each logged)
  std::size_t cached = 0;           ///< embedded files read from the cache
  Status cacheStatus;               ///< the embedding cache's first read or write error, if any
};

/// Files named directly, then every file with a known extension below each folder (sorted); a folder without any
/// is logged. kUsage when nothing is left.
Expected<std::vector<std::filesystem::path>> expandEmbedInputs(const std::vector<std::string>& inputs);

/// Expands the inputs, loads the encoder, opens the cache, and embeds every file with a progress line on stderr
/// (failures logged and counted, a summary logged).
Expected<EmbedFilesResult> embedFiles(const EmbedFilesRequest& request);

/// The vectors as JSON {model, modality, dimension, embeddings: [{file, ir_sha256, vector}]} on one line, or as CSV
/// (file,ir_sha256,d0,...) for format "csv".
std::string formatEmbeddings(const EmbedFilesResult& result, const std::string& format);

/// Writes the vectors as a float32 .npy matrix at `path` and the file names, one a line, at `path`.files; the list
/// is written first and removed again when the matrix cannot be written, so no partial pair is left.
Status writeEmbeddingsNpy(const EmbedFilesResult& result, const std::filesystem::path& path);

}  // namespace mirtune
