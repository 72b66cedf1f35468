// y = alpha * x + y, one thread per element.
__global__ void saxpy(const float* x, float* y, float alpha, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  y[i] = alpha * x[i] + y[i];
}

#ifndef __CUDA_ARCH__
#include "mirtune_cuda.h"
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL saxpy
#endif

int main() {
  const int n = 1 << 22;
  const float alpha = 1.5f;
  std::vector<float> x = mirtuneInput(n, 3), y = mirtuneInput(n, 4), expected(n);
  for (int i = 0; i < n; ++i) expected[i] = alpha * x[i] + y[i];
  float *dx = mirtuneUpload(x), *dy = mirtuneUpload(y);
  dim3 block(256), grid(n / 256);
  mirtuneCoarsenLaunch(grid, block);
  MirtuneRegionTimer timer;  // saxpy updates y in place: one timed launch
  MIRTUNE_KERNEL<<<grid, block>>>(dx, dy, alpha, n);
  timer.finish();
  MIRTUNE_CHECK(cudaGetLastError());
  return mirtuneVerdict(mirtuneDownload(dy, n), expected, 1e-6);
}
#endif
