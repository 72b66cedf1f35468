// Writes far outside its buffer (gigabytes past the end): crashes a CPU runner, for the run_failed test.
__kernel void scribble(__global float* out, const int n) {
  const size_t i = get_global_id(0);
  out[i * (size_t)268435456] = (float)n;
}
