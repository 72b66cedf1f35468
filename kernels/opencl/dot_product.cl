// Dot product, first stage: each work-group multiplies its slice of a and b and reduces it in local memory
// (tree reduction, local size a power of two) to one partial sum per group; the host adds the partials.
__kernel void dot_product(__global const float* a, __global const float* b, __global float* partial,
                          __local float* scratch, const int n) {
  const int i = get_global_id(0);
  const int lid = get_local_id(0);
  scratch[lid] = i < n ? a[i] * b[i] : 0.0f;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int stride = get_local_size(0) / 2; stride > 0; stride /= 2) {
    if (lid < stride) scratch[lid] += scratch[lid + stride];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) partial[get_group_id(0)] = scratch[0];
}
