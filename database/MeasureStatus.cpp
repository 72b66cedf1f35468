// Names and parsing of MeasureStatus, all from kMeasureStatusNames.
#include "database/MeasureStatus.h"

#include <fmt/format.h>

namespace mirtune {

std::string_view measureStatusName(MeasureStatus status) {
  auto index = static_cast<std::size_t>(status);
  return index < kMeasureStatusNames.size() ? kMeasureStatusNames[index] : std::string_view("invalid");
}

Expected<MeasureStatus> parseMeasureStatus(std::string_view name) {
  for (std::size_t i = 0; i < kMeasureStatusNames.size(); ++i) {
    if (kMeasureStatusNames[i] == name) return static_cast<MeasureStatus>(i);
  }
  return makeError(ErrorCode::kInvalidInput, "unknown measurement status '{}' (valid: {})", name,
                   fmt::join(kMeasureStatusNames, ", "));
}

std::string measureStatusSqlList() {
  std::string list;
  for (std::string_view name : kMeasureStatusNames) {
    if (!list.empty()) list += ", ";
    list += fmt::format("'{}'", name);
  }
  return list;
}

}  // namespace mirtune
