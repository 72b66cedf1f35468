// Naive single-precision matrix multiply C = A * B (row-major, n x n): one work-item per element of C,
// reading a row of A and a column of B straight from global memory.
__kernel void matmul_naive(__global const float* a, __global const float* b, __global float* c, const int n) {
  const int col = get_global_id(0);
  const int row = get_global_id(1);
  if (row >= n || col >= n) return;
  float sum = 0.0f;
  for (int k = 0; k < n; ++k) sum += a[row * n + k] * b[k * n + col];
  c[row * n + col] = sum;
}
