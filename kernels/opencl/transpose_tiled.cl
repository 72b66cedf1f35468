// Matrix transpose out = in^T (row-major, n x n, n a multiple of TILE) staged through a TILE x (TILE + 1)
// local tile passed by the host, so both the global reads and the global writes run along rows; the extra
// column keeps the column reads off a single local memory bank. Launch with (TILE, TILE) work-groups.
#ifndef TILE
#define TILE 16
#endif

__kernel void transpose_tiled(__global const float* in, __global float* out, __local float* tile, const int n) {
  const int lx = get_local_id(0);
  const int ly = get_local_id(1);
  const int blockX = get_group_id(0) * TILE;
  const int blockY = get_group_id(1) * TILE;
  tile[ly * (TILE + 1) + lx] = in[(blockY + ly) * n + blockX + lx];
  barrier(CLK_LOCAL_MEM_FENCE);
  out[(blockX + ly) * n + blockY + lx] = tile[lx * (TILE + 1) + ly];
}
