// Checks of a coarsening collection exported for another machine and brought back: each factor's plan must
// launch what mirtune plans for that factor of the kernel suite's launch, so measurements are stored under
// the launch they really measured.
#pragma once

#include "tuner/runner/RunPlan.h"
#include "support/Error.h"

#include <filesystem>
#include <string>

namespace mirtune::coarsen {

/// Ok when `exported`, the plan of `factor` an exported collection holds, launches what mirtune plans from
/// `original` (the suite's plan of the item's kernel and size): `factor` one of kFactors; the kernel `kernel`
/// (the original's at factor 1); the original's arguments (kinds, types, element counts, roles, generators,
/// values), build options, warm-up and repetition limits; at factor 1 the original's global and local size,
/// at factor f the global size divided by f in `dimension` (the local size kept or divided by f there) and
/// the original's elsewhere. kInvalidInput naming `planFile` and the first difference otherwise.
Status checkExportedFactorPlan(const runner::RunPlan& exported, const runner::RunPlan& original, int factor,
                               unsigned dimension, const std::string& kernel,
                               const std::filesystem::path& planFile);

}  // namespace mirtune::coarsen
