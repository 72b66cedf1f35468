// Never finishes for n > 0 (the default plan passes the global size): the `devmap --run --timeout` test.
__kernel void spin(__global volatile int* out, const int n) {
  while (n > 0) {
    out[get_global_id(0)] += 1;
  }
}
