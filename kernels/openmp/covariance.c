// covariance: covariance of m variables over n samples: means, centring (collapse(2)), m x m product.
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
          "covariance: %s\n"
          "usage: covariance N M\n"
          "  N  samples (rows of the data), 2..1000000\n"
          "  M  variables (columns), 1..10000 (N * M <= 2^27)\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "covariance: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedData = 81, kSamples = 64 };

// Sample k of variable j: a per-variable offset and scale make the centring step matter.
static double datum(long k, long j, long m) {
  return 3.0 * (double)(j % 5) +
         (1.0 + 0.1 * (double)(j % 3)) * uniformAt(kSeedData, (size_t)k * m + j, -1, 1);
}

int main(int argc, char** argv) {
  long n = 0, m = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 2, 1000000, &n)) return usage("N must be an integer in 2..1000000");
  if (!parseArgument(argv[2], 1, 10000, &m)) return usage("M must be an integer in 1..10000");
  if (n * m > (1L << 27)) return usage("N * M must be at most 2^27");
  double* data = allocateOrExit((size_t)n * m, sizeof(double));
  double* mean = allocateOrExit((size_t)m, sizeof(double));
  double* cov = allocateOrExit((size_t)m * m, sizeof(double));
  for (long k = 0; k < n; k++)
    for (long j = 0; j < m; j++) data[(size_t)k * m + j] = datum(k, j, m);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel for
  for (long j = 0; j < m; j++) {
    double sum = 0;
    for (long k = 0; k < n; k++) sum += data[(size_t)k * m + j];
    mean[j] = sum / (double)n;
  }
#pragma omp parallel for collapse(2)
  for (long k = 0; k < n; k++)
    for (long j = 0; j < m; j++) data[(size_t)k * m + j] -= mean[j];
      // Row i of cov accumulates sample after sample, so the inner loop runs along contiguous memory.
#pragma omp parallel for schedule(static)
  for (long i = 0; i < m; i++) {
    double* row = cov + (size_t)i * m;
    for (long k = 0; k < n; k++) {
      double dki = data[(size_t)k * m + i];
      const double* sample = data + (size_t)k * m;
      for (long j = 0; j < m; j++) row[j] += dki * sample[j];
    }
    for (long j = 0; j < m; j++) row[j] /= (double)(n - 1);
  }
  double seconds = omp_get_wtime() - start;

  // Sampled entries (corners first) from regenerated data: two-pass mean and covariance of the pair, compared
  // within a tolerance scaled by the two standard deviations.
  char failure[160];
  const char* failed = NULL;
  for (int s = 0; s < kSamples && failed == NULL; s++) {
    long i = s < 4 ? (s & 1) * (m - 1) : (long)(mix64(3 * s) % (uint64_t)m);
    long j = s < 4 ? (s >> 1) * (m - 1) : (long)(mix64(3 * s + 1) % (uint64_t)m);
    double meanI = 0, meanJ = 0;
    for (long k = 0; k < n; k++) {
      meanI += datum(k, i, m);
      meanJ += datum(k, j, m);
    }
    meanI /= (double)n;
    meanJ /= (double)n;
    double cross = 0, squaresI = 0, squaresJ = 0;
    for (long k = 0; k < n; k++) {
      double di = datum(k, i, m) - meanI, dj = datum(k, j, m) - meanJ;
      cross += di * dj;
      squaresI += di * di;
      squaresJ += dj * dj;
    }
    double want = cross / (double)(n - 1);
    double got = cov[(size_t)i * m + j];
    double scale = sqrt(squaresI * squaresJ) / (double)(n - 1);
    if (!(fabs(got - want) <= 1e-10 * scale)) {
      snprintf(failure, sizeof failure, "cov[%ld][%ld] = %.17g, expected %.17g", i, j, got, want);
      failed = failure;
    }
  }
  // Each entry is summed in the same order whatever the schedule, so this trace does not depend on it.
  double trace = 0;
  for (long i = 0; i < m; i++) trace += cov[(size_t)i * m + i];
  char result[64];
  snprintf(result, sizeof result, "%.6e", trace);
  int status = report(seconds, result, failed);
  free(data);
  free(mean);
  free(cov);
  return status;
}
