// References for the structured-grid kernels (stencils, convolution, Sobel).
#include "tuner/references/ReferenceKernels.h"

#include <algorithm>
#include <cmath>

namespace mirtune::references {

Status stencil2d(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 3, "stencil2d"); !ok) return ok;
  const float* in = args.buffer<float>(0);
  float* out = args.buffer<float>(1);
  const std::int64_t n = args.intScalar(2);
  for (std::int64_t y = 0; y < n; ++y) {
    for (std::int64_t x = 0; x < n; ++x) {
      const std::int64_t i = y * n + x;
      if (x == 0 || y == 0 || x == n - 1 || y == n - 1) {
        out[i] = in[i];
      } else {
        out[i] =
            static_cast<float>(0.5 * in[i] + 0.125 * (double(in[i - n]) + in[i + n] + in[i - 1] + in[i + 1]));
      }
    }
  }
  return success();
}

Status stencil3d(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 3, "stencil3d"); !ok) return ok;
  const float* in = args.buffer<float>(0);
  float* out = args.buffer<float>(1);
  const std::int64_t n = args.intScalar(2);
  const std::int64_t plane = n * n;
  for (std::int64_t z = 0; z < n; ++z) {
    for (std::int64_t y = 0; y < n; ++y) {
      for (std::int64_t x = 0; x < n; ++x) {
        const std::int64_t i = z * plane + y * n + x;
        if (x == 0 || y == 0 || z == 0 || x == n - 1 || y == n - 1 || z == n - 1) {
          out[i] = in[i];
          continue;
        }
        const double sum =
            double(in[i]) + in[i - 1] + in[i + 1] + in[i - n] + in[i + n] + in[i - plane] + in[i + plane];
        out[i] = static_cast<float>(sum / 7.0);
      }
    }
  }
  return success();
}

Status convolution2d(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 4, "convolution2d"); !ok) return ok;
  const float* in = args.buffer<float>(0);
  const float* filter = args.buffer<float>(1);
  float* out = args.buffer<float>(2);
  const std::int64_t n = args.intScalar(3);
  const auto width = static_cast<std::int64_t>(std::lround(std::sqrt(double(args.elements(1)))));
  if (width * width != static_cast<std::int64_t>(args.elements(1))) {
    return makeError(ErrorCode::kInvalidInput, "reference 'convolution2d': the filter must be square");
  }
  const std::int64_t radius = width / 2;
  for (std::int64_t y = 0; y < n; ++y) {
    for (std::int64_t x = 0; x < n; ++x) {
      double sum = 0;
      for (std::int64_t fy = 0; fy < width; ++fy) {
        const std::int64_t sy = std::clamp<std::int64_t>(y + fy - radius, 0, n - 1);
        for (std::int64_t fx = 0; fx < width; ++fx) {
          const std::int64_t sx = std::clamp<std::int64_t>(x + fx - radius, 0, n - 1);
          sum += double(filter[fy * width + fx]) * in[sy * n + sx];
        }
      }
      out[y * n + x] = static_cast<float>(sum);
    }
  }
  return success();
}

Status sobel(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 3, "sobel"); !ok) return ok;
  const float* in = args.buffer<float>(0);
  float* out = args.buffer<float>(1);
  const std::int64_t n = args.intScalar(2);
  auto at = [&](std::int64_t x, std::int64_t y) { return double(in[y * n + x]); };
  for (std::int64_t y = 0; y < n; ++y) {
    for (std::int64_t x = 0; x < n; ++x) {
      if (x == 0 || y == 0 || x == n - 1 || y == n - 1) {
        out[y * n + x] = 0.0f;
        continue;
      }
      const double gx = (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1)) -
                        (at(x - 1, y - 1) + 2 * at(x - 1, y) + at(x - 1, y + 1));
      const double gy = (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1)) -
                        (at(x - 1, y - 1) + 2 * at(x, y - 1) + at(x + 1, y - 1));
      out[y * n + x] = static_cast<float>(std::sqrt(gx * gx + gy * gy));
    }
  }
  return success();
}

}  // namespace mirtune::references
