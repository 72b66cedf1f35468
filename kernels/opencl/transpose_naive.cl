// Matrix transpose out = in^T (row-major, n x n) straight through global memory: reads are coalesced along
// rows, writes stride by n.
__kernel void transpose_naive(__global const float* in, __global float* out, const int n) {
  const int x = get_global_id(0);
  const int y = get_global_id(1);
  if (x < n && y < n) out[x * n + y] = in[y * n + x];
}
