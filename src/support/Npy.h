// NumPy .npy files (format version 1.0) for float32 matrices, so embeddings load with numpy.load.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mirtune {

/// The bytes of a C-order (rows, columns) float32 .npy file.
std::string npyFloat32Matrix(const std::vector<std::vector<float>>& rows, std::size_t columns);

}  // namespace mirtune
