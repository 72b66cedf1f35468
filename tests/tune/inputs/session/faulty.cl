// A kernel whose VARIANT parameter picks how a configuration ends: 0 and 1 right (1 by another expression),
// 2 does not compile, 3 computes the wrong values, 4 never returns.
#ifndef VARIANT
#define VARIANT 0
#endif

__kernel void scale(__global float* out, __global const float* in, const int n) {
  const int i = get_global_id(0);
#if VARIANT == 2
  this line is not OpenCL C;
#endif
#if VARIANT == 4
  if (i == 0) {
    volatile int spin = 1;
    while (spin) {
    }
  }
#endif
  if (i < n) {
#if VARIANT == 1
    out[i] = in[i] + in[i];
#elif VARIANT == 3
    out[i] = 3.0f * in[i];
#else
    out[i] = 2.0f * in[i];
#endif
  }
}
