// 2-D convolution of an n x n image with a WIDTH x WIDTH filter held in constant memory; pixels outside the
// image take the value of the nearest edge pixel (clamp to edge).
#ifndef WIDTH
#define WIDTH 5
#endif

__kernel void convolution2d(__global const float* in, __constant float* filter, __global float* out, const int n) {
  const int x = get_global_id(0);
  const int y = get_global_id(1);
  if (x >= n || y >= n) return;
  const int radius = WIDTH / 2;
  float sum = 0.0f;
  for (int fy = 0; fy < WIDTH; ++fy) {
    const int sy = clamp(y + fy - radius, 0, n - 1);
    for (int fx = 0; fx < WIDTH; ++fx) {
      const int sx = clamp(x + fx - radius, 0, n - 1);
      sum += filter[fy * WIDTH + fx] * in[sy * n + sx];
    }
  }
  out[y * n + x] = sum;
}
