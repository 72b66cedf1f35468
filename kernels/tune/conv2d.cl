// 2-D convolution of a single-precision image with a FILTER_SIZE x FILTER_SIZE filter, no padding: the input is
// (IMAGE_WIDTH + FILTER_SIZE - 1) x (IMAGE_HEIGHT + FILTER_SIZE - 1), the output IMAGE_WIDTH x IMAGE_HEIGHT.
// Tunables: a work-group of block_size_x x block_size_y work-items, each computing tile_size_x x tile_size_y
// outputs spaced one work-group width apart (so neighbouring work-items still read neighbouring pixels).
#ifndef block_size_x
#define block_size_x 16
#endif
#ifndef block_size_y
#define block_size_y 4
#endif
#ifndef tile_size_x
#define tile_size_x 1
#endif
#ifndef tile_size_y
#define tile_size_y 1
#endif
#ifndef IMAGE_WIDTH
#define IMAGE_WIDTH 256
#endif
#ifndef IMAGE_HEIGHT
#define IMAGE_HEIGHT 256
#endif
#ifndef FILTER_SIZE
#define FILTER_SIZE 5
#endif

#define INPUT_WIDTH (IMAGE_WIDTH + FILTER_SIZE - 1)

__kernel void convolve(__global float* output, __global const float* input, __constant float* filter) {
  const int firstX = get_group_id(0) * block_size_x * tile_size_x + get_local_id(0);
  const int firstY = get_group_id(1) * block_size_y * tile_size_y + get_local_id(1);
  for (int ty = 0; ty < tile_size_y; ++ty) {
    const int y = firstY + ty * block_size_y;
    if (y >= IMAGE_HEIGHT) break;
    for (int tx = 0; tx < tile_size_x; ++tx) {
      const int x = firstX + tx * block_size_x;
      if (x >= IMAGE_WIDTH) break;
      float sum = 0.0f;
      for (int fy = 0; fy < FILTER_SIZE; ++fy) {
        for (int fx = 0; fx < FILTER_SIZE; ++fx) {
          sum += input[(y + fy) * INPUT_WIDTH + x + fx] * filter[fy * FILTER_SIZE + fx];
        }
      }
      output[y * IMAGE_WIDTH + x] = sum;
    }
  }
}
