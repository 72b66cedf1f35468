// A "kernel" for the host stand-in of the CUDA runtime (host/cuda_runtime.h): one call does all the work, so it
// runs as a plain function. y = 2 x + shift; counts (read-write) gain shift. A shift over 5 does not compile.
#ifndef shift
#define shift 0
#endif
#if shift > 5
#error "shift must be at most 5"
#endif

__global__ void host_scale(const int n, const float* x, float* y, int* counts) {
  for (int i = 0; i < n; ++i) {
    y[i] = 2.0f * x[i] + shift;
    counts[i] += shift;
  }
}
