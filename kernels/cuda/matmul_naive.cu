// C = A * B for n x n row-major matrices, one thread per element of C (x: column, y: row).
__global__ void matmul_naive(const float* a, const float* b, float* c, int n) {
  int column = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= n || column >= n) return;
  float sum = 0.0f;
  for (int k = 0; k < n; ++k) sum += a[row * n + k] * b[k * n + column];
  c[row * n + column] = sum;
}

#ifndef __CUDA_ARCH__
#include "mirtune_cuda.h"
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL matmul_naive
#endif

int main() {
  const int n = 512;
  std::vector<float> a = mirtuneInput(n * n, 5), b = mirtuneInput(n * n, 6), expected(n * n);
  for (int row = 0; row < n; ++row) {
    for (int column = 0; column < n; ++column) {
      double sum = 0;
      for (int k = 0; k < n; ++k) sum += double(a[row * n + k]) * b[k * n + column];
      expected[row * n + column] = float(sum);
    }
  }
  float *da = mirtuneUpload(a), *db = mirtuneUpload(b), *dc = mirtuneUpload(std::vector<float>(n * n));
  dim3 block(16, 16), grid(n / 16, n / 16);
  mirtuneCoarsenLaunch(grid, block);
  MIRTUNE_KERNEL<<<grid, block>>>(da, db, dc, n);
  MirtuneRegionTimer timer;
  MIRTUNE_KERNEL<<<grid, block>>>(da, db, dc, n);
  timer.finish();
  MIRTUNE_CHECK(cudaGetLastError());
  return mirtuneVerdict(mirtuneDownload(dc, n * n), expected, 1e-4);
}
#endif
