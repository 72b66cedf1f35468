// c = a + b, one thread per element.
__global__ void vector_add(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

#ifndef __CUDA_ARCH__
#include "mirtune_cuda.h"
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL vector_add
#endif

int main() {
  const int n = 1 << 22;
  std::vector<float> a = mirtuneInput(n, 1), b = mirtuneInput(n, 2), expected(n);
  for (int i = 0; i < n; ++i) expected[i] = a[i] + b[i];
  float *da = mirtuneUpload(a), *db = mirtuneUpload(b), *dc = mirtuneUpload(std::vector<float>(n));
  dim3 block(256), grid(n / 256);
  mirtuneCoarsenLaunch(grid, block);
  MIRTUNE_KERNEL<<<grid, block>>>(da, db, dc, n);  // warm-up
  MirtuneRegionTimer timer;
  MIRTUNE_KERNEL<<<grid, block>>>(da, db, dc, n);
  timer.finish();
  MIRTUNE_CHECK(cudaGetLastError());
  return mirtuneVerdict(mirtuneDownload(dc, n), expected, 1e-6);
}
#endif
