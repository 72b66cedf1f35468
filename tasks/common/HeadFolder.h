// Private helpers shared by the heads: the head.json + model file folder and JSON parameter parsing.
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mirtune::heads::detail {

/// Writes modelBytes to dir/modelFile and then head.json (head plus format version, model file and its
/// SHA-256), each atomically, so a reader never pairs a head.json with a model it does not describe.
Status writeHeadFolder(const std::filesystem::path& dir, nlohmann::json head, std::string_view modelFile,
                       const std::string& modelBytes);

/// kInvalidInput naming the key when json (an object) has a key outside `known`.
Status rejectUnknownKeys(const nlohmann::json& json, std::initializer_list<std::string_view> known,
                         std::string_view what);

/// Reads json[key] into out when present; kInvalidInput naming the key on a wrong type.
template <typename T>
Status readOptional(const nlohmann::json& json, const char* key, T& out) {
  auto found = json.find(key);
  if (found == json.end()) return success();
  try {
    out = found->get<T>();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "parameter \"{}\": {} (got {})", key, e.what(), found->dump());
  }
  return success();
}

}  // namespace mirtune::heads::detail
