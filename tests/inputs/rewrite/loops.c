// Innermost loops of each kind, for loop discovery and loop-pragma insertion.
#include "loop_header.h"

#define DOUBLE_ALL(x, n) for (int k_ = 0; k_ < (n); ++k_) (x)[k_] *= 2.0f

void matmul(float* c, const float* a, const float* b, int n) {
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int k = 0; k < n; ++k) acc += a[i * n + k] * b[k * n + j];
      c[i * n + j] = acc;
    }
  }
}

void saxpy(float* y, const float* x, float alpha, int n) {
	for (int i = 0; i < n; ++i) {
		y[i] += alpha * x[i];
	}
}

int countdown(int n) {
  int steps = 0;
  while (n > 1) {
    n = (n % 2 == 0) ? n / 2 : 3 * n + 1;
    ++steps;
  }
  return steps;
}

float prefix(float* x, int n) {
  int i = 1;
  do {
    x[i] += x[i - 1];
    ++i;
  } while (i < n);
  return x[n - 1];
}

void alreadyHinted(float* x, int n) {
  #pragma clang loop unroll_count(2)
  for (int i = 0; i < n; ++i) x[i] = x[i] * x[i];
}

void sameLine(float* x, int n, int flag) {
  if (flag) for (int i = 0; i < n; ++i) x[i] = 0.0f;
}

void viaMacro(float* x, int n) {
  DOUBLE_ALL(x, n);
}

void openMpLoop(float* x, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) x[i] += 1.0f;
}

float useHeader(const float* x, int n) { return sumArray(x, n); }
