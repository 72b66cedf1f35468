// Element-wise sum c = a + b of two float vectors: one work-item per element, guarded for any global size.
__kernel void vector_add(__global const float* a, __global const float* b, __global float* c, const int n) {
  const int i = get_global_id(0);
  if (i < n) c[i] = a[i] + b[i];
}
