// 256-bin histogram of byte values held in uints: each work-group counts into a private copy in local memory
// with local atomics, then adds its non-zero bins to the global histogram with global atomics.
#define BINS 256

__kernel void histogram(__global const uint* data, __global uint* bins, const int n) {
  __local uint localBins[BINS];
  const int lid = get_local_id(0);
  const int groupSize = get_local_size(0);
  for (int b = lid; b < BINS; b += groupSize) localBins[b] = 0;
  barrier(CLK_LOCAL_MEM_FENCE);
  const int i = get_global_id(0);
  if (i < n) atomic_inc(&localBins[data[i] & (BINS - 1)]);
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int b = lid; b < BINS; b += groupSize) {
    if (localBins[b] != 0) atomic_add(&bins[b], localBins[b]);
  }
}
