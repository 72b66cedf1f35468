// Block sums in shared memory: 128 threads per block, a tree unrolled into steps separated by __syncthreads()
// at the kernel's top level (so coarsening can split the block); the host adds the block sums.
#define REDUCTION_BLOCK 128

__global__ void reduction(const float* in, float* partial, int n) {
  __shared__ float sums[REDUCTION_BLOCK];
  unsigned int t = threadIdx.x;
  unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
  sums[t] = i < n ? in[i] : 0.0f;
  __syncthreads();
  if (t < 64) sums[t] += sums[t + 64];
  __syncthreads();
  if (t < 32) sums[t] += sums[t + 32];
  __syncthreads();
  if (t < 16) sums[t] += sums[t + 16];
  __syncthreads();
  if (t < 8) sums[t] += sums[t + 8];
  __syncthreads();
  if (t < 4) sums[t] += sums[t + 4];
  __syncthreads();
  if (t < 2) sums[t] += sums[t + 2];
  __syncthreads();
  if (t == 0) partial[blockIdx.x] = sums[0] + sums[1];
}

#ifndef __CUDA_ARCH__
#include "mirtune_cuda.h"
#ifndef MIRTUNE_KERNEL
#define MIRTUNE_KERNEL reduction
#endif

int main() {
  const int n = 1 << 22, blocks = n / REDUCTION_BLOCK;
  std::vector<float> in = mirtuneInput(n, 9), expected(blocks);
  for (int b = 0; b < blocks; ++b) {
    double sum = 0;
    for (int t = 0; t < REDUCTION_BLOCK; ++t) sum += in[b * REDUCTION_BLOCK + t];
    expected[b] = float(sum);
  }
  float *din = mirtuneUpload(in), *dpartial = mirtuneUpload(std::vector<float>(blocks));
  dim3 block(REDUCTION_BLOCK), grid(blocks);
  mirtuneCoarsenLaunch(grid, block);
  MIRTUNE_KERNEL<<<grid, block>>>(din, dpartial, n);
  MirtuneRegionTimer timer;
  MIRTUNE_KERNEL<<<grid, block>>>(din, dpartial, n);
  timer.finish();
  MIRTUNE_CHECK(cudaGetLastError());
  return mirtuneVerdict(mirtuneDownload(dpartial, blocks), expected, 1e-4);
}
#endif
