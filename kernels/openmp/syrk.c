// syrk: lower triangle of C = alpha * A * A^T + beta * C, A n x m; row i has i + 1 entries.
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
          "syrk: %s\n"
          "usage: syrk N M\n"
          "  N  order of C, 1..8192\n"
          "  M  columns of A, 1..8192\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "syrk: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 141, kSeedC = 142, kSamples = 128 };
static const double kAlpha = 1.5, kBeta = 1.2;

int main(int argc, char** argv) {
  long n = 0, m = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 1, 8192, &n)) return usage("N must be an integer in 1..8192");
  if (!parseArgument(argv[2], 1, 8192, &m)) return usage("M must be an integer in 1..8192");
  double* a = allocateOrExit((size_t)n * m, sizeof(double));
  double* c = allocateOrExit((size_t)n * n, sizeof(double));
  for (size_t e = 0; e < (size_t)n * m; e++) a[e] = uniformAt(kSeedA, e, -1, 1);
  for (size_t e = 0; e < (size_t)n * n; e++) c[e] = uniformAt(kSeedC, e, -1, 1);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel for
  for (long i = 0; i < n; i++) {
    const double* rowI = a + (size_t)i * m;
    for (long j = 0; j <= i; j++) {
      const double* rowJ = a + (size_t)j * m;
      double sum = 0;
      for (long k = 0; k < m; k++) sum += rowI[k] * rowJ[k];
      c[(size_t)i * n + j] = kBeta * c[(size_t)i * n + j] + kAlpha * sum;
    }
  }
  double seconds = omp_get_wtime() - start;

  // Sampled entries from regenerated inputs: the lower triangle (last row and corner included) must be
  // updated, the strict upper triangle left alone.
  char failure[160];
  const char* failed = NULL;
  for (int s = 0; s < kSamples && failed == NULL; s++) {
    long i = s < 2 ? n - 1 : (long)(mix64(11 * s) % (uint64_t)n);
    long j = s == 0 ? 0 : s == 1 ? n - 1 : (long)(mix64(11 * s + 1) % (uint64_t)n);
    double original = uniformAt(kSeedC, (size_t)i * n + j, -1, 1);
    double want = original, scale = 0;
    if (j <= i) {
      double sum = 0;
      for (long k = 0; k < m; k++) {
        double term =
            uniformAt(kSeedA, (size_t)i * m + k, -1, 1) * uniformAt(kSeedA, (size_t)j * m + k, -1, 1);
        sum += term;
        scale += fabs(term);
      }
      want = kBeta * original + kAlpha * sum;
      scale = kBeta * fabs(original) + kAlpha * scale;
    }
    double got = c[(size_t)i * n + j];
    if (!(fabs(got - want) <= 1e-12 * scale)) {
      snprintf(failure, sizeof failure, "C[%ld][%ld] = %.17g, expected %.17g", i, j, got, want);
      failed = failure;
    }
  }
  // Every entry is summed in the same order whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (long i = 0; i < n; i++)
    for (long j = 0; j <= i; j++) checksum += c[(size_t)i * n + j];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(a);
  free(c);
  return status;
}
