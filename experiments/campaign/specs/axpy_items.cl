// y = alpha * x + y over n floats, ITEMS elements per work-item, either contiguous (STRIDED 0: a work-item's
// elements are neighbours) or strided (STRIDED 1: element k of every work-item is one global size apart), with the
// inner loop unrolled UNROLL times. Launch with global n / ITEMS. A small space of cheap configurations, for
// measuring what a campaign's scheduler costs per plan.
#ifndef ITEMS
#define ITEMS 1
#endif
#ifndef UNROLL
#define UNROLL 1
#endif
#ifndef STRIDED
#define STRIDED 0
#endif

__kernel void axpy_items(const int n, const float alpha, __global const float* x, __global float* y) {
  const int id = get_global_id(0);
  const int threads = get_global_size(0);
#pragma unroll UNROLL
  for (int k = 0; k < ITEMS; ++k) {
    const int i = STRIDED ? id + k * threads : id * ITEMS + k;
    if (i < n) y[i] = alpha * x[i] + y[i];
  }
}
