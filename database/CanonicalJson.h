// Canonical JSON text of a value, so that equal configurations get equal text and equal hashes.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mirtune {

/// Compact JSON (no spaces) with object keys sorted by their UTF-8 bytes. Numbers are normalised so the
/// same value has one spelling: a real with an integral value in the int64 range is written as an integer
/// (2.0 → 2, -0.0 → 0); other reals use the shortest text that reads back to the same double; non-finite
/// reals become null. Invalid UTF-8 in strings is replaced by U+FFFD instead of failing.
std::string canonicalJson(const nlohmann::json& value);

/// Lower-case hex SHA-256 of canonicalJson(value): the identity of a configuration in the database.
std::string canonicalJsonSha256(const nlohmann::json& value);

}  // namespace mirtune
