// Parsing of stored MeasureStatus names and the schema's list, all from kMeasureStatusNames.
#include "database/MeasureStatus.h"

#include <fmt/format.h>

namespace mirtune {

Expected<MeasureStatus> parseMeasureStatus(std::string_view name) {
  if (std::optional<MeasureStatus> status = measureStatusFromName(name)) return *status;
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
