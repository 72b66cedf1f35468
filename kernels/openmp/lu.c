// lu: LU without pivoting of a diagonally dominant n x n matrix; fewer rows below each pivot.
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
          "lu: %s\n"
          "usage: lu N\n"
          "  N  matrix order, 2..4096\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "lu: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 121, kSamples = 96 };

// Diagonally dominant, so elimination without pivoting is stable.
static double entry(long i, long j, long n) {
  double value = uniformAt(kSeedA, (size_t)i * n + j, -1, 1);
  return i == j ? value + (double)n : value;
}

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 2, 4096, &n)) return usage("N must be an integer in 2..4096");
  double* a = allocateOrExit((size_t)n * n, sizeof(double));
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++) a[(size_t)i * n + j] = entry(i, j, n);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel
  {
    for (long k = 0; k < n - 1; k++) {
      // Row k is final once step k starts; the implicit barrier ends the step before row k + 1 is read.
      const double* pivotRow = a + (size_t)k * n;
#pragma omp for
      for (long i = k + 1; i < n; i++) {
        double* row = a + (size_t)i * n;
        double factor = row[k] / pivotRow[k];
        row[k] = factor;
        for (long j = k + 1; j < n; j++) row[j] -= factor * pivotRow[j];
      }
    }
  }
  double seconds = omp_get_wtime() - start;

  // L * U (unit lower L, upper U, both stored in a) must give back the regenerated matrix at sampled entries,
  // the last row and column included.
  char failure[160];
  const char* failed = NULL;
  for (int s = 0; s < kSamples && failed == NULL; s++) {
    long i, j;
    if (s < 4) {
      i = (s & 1) * (n - 1);
      j = (s >> 1) * (n - 1);
    } else {
      // A third of the samples come from the last four rows, which the final pivot steps write.
      uint64_t bits = mix64(7 * s);
      i = s < 36 ? n - 1 - (long)(bits % 4 % (uint64_t)n) : (long)(bits % (uint64_t)n);
      j = (long)(mix64(7 * s + 1) % (uint64_t)n);
    }
    double product = 0, scale = 0;
    long last = i < j ? i : j;
    for (long k = 0; k <= last; k++) {
      double l = k == i ? 1.0 : a[(size_t)i * n + k];
      double term = l * a[(size_t)k * n + j];
      product += term;
      scale += fabs(term);
    }
    double want = entry(i, j, n);
    if (!(fabs(product - want) <= 1e-12 * scale + 1e-14)) {
      snprintf(failure, sizeof failure, "(L U)[%ld][%ld] = %.17g, expected %.17g", i, j, product, want);
      failed = failure;
    }
  }
  // Every entry is updated in the same order whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (long i = 0; i < n; i++) checksum += a[(size_t)i * n + i];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(a);
  return status;
}
