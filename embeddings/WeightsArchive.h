// Reading the weights file LibTorch's torch::save writes (a zip archive of raw tensor storages plus a pickle that
// names them) without LibTorch, so that inference never loads it. Only what torch::save of a module writes is
// accepted: uncompressed entries, float32 storages, contiguous tensors; anything else is a clear error.
#pragma once

#include "support/Error.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mirtune {

/// One named parameter: its shape and its values in row-major order.
struct WeightTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
  std::int64_t elementCount() const;
};

/// Parameters by dotted module path ("token_layers.0.attention.in_proj_weight"), as torch's named_parameters()
/// spells them. Errors name the file and what in it is malformed (kInvalidInput) or unsupported (kVersion).
Expected<std::map<std::string, WeightTensor>> readWeightsArchive(const std::filesystem::path& file);

/// The same from the archive's bytes; `name` is used in messages.
Expected<std::map<std::string, WeightTensor>> parseWeightsArchive(const std::string& bytes, const std::string& name);

}  // namespace mirtune
