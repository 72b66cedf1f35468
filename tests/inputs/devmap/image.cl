// Reads an image: the runner refuses image and sampler arguments.
__kernel void blur(__read_only image2d_t image, __global float* out, const int width) {
  const int i = get_global_id(0);
  out[i] = read_imagef(image, (int2)(i % width, i / width)).x;
}
