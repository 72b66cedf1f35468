// Inclusive prefix sum of ints within each work-group (Hillis-Steele scan in local memory; the local size
// must fit the scratch buffer). Each group's slice is scanned on its own; a second pass over the group
// totals would complete a full-array scan.
__kernel void prefix_sum(__global const int* in, __global int* out, __local int* scratch, const int n) {
  const int i = get_global_id(0);
  const int lid = get_local_id(0);
  scratch[lid] = i < n ? in[i] : 0;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int offset = 1; offset < (int)get_local_size(0); offset *= 2) {
    const int addend = lid >= offset ? scratch[lid - offset] : 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    scratch[lid] += addend;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (i < n) out[i] = scratch[lid];
}
