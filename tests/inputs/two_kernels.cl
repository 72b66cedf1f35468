// Two kernels and a helper: only the kernels are entry points.
float square(float x) { return x * x; }

__kernel void squares(__global float* out, __global const float* in) {
  size_t i = get_global_id(0);
  out[i] = square(in[i]);
}

__kernel void fill(__global float* out, float value) { out[get_global_id(0)] = value; }
