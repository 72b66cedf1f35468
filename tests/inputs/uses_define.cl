// Compiles only when WIDTH is given with -D.
__kernel void row_sum(__global float* out, __global const float* in) {
  size_t row = get_global_id(0);
  float sum = 0.0f;
  for (int j = 0; j < WIDTH; ++j) sum += in[row * WIDTH + j];
  out[row] = sum;
}
