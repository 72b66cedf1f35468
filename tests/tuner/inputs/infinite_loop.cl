// Spins until a flag that nobody sets becomes non-zero: the run_timeout test.
__kernel void spin(__global volatile int* flag, __global float* out) {
  while (flag[0] == 0) {
    out[get_global_id(0)] += 1.0f;
  }
}
