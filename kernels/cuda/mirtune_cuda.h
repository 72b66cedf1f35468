// Host side of the CUDA suite: error checks, the launch of a coarsened kernel and the region timer.
// Each suite file launches MIRTUNE_KERNEL (default: its own kernel) on a grid it computes for the original
// kernel; building with -DMIRTUNE_KERNEL=<k>_cf<F> -DMIRTUNE_CF=F [-DMIRTUNE_CF_DIM=D] [-DMIRTUNE_CF_SPLIT=1]
// launches `mirtune coarsen`'s kernel instead, with the grid (or, for split_work_group, the block) divided by F.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#ifndef MIRTUNE_CF
#define MIRTUNE_CF 1
#endif
#ifndef MIRTUNE_CF_DIM
#define MIRTUNE_CF_DIM 0
#endif
#ifndef MIRTUNE_CF_SPLIT
#define MIRTUNE_CF_SPLIT 0
#endif

#define MIRTUNE_CHECK(call)                                                                         \
  do {                                                                                              \
    cudaError_t mirtuneError = (call);                                                              \
    if (mirtuneError != cudaSuccess) {                                                              \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(mirtuneError)); \
      std::exit(2);                                                                                 \
    }                                                                                               \
  } while (0)

/// The coarsened kernel's launch for an original launch (grid, block): keep_local_size shrinks the grid,
/// split_work_group the block, by MIRTUNE_CF in dimension MIRTUNE_CF_DIM.
inline void mirtuneCoarsenLaunch(dim3& grid, dim3& block) {
  dim3& shrunk = MIRTUNE_CF_SPLIT ? block : grid;
  unsigned int& size = MIRTUNE_CF_DIM == 0 ? shrunk.x : (MIRTUNE_CF_DIM == 1 ? shrunk.y : shrunk.z);
  if (size % MIRTUNE_CF != 0) {
    std::fprintf(stderr, "the launch (%u) is not a multiple of the factor %d\n", size, MIRTUNE_CF);
    std::exit(2);
  }
  size /= MIRTUNE_CF;
}

/// Times the timed region with CUDA events and prints it as the runner reads it.
struct MirtuneRegionTimer {
  cudaEvent_t start{}, stop{};
  MirtuneRegionTimer() {
    MIRTUNE_CHECK(cudaEventCreate(&start));
    MIRTUNE_CHECK(cudaEventCreate(&stop));
    MIRTUNE_CHECK(cudaEventRecord(start));
  }
  void finish() {
    MIRTUNE_CHECK(cudaEventRecord(stop));
    MIRTUNE_CHECK(cudaEventSynchronize(stop));
    float milliseconds = 0;
    MIRTUNE_CHECK(cudaEventElapsedTime(&milliseconds, start, stop));
    std::printf("mirtune-region-seconds: %.9f\n", milliseconds / 1e3);
  }
};

/// Compares with a tolerance, prints the verdict and gives the exit code.
inline int mirtuneVerdict(const std::vector<float>& actual, const std::vector<float>& expected, double tolerance) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (!(std::fabs(actual[i] - expected[i]) <= tolerance * (1.0 + std::fabs(expected[i])))) {
      std::printf("mirtune-check: failed at %zu: %g, expected %g\n", i, actual[i], expected[i]);
      return 1;
    }
  }
  std::printf("mirtune-check: ok\n");
  return 0;
}

/// Uniform floats in [-1, 1) from a fixed seed, the same on every machine.
inline std::vector<float> mirtuneInput(std::size_t count, unsigned seed) {
  std::vector<float> values(count);
  unsigned state = seed * 2654435761u + 1u;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(state >> 8) / 8388608.0f - 1.0f;
  }
  return values;
}

/// A device copy of `host`.
inline float* mirtuneUpload(const std::vector<float>& host) {
  float* device = nullptr;
  MIRTUNE_CHECK(cudaMalloc(&device, host.size() * sizeof(float)));
  MIRTUNE_CHECK(cudaMemcpy(device, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  return device;
}

inline std::vector<float> mirtuneDownload(const float* device, std::size_t count) {
  std::vector<float> host(count);
  MIRTUNE_CHECK(cudaMemcpy(host.data(), device, count * sizeof(float), cudaMemcpyDeviceToHost));
  return host;
}
