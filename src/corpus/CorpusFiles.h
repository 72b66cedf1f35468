// The module files of a corpus folder, for commands that read a corpus or any folder of sources.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <vector>

namespace mirtune {

/// The files a corpus folder's manifest lists (`mirtune corpus build`), or, when it has no manifest, every
/// file below it with a known source or IR extension, sorted.
Expected<std::vector<std::filesystem::path>> corpusModuleFiles(const std::filesystem::path& corpus);

}  // namespace mirtune
