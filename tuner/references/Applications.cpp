// References for histogram, n-body, Black-Scholes and the work-group prefix sum.
#include "tuner/references/ReferenceKernels.h"

#include <cmath>

namespace mirtune::references {

Status histogram(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 3, "histogram"); !ok) return ok;
  const std::uint32_t* data = args.buffer<std::uint32_t>(0);
  std::uint32_t* bins = args.buffer<std::uint32_t>(1);
  if (args.elements(1) < 256) {
    return makeError(ErrorCode::kInvalidInput, "reference 'histogram': the bins buffer needs 256 elements");
  }
  for (std::int64_t i = 0; i < args.intScalar(2); ++i) ++bins[data[i] & 255u];
  return success();
}

Status nbody(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 6, "nbody"); !ok) return ok;
  const float* position = args.buffer<float>(0);
  float* velocity = args.buffer<float>(1);
  float* newPosition = args.buffer<float>(2);
  const double dt = args.floatScalar(3);
  const double soft2 = args.floatScalar(4) * args.floatScalar(4);
  const std::int64_t n = args.intScalar(5);
  for (std::int64_t i = 0; i < n; ++i) {
    double acceleration[3] = {0, 0, 0};
    for (std::int64_t j = 0; j < n; ++j) {
      double d[3];
      for (int c = 0; c < 3; ++c) d[c] = double(position[4 * j + c]) - position[4 * i + c];
      const double distance2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + soft2;
      const double inverse = 1.0 / std::sqrt(distance2);
      const double scale = position[4 * j + 3] * inverse * inverse * inverse;
      for (int c = 0; c < 3; ++c) acceleration[c] += d[c] * scale;
    }
    for (int c = 0; c < 3; ++c) {
      velocity[4 * i + c] = static_cast<float>(velocity[4 * i + c] + acceleration[c] * dt);
      newPosition[4 * i + c] = static_cast<float>(position[4 * i + c] + double(velocity[4 * i + c]) * dt);
    }
    newPosition[4 * i + 3] = position[4 * i + 3];
  }
  return success();
}

namespace {

double normalCdf(double d) {
  return 0.5 * std::erfc(-d / std::sqrt(2.0));
}

}  // namespace

Status blackScholes(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 8, "black_scholes"); !ok) return ok;
  const float* price = args.buffer<float>(0);
  const float* strike = args.buffer<float>(1);
  const float* years = args.buffer<float>(2);
  float* call = args.buffer<float>(3);
  float* put = args.buffer<float>(4);
  const double r = args.floatScalar(5);
  const double v = args.floatScalar(6);
  for (std::int64_t i = 0; i < args.intScalar(7); ++i) {
    const double s = price[i];
    const double x = strike[i];
    const double t = years[i];
    const double d1 = (std::log(s / x) + (r + 0.5 * v * v) * t) / (v * std::sqrt(t));
    const double d2 = d1 - v * std::sqrt(t);
    const double discounted = x * std::exp(-r * t);
    call[i] = static_cast<float>(s * normalCdf(d1) - discounted * normalCdf(d2));
    put[i] = static_cast<float>(discounted * normalCdf(-d2) - s * normalCdf(-d1));
  }
  return success();
}

Status prefixSum(ReferenceArgs& args) {
  if (Status ok = expectArgs(args, 4, "prefix_sum"); !ok) return ok;
  if (args.plan->localSize.empty()) {
    return makeError(ErrorCode::kInvalidInput, "reference 'prefix_sum' needs a fixed local size");
  }
  const std::int32_t* in = args.buffer<std::int32_t>(0);
  std::int32_t* out = args.buffer<std::int32_t>(1);
  const std::int64_t n = args.intScalar(3);
  const auto group = static_cast<std::int64_t>(args.localSize(0));
  std::int32_t running = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (i % group == 0) running = 0;
    running += in[i];
    out[i] = running;
  }
  return success();
}

}  // namespace mirtune::references
