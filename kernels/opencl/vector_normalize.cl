// Scales each float4 to unit Euclidean length (all four components), one vector per work-item.
__kernel void vector_normalize(__global const float4* in, __global float4* out, const int n) {
  const int i = get_global_id(0);
  if (i < n) out[i] = normalize(in[i]);
}
