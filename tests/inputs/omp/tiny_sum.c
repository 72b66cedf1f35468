/* A small OpenMP app for the tuner's tests: a fixed-schedule loop the rewrite makes schedule(runtime). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  if (n <= 0) {
    fprintf(stderr, "usage: tiny_sum N\n");
    return 2;
  }
  double* a = malloc(sizeof(double) * n);
  double start = omp_get_wtime();
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    double x = 0;
    for (long j = 0; j < (i % 64); ++j) x += (double)j / (double)(i + 1);
    a[i] = x;
  }
  double seconds = omp_get_wtime() - start;
  long nonzero = 0;
  for (long i = 0; i < n; ++i) nonzero += a[i] > 0;
  long expected = 0;
  for (long i = 0; i < n; ++i) expected += (i % 64) > 1;
  printf("mirtune-region-seconds: %.9f\n", seconds);
  printf("mirtune-result: %ld\n", nonzero);
  if (nonzero != expected) {
    printf("mirtune-check: failed %ld of %ld entries nonzero, expected %ld\n", nonzero, n, expected);
    return 1;
  }
  printf("mirtune-check: ok\n");
  free(a);
  return 0;
}
