// Does not build: a missing semicolon on line 5, for the build_failed test of `devmap --run`.
__kernel void broken(__global float* out, const int n) {
  const int i = get_global_id(0);
  if (i < n)
    out[i] = 2.0f
}
