// The CPU references of the kernel suite, looked up by the name a manifest gives.
#pragma once

#include "tuner/references/ReferenceArgs.h"

#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// The reference registered under `name`, or nullptr.
const ReferenceFunction* findReference(std::string_view name);

/// Every registered name, sorted.
std::vector<std::string> referenceNames();

}  // namespace mirtune
