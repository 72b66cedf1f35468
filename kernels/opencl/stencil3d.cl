// One Jacobi sweep of the 3-D 7-point stencil on an n x n x n grid (x fastest): interior points become the
// mean of themselves and their six neighbours; boundary points are copied.
__kernel void stencil3d(__global const float* in, __global float* out, const int n) {
  const int x = get_global_id(0);
  const int y = get_global_id(1);
  const int z = get_global_id(2);
  if (x >= n || y >= n || z >= n) return;
  const int plane = n * n;
  const int i = z * plane + y * n + x;
  if (x == 0 || y == 0 || z == 0 || x == n - 1 || y == n - 1 || z == n - 1) {
    out[i] = in[i];
    return;
  }
  const float sum = in[i] + in[i - 1] + in[i + 1] + in[i - n] + in[i + n] + in[i - plane] + in[i + plane];
  out[i] = sum * (1.0f / 7.0f);
}
