// Declarations of the reference implementations; References.cpp puts them in the lookup table.
#pragma once

#include "tuner/references/ReferenceArgs.h"

namespace mirtune::references {

// Dense linear algebra and data movement (LinearAlgebra.cpp).
Status vectorAdd(ReferenceArgs& args);
Status saxpy(ReferenceArgs& args);
Status dotProduct(ReferenceArgs& args);
Status matmul(ReferenceArgs& args);
Status transpose(ReferenceArgs& args);
Status sgemv(ReferenceArgs& args);
Status vectorNormalize(ReferenceArgs& args);

// Structured grids (Stencils.cpp).
Status stencil2d(ReferenceArgs& args);
Status stencil3d(ReferenceArgs& args);
Status convolution2d(ReferenceArgs& args);
Status sobel(ReferenceArgs& args);

// Everything else (Applications.cpp).
Status histogram(ReferenceArgs& args);
Status nbody(ReferenceArgs& args);
Status blackScholes(ReferenceArgs& args);
Status prefixSum(ReferenceArgs& args);

/// kInvalidInput unless the plan has `count` arguments (a manifest paired with the wrong reference).
Status expectArgs(const ReferenceArgs& args, std::size_t count, const char* reference);

}  // namespace mirtune::references
