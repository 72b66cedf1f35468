// One Jacobi sweep of the 2-D 5-point stencil on an n x n grid (row-major): interior points become
// 0.5 * centre + 0.125 * (north + south + east + west); boundary points are copied.
__kernel void stencil2d(__global const float* in, __global float* out, const int n) {
  const int x = get_global_id(0);
  const int y = get_global_id(1);
  if (x >= n || y >= n) return;
  const int i = y * n + x;
  if (x == 0 || y == 0 || x == n - 1 || y == n - 1) {
    out[i] = in[i];
    return;
  }
  out[i] = 0.5f * in[i] + 0.125f * (in[i - n] + in[i + n] + in[i - 1] + in[i + 1]);
}
