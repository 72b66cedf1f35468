// A float reduction whose printed sum depends on the vectorize factors: an explicit vectorize_width lets LLVM
// reorder the additions, which changes the rounding, so the output check must flag those configurations.
#include <stdio.h>

float data[4096];

__attribute__((noinline)) float sum(int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += data[i];
  return s;
}

int main(void) {
  for (int i = 0; i < 4096; ++i) data[i] = (i % 7 == 0) ? 1e7f : 0.3f + (float)i * 1e-3f;
  printf("%.9g\n", sum(4096));
  return 0;
}
