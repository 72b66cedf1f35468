// Program embeddings of the coarsening kernels: compiled by mirtune's front end from the data set's OpenCL source
// (NCC's .ll file where Clang 14 cannot compile it), or NCC's .ll files throughout.
#pragma once

#include "embeddings/BatchEmbed.h"
#include "tasks/coarsen/CoarsenData.h"
#include "tasks/common/KernelSources.h"

#include <string>
#include <vector>

namespace mirtune::coarsen {


struct KernelEmbeddings {
  std::vector<Modality> modalities;
  std::vector<std::vector<std::vector<float>>> vectors;  ///< [modality][kernel], kernels as in data.kernels
  std::vector<std::string> irSha256;                     ///< canonical IR hash of what was embedded, per kernel
  std::vector<bool> fromIrFile;                          ///< the kernel's source did not compile: its .ll was used
};

/// Embeds every kernel of the data set; fails naming the kernel when one can be embedded neither way.
Expected<KernelEmbeddings> embedKernels(const CoarsenData& data, const Encoder& encoder, IrSource source,
                                        const std::vector<Modality>& modalities, EmbeddingCache* cache,
                                        unsigned threads);

/// What training and evaluation start from: the encoder (`encoderDirectory`, or the shipped one) and every kernel
/// of `data` embedded in `modality` through the database's embedding cache (none with `noCache`), with its program
/// groups. Sets the encoder's and the heads' threads to `threads` first.
struct EncodedKernels {
  Encoder encoder;
  KernelEmbeddings embeddings;
  std::vector<std::size_t> group;  ///< programGroups of the embedded kernels
};
Expected<EncodedKernels> encodeDataSet(const CoarsenData& data, const std::string& encoderDirectory, IrSource source,
                                       Modality modality, bool noCache, const std::string& databasePath, int threads);

/// Groups of kernels that are one program: byte-identical IR files or the same canonical IR once embedded (the
/// union of both). group[k] is the smallest kernel index of k's group.
std::vector<std::size_t> programGroups(const CoarsenData& data, const std::vector<std::string>& irSha256);

}  // namespace mirtune::coarsen
