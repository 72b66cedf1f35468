// SHA-256 (FIPS 180-4) for content hashes of sources, canonical IR and model weights.
#pragma once

#include "support/Error.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mirtune {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  /// The digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();

 private:
  void compressBlock(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t bufferSize_ = 0;
  std::uint64_t totalBytes_ = 0;
};

/// Lower-case hex of bytes.
std::string toHex(const std::uint8_t* data, std::size_t size);
/// Lower-case hex SHA-256 of a byte string.
std::string sha256Hex(std::string_view data);
/// Lower-case hex SHA-256 of a file's bytes.
Expected<std::string> sha256File(const std::filesystem::path& path);

}  // namespace mirtune
