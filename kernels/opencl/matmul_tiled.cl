// Tiled single-precision matrix multiply C = A * B (row-major, n x n, n a multiple of TILE).
// Each work-group stages TILE x TILE blocks of A and B in local memory; launch with a 2-D NDRange of
// (n, n) work-items and (TILE, TILE) local size.
#ifndef TILE
#define TILE 16
#endif

__kernel void matmul_tiled(__global const float* a, __global const float* b, __global float* c, const int n) {
  __local float tileA[TILE][TILE];
  __local float tileB[TILE][TILE];
  const int row = get_global_id(1);
  const int col = get_global_id(0);
  const int localRow = get_local_id(1);
  const int localCol = get_local_id(0);
  float sum = 0.0f;
  for (int t = 0; t < n / TILE; ++t) {
    tileA[localRow][localCol] = a[row * n + t * TILE + localCol];
    tileB[localRow][localCol] = b[(t * TILE + localRow) * n + col];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = 0; k < TILE; ++k) sum += tileA[localRow][k] * tileB[k][localCol];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  c[row * n + col] = sum;
}
