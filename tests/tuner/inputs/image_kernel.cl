// Reads an image through a sampler: image arguments are refused by mirtune-run.
__constant sampler_t kSampler = CLK_NORMALIZED_COORDS_FALSE | CLK_ADDRESS_CLAMP_TO_EDGE | CLK_FILTER_NEAREST;

__kernel void blur(__read_only image2d_t image, __global float* out, const int width) {
  const int x = get_global_id(0);
  const int y = get_global_id(1);
  out[y * width + x] = read_imagef(image, kSampler, (int2)(x, y)).x;
}
