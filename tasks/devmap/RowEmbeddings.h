// Program embeddings of the device-mapping rows: each row's kernel compiled by mirtune's front end from the data
// set's OpenCL source (the NCC .ll file where Clang 14 cannot compile it), or the NCC .ll files throughout.
#pragma once

#include "embeddings/BatchEmbed.h"
#include "tasks/common/KernelSources.h"
#include "tasks/devmap/DevmapData.h"

#include <string>
#include <string_view>
#include <vector>

namespace mirtune::devmap {

// IrSource (tasks/common/KernelSources.h): the `src` column compiled, or NCC's .ll file of each row.
using mirtune::IrSource;
using mirtune::irSourceName;
using mirtune::parseIrSource;

struct RowEmbeddings {
  std::vector<Modality> modalities;
  std::vector<std::vector<std::vector<float>>> vectors;  ///< [modality][row], rows as in data.rows
  std::vector<bool> fromIrFile;                          ///< row used its .ll file
  std::size_t distinctPrograms = 0;                      ///< distinct canonical IR among the rows
  std::size_t sourceFailures = 0;                        ///< distinct `src` texts Clang 14 could not compile
};

/// Embeds every row (each distinct program once). Fails if a row can be embedded neither way.
Expected<RowEmbeddings> embedRows(const DevmapData& data, const Encoder& encoder, IrSource source,
                                  const std::vector<Modality>& modalities, EmbeddingCache* cache, unsigned threads);

/// The data set, the encoder and every row's fused embedding, as `devmap train` and the safe-decision evaluation
/// read them.
struct FusedRows {
  DevmapData data;
  Encoder encoder;
  RowEmbeddings embeddings;
};

/// Loads the data set from `dataFolder` (empty: defaultDevmapDirectory()) and embeds its rows with the encoder
/// folder `encoder` (empty: the shipped one) on `threads` threads, through the embedding cache of `databasePath`
/// unless `noCache` (a cache that fails to write is a warning).
Expected<FusedRows> loadFusedRows(const std::string& dataFolder, const std::string& encoder, IrSource source,
                                  bool noCache, const std::string& databasePath, int threads);

/// Features of one row: the embedding, then kAuxFeatures.
std::vector<float> rowFeatures(const std::vector<float>& embedding, double transferBytes, double wgsize);

}  // namespace mirtune::devmap
