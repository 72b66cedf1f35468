// The outcome of one measurement, declared once: names, parsing and the schema's CHECK all derive from here.
#pragma once

#include "support/Error.h"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace mirtune {

/// How a measurement ended. Failures are results, stored with their stderr, never a fake runtime.
enum class MeasureStatus {
  kOk,            ///< built, ran and produced the expected output; times are valid
  kBuildFailed,   ///< the compiler rejected the variant
  kBuildTimeout,  ///< the build ran past its limit
  kRunFailed,     ///< the run crashed or exited with an error
  kRunTimeout,    ///< the run ran past its limit
  kWrongOutput,   ///< the run finished but its output did not match the reference
};

/// Stored names, indexed by the enum's value. Adding a status here changes the CHECK that a fresh database
/// gets, so it also needs a migration that rebuilds the CHECK of existing databases.
inline constexpr std::array<std::string_view, 6> kMeasureStatusNames = {
    "ok", "build_failed", "build_timeout", "run_failed", "run_timeout", "wrong_output"};

/// The stored name ("ok", "build_failed", ...); "invalid" for a value outside the enum (which the schema
/// rejects).
std::string_view measureStatusName(MeasureStatus status);

/// Parses a stored name; kInvalidInput naming the valid ones otherwise.
Expected<MeasureStatus> parseMeasureStatus(std::string_view name);

/// "'ok', 'build_failed', ..." for the schema's `CHECK (status IN (...))`.
std::string measureStatusSqlList();

}  // namespace mirtune
