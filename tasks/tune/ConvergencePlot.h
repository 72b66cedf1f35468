// `mirtune tune plot`: convergence of tuning sessions as a PNG.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune::tune {

/// Draws the best time found after each evaluation for every input (a T4 results file, or the id of a session
/// in the database at `databasePath`), with the first input's default time as a line, into the PNG `output`.
/// kUsage without an output; kInvalidInput naming the input that is not a T4 file or where nothing ran
/// correctly; kNotFound for a session without measurements.
Status writeConvergencePlot(const std::vector<std::string>& inputs, const std::filesystem::path& databasePath,
                            const std::filesystem::path& output, const std::string& title);

}  // namespace mirtune::tune
