// Text preprocessed against libclc keeps its internal builtin names; the prelude maps them back.
__kernel void magnitude(__global float* out, __global const float* in) {
  size_t i = get_global_id(0);
  out[i] = __clc_pow(__clc_fabs(in[i]), 0.5f) + __clc_floor(in[i]) - __clc_ceil(in[i]);
}
