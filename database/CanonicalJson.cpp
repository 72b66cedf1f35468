// Canonical JSON: nlohmann::json already keeps object keys sorted; numbers need one spelling per value.
#include "database/CanonicalJson.h"

#include "support/Sha256.h"

#include <cmath>
#include <cstdint>

namespace mirtune {

namespace {

// 2^63 as a double: integral reals in [-2^63, 2^63) convert to int64 exactly.
constexpr double kTwoTo63 = 9223372036854775808.0;

nlohmann::json normalised(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      nlohmann::json result = nlohmann::json::object();
      for (const auto& [key, item] : value.items()) result[key] = normalised(item);
      return result;
    }
    case nlohmann::json::value_t::array: {
      nlohmann::json result = nlohmann::json::array();
      for (const auto& item : value) result.push_back(normalised(item));
      return result;
    }
    case nlohmann::json::value_t::number_float: {
      double number = value.get<double>();
      if (!std::isfinite(number)) return nullptr;
      if (std::trunc(number) == number && number >= -kTwoTo63 && number < kTwoTo63) {
        return static_cast<std::int64_t>(number);
      }
      return number;
    }
    case nlohmann::json::value_t::number_unsigned: {
      // Small unsigned values are the same numbers as signed ones; keep one spelling for them.
      auto number = value.get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(number);
      return number;
    }
    default:
      return value;
  }
}

}  // namespace

std::string canonicalJson(const nlohmann::json& value) {
  return normalised(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string canonicalJsonSha256(const nlohmann::json& value) {
  return sha256Hex(canonicalJson(value));
}

}  // namespace mirtune
