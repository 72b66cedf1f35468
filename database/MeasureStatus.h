// The database's view of a measurement's status: the enum itself lives in support/MeasureStatus.h (shared
// with the runner); parsing with an error value and the schema's CHECK list derive from it here.
#pragma once

#include "support/Error.h"
#include "support/MeasureStatus.h"

#include <string>
#include <string_view>

namespace mirtune {

/// Parses a stored name; kInvalidInput naming the valid ones otherwise.
Expected<MeasureStatus> parseMeasureStatus(std::string_view name);

/// "'ok', 'build_failed', ..." for the schema's `CHECK (status IN (...))`.
std::string measureStatusSqlList();

}  // namespace mirtune
