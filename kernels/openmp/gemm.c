// gemm: C = alpha * A * B + beta * C on n x n doubles, rows of C split over threads (i-k-j loop order).
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
          "gemm: %s\n"
          "usage: gemm N\n"
          "  N  matrix order, 2..4096\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "gemm: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 11, kSeedB = 12, kSeedC = 13, kSamples = 96 };
static const double kAlpha = 1.5, kBeta = 1.2;

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 2, 4096, &n)) return usage("N must be an integer in 2..4096");
  size_t elements = (size_t)n * (size_t)n;
  double* a = allocateOrExit(elements, sizeof(double));
  double* b = allocateOrExit(elements, sizeof(double));
  double* c = allocateOrExit(elements, sizeof(double));
  for (size_t e = 0; e < elements; e++) {
    a[e] = uniformAt(kSeedA, e, -1, 1);
    b[e] = uniformAt(kSeedB, e, -1, 1);
    c[e] = uniformAt(kSeedC, e, -1, 1);
  }

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel for
  for (long i = 0; i < n; i++) {
    double* row = c + (size_t)i * n;
    for (long j = 0; j < n; j++) row[j] *= kBeta;
    for (long k = 0; k < n; k++) {
      double scaled = kAlpha * a[(size_t)i * n + k];
      const double* bRow = b + (size_t)k * n;
      for (long j = 0; j < n; j++) row[j] += scaled * bRow[j];
    }
  }
  double seconds = omp_get_wtime() - start;

  // Sampled entries (the four corners first) recomputed from regenerated inputs as plain dot products.
  char failure[160];
  const char* failed = NULL;
  for (int s = 0; s < kSamples && failed == NULL; s++) {
    long i = s < 4 ? (s & 1) * (n - 1) : (long)(mix64(2 * s) % (uint64_t)n);
    long j = s < 4 ? (s >> 1) * (n - 1) : (long)(mix64(2 * s + 1) % (uint64_t)n);
    double want = kBeta * uniformAt(kSeedC, (size_t)i * n + j, -1, 1);
    double scale = fabs(want);
    for (long k = 0; k < n; k++) {
      double term =
          kAlpha * uniformAt(kSeedA, (size_t)i * n + k, -1, 1) * uniformAt(kSeedB, (size_t)k * n + j, -1, 1);
      want += term;
      scale += fabs(term);
    }
    double got = c[(size_t)i * n + j];
    if (!(fabs(got - want) <= 1e-12 * scale)) {
      snprintf(failure, sizeof failure, "C[%ld][%ld] = %.17g, expected %.17g", i, j, got, want);
      failed = failure;
    }
  }
  // Every entry is summed in the same k order whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (size_t e = 0; e < elements; e++) checksum += c[e];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(a);
  free(b);
  free(c);
  return status;
}
