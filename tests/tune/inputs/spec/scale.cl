// A kernel the spec test inputs name: y = factor * x, FACTOR_SHIFT bits of extra scaling.
#ifndef FACTOR_SHIFT
#define FACTOR_SHIFT 0
#endif
__kernel void scale(__global const float* x, __global float* y, const float factor) {
  const int i = get_global_id(0);
  y[i] = factor * x[i] * (float)(1 << FACTOR_SHIFT);
}
