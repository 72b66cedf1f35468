// Sobel edge magnitude of an n x n grey image: sqrt(gx^2 + gy^2) from the two 3 x 3 Sobel operators on
// interior pixels, zero on the border.
__kernel void sobel(__global const float* in, __global float* out, const int n) {
  const int x = get_global_id(0);
  const int y = get_global_id(1);
  if (x >= n || y >= n) return;
  if (x == 0 || y == 0 || x == n - 1 || y == n - 1) {
    out[y * n + x] = 0.0f;
    return;
  }
  const float nw = in[(y - 1) * n + x - 1], north = in[(y - 1) * n + x], ne = in[(y - 1) * n + x + 1];
  const float west = in[y * n + x - 1], east = in[y * n + x + 1];
  const float sw = in[(y + 1) * n + x - 1], south = in[(y + 1) * n + x], se = in[(y + 1) * n + x + 1];
  const float gx = (ne + 2.0f * east + se) - (nw + 2.0f * west + sw);
  const float gy = (sw + 2.0f * south + se) - (nw + 2.0f * north + ne);
  out[y * n + x] = sqrt(gx * gx + gy * gy);
}
