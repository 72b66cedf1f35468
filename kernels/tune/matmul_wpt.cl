// Single-precision matrix multiply C = A * B (row-major, n x n, n a multiple of TS) with local-memory tiles of
// TS x TS and WPT outputs per work-item: a work-group is TS x (TS / WPT) work-items, work-item (col, r) computes
// rows r, r + TS/WPT, ... of its tile's column col. Launch with global (n, n / WPT) and local (TS, TS / WPT).
#ifndef TS
#define TS 16
#endif
#ifndef WPT
#define WPT 1
#endif
#define ROWS_PER_PASS (TS / WPT)

__kernel void matmul_wpt(const int n, __global const float* a, __global const float* b, __global float* c) {
  __local float tileA[TS][TS];
  __local float tileB[TS][TS];
  const int col = get_local_id(0);
  const int firstRow = get_local_id(1);
  const int globalCol = get_group_id(0) * TS + col;
  const int tileRow = get_group_id(1) * TS;
  float acc[WPT];
  for (int w = 0; w < WPT; ++w) acc[w] = 0.0f;
  for (int t = 0; t < n / TS; ++t) {
    for (int w = 0; w < WPT; ++w) {
      const int row = firstRow + w * ROWS_PER_PASS;
      tileA[row][col] = a[(tileRow + row) * n + t * TS + col];
      tileB[row][col] = b[(t * TS + row) * n + globalCol];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = 0; k < TS; ++k) {
      const float bValue = tileB[k][col];
      for (int w = 0; w < WPT; ++w) acc[w] += tileA[firstRow + w * ROWS_PER_PASS][k] * bValue;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  for (int w = 0; w < WPT; ++w) c[(tileRow + firstRow + w * ROWS_PER_PASS) * n + globalCol] = acc[w];
}
