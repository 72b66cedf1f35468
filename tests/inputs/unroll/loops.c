// Loops for the loop-slice tests: a simple loop, a nest, a while loop, a loop made by a macro and one in a header.
#include "loop_header.h"

#define FILL(a, n, v) for (int k = 0; k < (n); ++k) (a)[k] = (v)

float data[4096];
float other[4096];

__attribute__((noinline)) float sum(int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += data[i];
  return s;
}

__attribute__((noinline)) void nest(int n, int m) {
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) {
      other[i * m + j] = data[i * m + j] * 2.0f + 1.0f;
    }
  }
}

__attribute__((noinline)) int countdown(int n) {
  int steps = 0;
  while (n > 1) {
    n = (n & 1) ? 3 * n + 1 : n / 2;
    ++steps;
  }
  return steps;
}

__attribute__((noinline)) void fill(int n) { FILL(data, n, 1.5f); }

int main(int argc, char** argv) {
  (void)argv;
  fill(4096);
  nest(64, 64);
  scale_in_header(other, 4096, 0.5f);
  return (int)sum(4096) + countdown(argc + 26);
}
