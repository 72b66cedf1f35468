// References for the dense linear algebra and data movement kernels, accumulating in double.
#include "tuner/references/ReferenceKernels.h"

#include <cmath>

namespace mirtune::references {

Status vectorAdd(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 4, "vector_add"); !ok) return ok;
  const float* a = args.buffer<float>(0);
  const float* b = args.buffer<float>(1);
  float* c = args.buffer<float>(2);
  for (std::int64_t i = 0; i < args.intScalar(3); ++i) c[i] = a[i] + b[i];
  return success();
}

Status saxpy(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 4, "saxpy"); !ok) return ok;
  const float* x = args.buffer<float>(0);
  float* y = args.buffer<float>(1);
  const auto alpha = static_cast<float>(args.floatScalar(2));
  for (std::int64_t i = 0; i < args.intScalar(3); ++i) y[i] = alpha * x[i] + y[i];
  return success();
}

Status dotProduct(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 5, "dot_product"); !ok) return ok;
  if (args.plan->localSize.empty()) {
    return makeError(ErrorCode::kInvalidInput, "reference 'dot_product' needs a fixed local size");
  }
  const float* a = args.buffer<float>(0);
  const float* b = args.buffer<float>(1);
  float* partial = args.buffer<float>(2);
  const auto n = static_cast<std::uint64_t>(args.intScalar(4));
  const std::uint64_t group = args.localSize(0);
  for (std::uint64_t g = 0; g < args.globalSize(0) / group && g < args.elements(2); ++g) {
    double sum = 0;
    for (std::uint64_t i = g * group; i < (g + 1) * group && i < n; ++i) sum += double(a[i]) * b[i];
    partial[g] = static_cast<float>(sum);
  }
  return success();
}

Status matmul(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 4, "matmul"); !ok) return ok;
  const float* a = args.buffer<float>(0);
  const float* b = args.buffer<float>(1);
  float* c = args.buffer<float>(2);
  const std::int64_t n = args.intScalar(3);
  for (std::int64_t row = 0; row < n; ++row) {
    for (std::int64_t col = 0; col < n; ++col) {
      double sum = 0;
      for (std::int64_t k = 0; k < n; ++k) sum += double(a[row * n + k]) * b[k * n + col];
      c[row * n + col] = static_cast<float>(sum);
    }
  }
  return success();
}

Status transpose(ReferenceArgs& args) {
  // transpose_naive(in, out, n) and transpose_tiled(in, out, tile, n): the size is the last argument.
  const std::size_t count = args.plan->args.size();
  if (count != 3 && count != 4) return expectArgs(args, 3, "transpose");
  const float* in = args.buffer<float>(0);
  float* out = args.buffer<float>(1);
  const std::int64_t n = args.intScalar(count - 1);
  for (std::int64_t y = 0; y < n; ++y) {
    for (std::int64_t x = 0; x < n; ++x) out[x * n + y] = in[y * n + x];
  }
  return success();
}

Status sgemv(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 4, "sgemv"); !ok) return ok;
  const float* a = args.buffer<float>(0);
  const float* x = args.buffer<float>(1);
  float* y = args.buffer<float>(2);
  const std::int64_t n = args.intScalar(3);
  for (std::int64_t row = 0; row < n; ++row) {
    double sum = 0;
    for (std::int64_t k = 0; k < n; ++k) sum += double(a[row * n + k]) * x[k];
    y[row] = static_cast<float>(sum);
  }
  return success();
}

Status vectorNormalize(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 3, "vector_normalize"); !ok) return ok;
  const float* in = args.buffer<float>(0);
  float* out = args.buffer<float>(1);
  for (std::int64_t i = 0; i < args.intScalar(2); ++i) {
    double length2 = 0;
    for (int c = 0; c < 4; ++c) length2 += double(in[4 * i + c]) * in[4 * i + c];
    const double inverse = length2 > 0 ? 1.0 / std::sqrt(length2) : 0.0;
    for (int c = 0; c < 4; ++c) out[4 * i + c] = static_cast<float>(in[4 * i + c] * inverse);
  }
  return success();
}

}  // namespace mirtune::references
