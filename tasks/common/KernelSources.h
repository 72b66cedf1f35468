// Kernels as the tasks embed them: one kernel of a compiled file, kernels named by the local measurements
// (a suite source, its kernel and -D values), and which IR a data set's rows are embedded from.
#pragma once

#include "embeddings/BatchEmbed.h"
#include "frontend/Frontend.h"
#include "frontend/IrModule.h"
#include "support/Error.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Which IR the rows of a published data set are embedded from.
enum class IrSource {
  kSource,   ///< compile the data set's OpenCL source (spir64, -O2); fall back to the row's .ll file
  kDataset,  ///< the data set's own .ll files (NCC's x86-64 IR from Apple clang 9)
};
Expected<IrSource> parseIrSource(std::string_view name);  ///< "source" | "dataset"
std::string_view irSourceName(IrSource source);

/// What to embed for `kernel` of a compiled file: a file with one kernel whole (the module is moved out when
/// the source is compiled), else the kernel extracted into its own module. `module` must outlive the source.
EmbedSource kernelEmbedSource(IrModule* module, const std::string& file, const std::string& kernel);

/// One kernel of a local measurement: the source the workload names, the kernel and the -D values it was
/// built with.
struct LocalKernel {
  std::filesystem::path source;      ///< the .cl file (the workload's path)
  std::string kernel;
  std::string manifest;              ///< the kernel manifest's name
  std::vector<std::string> defines;  ///< -D values of the manifest's build options, for the front end
  std::int64_t n = 0;                ///< the problem size it ran at
};

/// -D values ("NAME", "NAME=VALUE") among OpenCL build options such as "-DTILE=16 -cl-fast-relaxed-math".
std::vector<std::string> buildOptionDefines(const std::string& buildOptions);

/// Fused embedding of every kernel the way a user's kernel is embedded (kernelEmbedSource), each distinct
/// (source, defines) compiled once and each distinct kernel of it embedded once. Lines up with `kernels`; an
/// error names the file when one cannot be compiled or embedded.
Expected<std::vector<std::vector<float>>> embedLocalKernels(const Encoder& encoder,
                                                            const std::vector<LocalKernel>& kernels,
                                                            const CompileOptions& compile,
                                                            EmbeddingCache* cache, unsigned threads);

}  // namespace mirtune
