// out = in^T for a rows x columns matrix, one thread per element, reads coalesced and writes strided.
__global__ void transpose_naive(const float* in, float* out, int rows, int columns) {
  int column = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < rows && column < columns) out[column * rows + row] = in[row * columns + column];
}

#ifndef __CUDA_ARCH__
#include "mirtune_cuda.h"
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL transpose_naive
#endif

int main() {
  const int rows = 2048, columns = 1024;
  std::vector<float> in = mirtuneInput(rows * columns, 8), expected(rows * columns);
  for (int row = 0; row < rows; ++row) {
    for (int column = 0; column < columns; ++column) expected[column * rows + row] = in[row * columns + column];
  }
  float *din = mirtuneUpload(in), *dout = mirtuneUpload(std::vector<float>(rows * columns));
  dim3 block(32, 8), grid(columns / 32, rows / 8);
  mirtuneCoarsenLaunch(grid, block);
  MIRTUNE_KERNEL<<<grid, block>>>(din, dout, rows, columns);
  MirtuneRegionTimer timer;
  MIRTUNE_KERNEL<<<grid, block>>>(din, dout, rows, columns);
  timer.finish();
  MIRTUNE_CHECK(cudaGetLastError());
  return mirtuneVerdict(mirtuneDownload(dout, rows * columns), expected, 0);
}
#endif
