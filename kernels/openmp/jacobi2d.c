// jacobi2d: T sweeps of a 5-point average on an n x n grid, an omp for per half-step in one region.
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// splitmix64 finaliser: element (seed, index) has the same value on every machine and libc, and the check
// can regenerate any input element without keeping a copy.
static uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [lo, hi) for element `index` of stream `seed`.
static double uniformAt(uint64_t seed, uint64_t index, double lo, double hi) {
  uint64_t bits = mix64(seed * 0xD1B54A32D192ED03ull ^ mix64(index));
  return lo + (hi - lo) * (double)(bits >> 11) * 0x1.0p-53;
}

// A positional argument in [lo, hi]; 0 for anything else (sign, trailing junk, overflow).
static int parseArgument(const char* text, long lo, long hi, long* value) {
  char* end = NULL;
  errno = 0;
  long parsed = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || parsed < lo || parsed > hi) return 0;
  *value = parsed;
  return 1;
}

static int usage(const char* problem) {
  fprintf(stderr,
          "jacobi2d: %s\n"
          "usage: jacobi2d N T\n"
          "  N  grid side, 3..8192\n"
          "  T  time steps (each two sweeps), 1..100000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "jacobi2d: out of memory (%zu x %zu bytes)\n", count, size);
    exit(1);
  }
  return memory;
}

// The lines the tuner parses (kernels/openmp/README.md); the exit status says whether the check passed.
static int report(double seconds, const char* result, const char* failure) {
  printf("mirtune-region-seconds: %.9f\n", seconds);
  if (result != NULL) printf("mirtune-result: %s\n", result);
  if (failure != NULL) {
    printf("mirtune-check: failed %s\n", failure);
    return 1;
  }
  printf("mirtune-check: ok\n");
  return 0;
}

enum { kSeedA = 51 };

static void sweep(const double* from, double* to, long n, long i) {
  for (long j = 1; j < n - 1; j++) {
    to[i * n + j] = 0.2 * (from[i * n + j] + from[i * n + j - 1] + from[i * n + j + 1] +
                           from[(i + 1) * n + j] + from[(i - 1) * n + j]);
  }
}

int main(int argc, char** argv) {
  long n = 0, steps = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 3, 8192, &n)) return usage("N must be an integer in 3..8192");
  if (!parseArgument(argv[2], 1, 100000, &steps)) return usage("T must be an integer in 1..100000");
  size_t elements = (size_t)n * n;
  double* a = allocateOrExit(elements, sizeof(double));
  double* b = allocateOrExit(elements, sizeof(double));
  for (size_t e = 0; e < elements; e++) a[e] = uniformAt(kSeedA, e, 0, 1);
  memcpy(b, a, elements * sizeof(double));

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel
  {
    for (long t = 0; t < steps; t++) {
#pragma omp for
      for (long i = 1; i < n - 1; i++) {
        for (long j = 1; j < n - 1; j++) {
          b[i * n + j] = 0.2 * (a[i * n + j] + a[i * n + j - 1] + a[i * n + j + 1] + a[(i + 1) * n + j] +
                                a[(i - 1) * n + j]);
        }
      }
#pragma omp for
      for (long i = 1; i < n - 1; i++) {
        for (long j = 1; j < n - 1; j++) {
          a[i * n + j] = 0.2 * (b[i * n + j] + b[i * n + j - 1] + b[i * n + j + 1] + b[(i + 1) * n + j] +
                                b[(i - 1) * n + j]);
        }
      }
    }
  }
  double seconds = omp_get_wtime() - start;

  // The whole computation again, sequentially, from regenerated inputs; every grid point is compared.
  char failure[160];
  const char* failed = NULL;
  double* wantA = allocateOrExit(elements, sizeof(double));
  double* wantB = allocateOrExit(elements, sizeof(double));
  for (size_t e = 0; e < elements; e++) wantA[e] = wantB[e] = uniformAt(kSeedA, e, 0, 1);
  for (long t = 0; t < steps; t++) {
    for (long i = 1; i < n - 1; i++) sweep(wantA, wantB, n, i);
    for (long i = 1; i < n - 1; i++) sweep(wantB, wantA, n, i);
  }
  for (size_t e = 0; e < elements && failed == NULL; e++) {
    if (!(fabs(a[e] - wantA[e]) <= 1e-12)) {
      snprintf(failure, sizeof failure, "A[%zu][%zu] = %.17g, expected %.17g", e / n, e % n, a[e], wantA[e]);
      failed = failure;
    }
  }
  // Each point is computed by the same expression whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (size_t e = 0; e < elements; e++) checksum += a[e];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(wantA);
  free(wantB);
  free(a);
  free(b);
  return status;
}
