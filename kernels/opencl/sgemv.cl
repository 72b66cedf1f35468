// Single-precision matrix-vector product y = A * x (A row-major, n x n): one work-item per row.
__kernel void sgemv(__global const float* a, __global const float* x, __global float* y, const int n) {
  const int row = get_global_id(0);
  if (row >= n) return;
  float sum = 0.0f;
  __global const float* rowStart = a + (size_t)row * n;
  for (int k = 0; k < n; ++k) sum += rowStart[k] * x[k];
  y[row] = sum;
}
