// An OpenCL kernel with one inner loop, for loop discovery and pragma insertion in OpenCL C.
__kernel void rowSums(__global const float* m, __global float* out, int n) {
  int row = get_global_id(0);
  float s = 0.0f;
  for (int j = 0; j < n; ++j) s += m[row * n + j];
  out[row] = s;
}
