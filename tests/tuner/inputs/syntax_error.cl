// A kernel with a syntax error on line 4 (a missing semicolon), for the build_failed test.
__kernel void broken(__global float* out, const int n) {
  const int i = get_global_id(0);
  if (i < n) out[i] = 1.0f
}
