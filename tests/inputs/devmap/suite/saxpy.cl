// Single-precision a*x plus y, in place: y = alpha * x + y, one work-item per element.
__kernel void saxpy(__global const float* x, __global float* y, const float alpha, const int n) {
  const int i = get_global_id(0);
  if (i < n) y[i] = alpha * x[i] + y[i];
}
