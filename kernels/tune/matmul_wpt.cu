// Single-precision matrix multiply C = A * B (row-major, n x n) with shared-memory tiles, the CUDA sibling of
// matmul_wpt.cl: a block of block_size_x x block_size_y threads computes a tile of block_size_x columns and
// block_size_y * work_per_thread rows of C, each thread work_per_thread rows (ty, ty + block_size_y, ...) of one
// column. K advances block_size_x at a time. Launch: grid (n / block_size_x, n / (block_size_y * work_per_thread)).
// n must be a multiple of block_size_x and of the tile's rows (the spec's conditions say so).
#ifndef block_size_x
#define block_size_x 16
#endif
#ifndef block_size_y
#define block_size_y 16
#endif
#ifndef work_per_thread
#define work_per_thread 1
#endif
#define TILE_ROWS (block_size_y * work_per_thread)

// The accumulators live in registers only while the count stays small.
static_assert(work_per_thread >= 1 && work_per_thread <= 8, "work_per_thread must be 1 to 8");

extern "C" __global__ void matmul_wpt(const int n, const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ c) {
  __shared__ float tileA[TILE_ROWS][block_size_x];
  __shared__ float tileB[block_size_x][block_size_x];
  const int tx = threadIdx.x;
  const int ty = threadIdx.y;
  const int column = blockIdx.x * block_size_x + tx;
  const int firstRow = blockIdx.y * TILE_ROWS;
  float acc[work_per_thread];
#pragma unroll
  for (int w = 0; w < work_per_thread; ++w) acc[w] = 0.0f;
  for (int k0 = 0; k0 < n; k0 += block_size_x) {
    for (int r = ty; r < TILE_ROWS; r += block_size_y) tileA[r][tx] = a[(firstRow + r) * n + k0 + tx];
    for (int r = ty; r < block_size_x; r += block_size_y) tileB[r][tx] = b[(k0 + r) * n + column];
    __syncthreads();
#pragma unroll 8
    for (int k = 0; k < block_size_x; ++k) {
      const float bValue = tileB[k][tx];
#pragma unroll
      for (int w = 0; w < work_per_thread; ++w) acc[w] += tileA[ty + w * block_size_y][k] * bValue;
    }
    __syncthreads();
  }
#pragma unroll
  for (int w = 0; w < work_per_thread; ++w) c[(firstRow + ty + w * block_size_y) * n + column] = acc[w];
}
