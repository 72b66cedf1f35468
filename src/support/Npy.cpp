// .npy encoding: magic, version 1.0, a header dict padded so the data starts on a 64-byte boundary, raw data.
#include "support/Npy.h"

#include <fmt/format.h>

#include <cstring>

namespace mirtune {

std::string npyFloat32Matrix(const std::vector<std::vector<float>>& rows, std::size_t columns) {
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows.size(), columns);
  std::size_t prefix = 10;  // magic (6) + version (2) + header length (2)
  std::size_t total = prefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  auto length = static_cast<std::uint16_t>(header.size());
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(static_cast<char>(length >> 8));
  out += header;
  for (const auto& row : rows) {
    std::vector<float> padded(columns, 0.0f);
    std::memcpy(padded.data(), row.data(), std::min(row.size(), columns) * sizeof(float));
    out.append(reinterpret_cast<const char*>(padded.data()), columns * sizeof(float));
  }
  return out;
}

}  // namespace mirtune
