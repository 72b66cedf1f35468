// Five-point Jacobi step on an n x n grid; the border is copied unchanged.
__global__ void stencil2d(const float* in, float* out, int n) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= n || y >= n) return;
  int i = y * n + x;
  if (x == 0 || y == 0 || x == n - 1 || y == n - 1) {
    out[i] = in[i];
    return;
  }
  out[i] = 0.2f * (in[i] + in[i - 1] + in[i + 1] + in[i - n] + in[i + n]);
}

#ifndef __CUDA_ARCH__
#include "mirtune_cuda.h"
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL stencil2d
#endif

int main() {
  const int n = 2048;
  std::vector<float> in = mirtuneInput(n * n, 7), expected(n * n);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      int i = y * n + x;
      bool border = x == 0 || y == 0 || x == n - 1 || y == n - 1;
      expected[i] = border ? in[i] : 0.2f * (in[i] + in[i - 1] + in[i + 1] + in[i - n] + in[i + n]);
    }
  }
  float *din = mirtuneUpload(in), *dout = mirtuneUpload(std::vector<float>(n * n));
  dim3 block(32, 8), grid(n / 32, n / 8);
  mirtuneCoarsenLaunch(grid, block);
  MIRTUNE_KERNEL<<<grid, block>>>(din, dout, n);
  MirtuneRegionTimer timer;
  MIRTUNE_KERNEL<<<grid, block>>>(din, dout, n);
  timer.finish();
  MIRTUNE_CHECK(cudaGetLastError());
  return mirtuneVerdict(mirtuneDownload(dout, n * n), expected, 1e-5);
}
#endif
