// A header with its own OpenMP loop: the schedule rewrite lists it but leaves it alone.
#pragma once

static inline void scaleInHeader(double* x, int n, double factor) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) x[i] *= factor;
}
