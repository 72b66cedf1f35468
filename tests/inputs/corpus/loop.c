// A reduction and a stencil with an OpenMP parallel loop: -O levels give different IR.
#define N 1024

float a[N], b[N];

float sum(void) {
  float s = 0.0f;
  for (int i = 0; i < N; ++i) s += a[i] * b[i];
  return s;
}

void smooth(void) {
#pragma omp parallel for
  for (int i = 1; i < N - 1; ++i) b[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0f;
}
