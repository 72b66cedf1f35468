// stencil1d: T sweeps of a 1-D 5-point stencil over n points, an omp for per sweep in one region.
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
          "stencil1d: %s\n"
          "usage: stencil1d N T\n"
          "  N  points, 5..100000000\n"
          "  T  sweeps, 1..1000000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "stencil1d: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedU = 71 };
static const double kWeights[5] = {0.05, 0.25, 0.4, 0.25, 0.05};

int main(int argc, char** argv) {
  long n = 0, steps = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 5, 100000000, &n)) return usage("N must be an integer in 5..100000000");
  if (!parseArgument(argv[2], 1, 1000000, &steps)) return usage("T must be an integer in 1..1000000");
  double* u = allocateOrExit((size_t)n, sizeof(double));
  double* v = allocateOrExit((size_t)n, sizeof(double));
  for (long i = 0; i < n; i++) u[i] = v[i] = uniformAt(kSeedU, i, -1, 1);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel
  {
    // Every thread swaps its own copies of the two pointers after each sweep's implicit barrier.
    double* from = u;
    double* to = v;
    for (long t = 0; t < steps; t++) {
#pragma omp for
      for (long i = 2; i < n - 2; i++) {
        to[i] = kWeights[0] * from[i - 2] + kWeights[1] * from[i - 1] + kWeights[2] * from[i] +
                kWeights[3] * from[i + 1] + kWeights[4] * from[i + 2];
      }
      double* swap = from;
      from = to;
      to = swap;
    }
  }
  double seconds = omp_get_wtime() - start;
  const double* got = steps % 2 == 0 ? u : v;

  // The whole computation again, sequentially, from regenerated inputs; every point is compared.
  char failure[160];
  const char* failed = NULL;
  double* from = allocateOrExit((size_t)n, sizeof(double));
  double* to = allocateOrExit((size_t)n, sizeof(double));
  for (long i = 0; i < n; i++) from[i] = to[i] = uniformAt(kSeedU, i, -1, 1);
  for (long t = 0; t < steps; t++) {
    for (long i = 2; i < n - 2; i++) {
      double sum = 0;
      for (int w = 0; w < 5; w++) sum += kWeights[w] * from[i - 2 + w];
      to[i] = sum;
    }
    double* swap = from;
    from = to;
    to = swap;
  }
  for (long i = 0; i < n && failed == NULL; i++) {
    if (!(fabs(got[i] - from[i]) <= 1e-12)) {
      snprintf(failure, sizeof failure, "u[%ld] = %.17g, expected %.17g", i, got[i], from[i]);
      failed = failure;
    }
  }
  // Each point is computed by the same expression whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (long i = 0; i < n; i++) checksum += got[i] * (double)(i % 7 + 1);
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(from);
  free(to);
  free(u);
  free(v);
  return status;
}
