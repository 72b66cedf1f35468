// 2mm: D = alpha * A * B * C + beta * D on n x n doubles, as two products (collapse(2), then rows).
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
          "2mm: %s\n"
          "usage: 2mm N\n"
          "  N  matrix order, 2..4096\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "2mm: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 21, kSeedB = 22, kSeedC = 23, kSeedD = 24, kSampleRows = 6, kSampleColumns = 8 };
static const double kAlpha = 1.5, kBeta = 1.2;

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 2, 4096, &n)) return usage("N must be an integer in 2..4096");
  size_t elements = (size_t)n * (size_t)n;
  double* a = allocateOrExit(elements, sizeof(double));
  double* b = allocateOrExit(elements, sizeof(double));
  double* c = allocateOrExit(elements, sizeof(double));
  double* d = allocateOrExit(elements, sizeof(double));
  double* tmp = allocateOrExit(elements, sizeof(double));
  for (size_t e = 0; e < elements; e++) {
    a[e] = uniformAt(kSeedA, e, -1, 1);
    b[e] = uniformAt(kSeedB, e, -1, 1);
    c[e] = uniformAt(kSeedC, e, -1, 1);
    d[e] = uniformAt(kSeedD, e, -1, 1);
  }

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  // tmp = alpha * A * B, one dot product per entry (the textbook form: B is read down its columns).
#pragma omp parallel for collapse(2)
  for (long i = 0; i < n; i++) {
    for (long j = 0; j < n; j++) {
      double sum = 0;
      for (long k = 0; k < n; k++) sum += kAlpha * a[(size_t)i * n + k] * b[(size_t)k * n + j];
      tmp[(size_t)i * n + j] = sum;
    }
  }
  // D = tmp * C + beta * D, row by row in i-k-j order.
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {
    double* row = d + (size_t)i * n;
    for (long j = 0; j < n; j++) row[j] *= kBeta;
    for (long k = 0; k < n; k++) {
      double factor = tmp[(size_t)i * n + k];
      const double* cRow = c + (size_t)k * n;
      for (long j = 0; j < n; j++) row[j] += factor * cRow[j];
    }
  }
  double seconds = omp_get_wtime() - start;

  // Sampled rows (first and last included): one row of A * B from regenerated inputs, then sampled entries of
  // D.
  char failure[160];
  const char* failed = NULL;
  double* abRow = allocateOrExit((size_t)n, sizeof(double));
  double* abScale = allocateOrExit((size_t)n, sizeof(double));
  for (int r = 0; r < kSampleRows && failed == NULL; r++) {
    long i = r == 0 ? 0 : r == 1 ? n - 1 : (long)(mix64(100 + r) % (uint64_t)n);
    for (long k = 0; k < n; k++) {
      abRow[k] = 0;
      abScale[k] = 0;
    }
    for (long m = 0; m < n; m++) {
      double aim = kAlpha * uniformAt(kSeedA, (size_t)i * n + m, -1, 1);
      for (long k = 0; k < n; k++) {
        double term = aim * uniformAt(kSeedB, (size_t)m * n + k, -1, 1);
        abRow[k] += term;
        abScale[k] += fabs(term);
      }
    }
    for (int s = 0; s < kSampleColumns && failed == NULL; s++) {
      long j = s == 0 ? 0 : s == 1 ? n - 1 : (long)(mix64(1000 * r + s) % (uint64_t)n);
      double want = kBeta * uniformAt(kSeedD, (size_t)i * n + j, -1, 1);
      double scale = fabs(want);
      for (long k = 0; k < n; k++) {
        double ckj = uniformAt(kSeedC, (size_t)k * n + j, -1, 1);
        want += abRow[k] * ckj;
        scale += abScale[k] * fabs(ckj);
      }
      double got = d[(size_t)i * n + j];
      if (!(fabs(got - want) <= 1e-11 * scale)) {
        snprintf(failure, sizeof failure, "D[%ld][%ld] = %.17g, expected %.17g", i, j, got, want);
        failed = failure;
      }
    }
  }
  // Each entry is formed in a fixed order whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (size_t e = 0; e < elements; e++) checksum += d[e];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(abRow);
  free(abScale);
  free(a);
  free(b);
  free(c);
  free(d);
  free(tmp);
  return status;
}
