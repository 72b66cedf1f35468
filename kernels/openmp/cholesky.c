// cholesky: right-looking Cholesky of an n x n SPD matrix; the trailing update is a triangle.
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
          "cholesky: %s\n"
          "usage: cholesky N\n"
          "  N  matrix order, 2..4096\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "cholesky: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 131, kSamples = 96 };

// Symmetric and diagonally dominant with a positive diagonal, hence positive definite.
static double entry(long i, long j, long n) {
  long lo = i < j ? i : j, hi = i < j ? j : i;
  double value = uniformAt(kSeedA, (size_t)hi * n + lo, -1, 1);
  return i == j ? fabs(value) + (double)n : value;
}

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 2, 4096, &n)) return usage("N must be an integer in 2..4096");
  // Only the lower triangle is read and written; it ends up holding L.
  double* a = allocateOrExit((size_t)n * n, sizeof(double));
  double* column = allocateOrExit((size_t)n, sizeof(double));
  for (long i = 0; i < n; i++)
    for (long j = 0; j <= i; j++) a[(size_t)i * n + j] = entry(i, j, n);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel
  {
    for (long k = 0; k < n; k++) {
#pragma omp single
      a[(size_t)k * n + k] = sqrt(a[(size_t)k * n + k]);
      // Column k is also copied to a contiguous vector so the update below reads it along rows.
#pragma omp for
      for (long i = k + 1; i < n; i++) {
        a[(size_t)i * n + k] /= a[(size_t)k * n + k];
        column[i] = a[(size_t)i * n + k];
      }
#pragma omp for schedule(dynamic, 4)
      for (long i = k + 1; i < n; i++) {
        double* row = a + (size_t)i * n;
        double factor = column[i];
        for (long j = k + 1; j <= i; j++) row[j] -= factor * column[j];
      }
    }
  }
  double seconds = omp_get_wtime() - start;

  // L * L^T must give back the regenerated matrix at sampled lower-triangle entries, the last row included.
  char failure[160];
  const char* failed = NULL;
  for (int s = 0; s < kSamples && failed == NULL; s++) {
    long i, j;
    if (s < 3) {
      // The last row against the first, the last and the second-to-last column.
      i = n - 1;
      j = s == 0 ? 0 : s == 1 ? n - 1 : n - 2;
    } else {
      // A third of the samples come from the last four rows, which the final steps write.
      uint64_t bits = mix64(5 * s);
      i = s < 36 ? n - 1 - (long)(bits % 4 % (uint64_t)n) : (long)(bits % (uint64_t)n);
      j = (long)(mix64(5 * s + 1) % (uint64_t)(i + 1));
    }
    double product = 0, scale = 0;
    for (long k = 0; k <= j; k++) {
      double term = a[(size_t)i * n + k] * a[(size_t)j * n + k];
      product += term;
      scale += fabs(term);
    }
    double want = entry(i, j, n);
    if (!(fabs(product - want) <= 1e-12 * scale + 1e-14)) {
      snprintf(failure, sizeof failure, "(L L^T)[%ld][%ld] = %.17g, expected %.17g", i, j, product, want);
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
  free(column);
  return status;
}
