// How a build or run ended, declared once for the runner, the tuner and the database (std only, header-only).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace mirtune {

/// How a measurement ended. Failures are results, stored with their stderr, never a fake runtime.
/// mirtune-run writes these names in its JSON, the tuner reads them back, the database stores them.
enum class MeasureStatus {
  kOk,            ///< built, ran and produced the expected output; times are valid
  kBuildFailed,   ///< the compiler rejected the variant
  kBuildTimeout,  ///< the build ran past its limit
  kRunFailed,     ///< the run crashed or exited with an error
  kRunTimeout,    ///< the run ran past its limit
  kWrongOutput,   ///< the run finished but its output did not match the reference
};

/// Every status, in the enum's order.
inline constexpr std::array<MeasureStatus, 6> kMeasureStatuses = {
    MeasureStatus::kOk,        MeasureStatus::kBuildFailed, MeasureStatus::kBuildTimeout,
    MeasureStatus::kRunFailed, MeasureStatus::kRunTimeout,  MeasureStatus::kWrongOutput};

/// Stored and written names, indexed by the enum's value. Adding a status here changes the CHECK that a fresh
/// database gets, so it also needs a migration that rebuilds the CHECK of existing databases.
inline constexpr std::array<std::string_view, 6> kMeasureStatusNames = {
    "ok", "build_failed", "build_timeout", "run_failed", "run_timeout", "wrong_output"};

/// What mirtune-run writes instead of a status when it rejected the plan before running anything. It is an
/// answer about the request, not a measurement, so it is never stored; a reader maps it to kRunFailed.
inline constexpr std::string_view kInvalidPlanStatusName = "invalid_plan";

/// The name ("ok", "build_failed", ...); "invalid" for a value outside the enum (which the schema rejects).
constexpr std::string_view measureStatusName(MeasureStatus status) {
  const auto index = static_cast<std::size_t>(status);
  return index < kMeasureStatusNames.size() ? kMeasureStatusNames[index] : std::string_view("invalid");
}

/// The status named `name`, or nothing when it is not one of kMeasureStatusNames (e.g. "invalid_plan").
constexpr std::optional<MeasureStatus> measureStatusFromName(std::string_view name) {
  for (std::size_t i = 0; i < kMeasureStatusNames.size(); ++i) {
    if (kMeasureStatusNames[i] == name) return kMeasureStatuses[i];
  }
  return std::nullopt;
}

}  // namespace mirtune
