// atax: y = A^T (A x) for an m x n matrix, repeated; rows for A x, blocks of columns for A^T tmp.
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
          "atax: %s\n"
          "usage: atax M N REPS\n"
          "  M     rows of A, 1..100000\n"
          "  N     columns of A, 1..100000 (M * N <= 2^28)\n"
          "  REPS  times the product is computed in the timed region, 1..10000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "atax: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 31, kSeedX = 32, kColumnBlock = 64 };

int main(int argc, char** argv) {
  long m = 0, n = 0, reps = 0;
  if (argc != 4) return usage("expected 3 arguments");
  if (!parseArgument(argv[1], 1, 100000, &m)) return usage("M must be an integer in 1..100000");
  if (!parseArgument(argv[2], 1, 100000, &n)) return usage("N must be an integer in 1..100000");
  if (!parseArgument(argv[3], 1, 10000, &reps)) return usage("REPS must be an integer in 1..10000");
  if (m * n > (1L << 28)) return usage("M * N must be at most 2^28");
  double* a = allocateOrExit((size_t)m * n, sizeof(double));
  double* x = allocateOrExit((size_t)n, sizeof(double));
  double* tmp = allocateOrExit((size_t)m, sizeof(double));
  double* y = allocateOrExit((size_t)n, sizeof(double));
  for (size_t e = 0; e < (size_t)m * n; e++) a[e] = uniformAt(kSeedA, e, -1, 1);
  for (long j = 0; j < n; j++) x[j] = uniformAt(kSeedX, j, -1, 1);
  long blocks = (n + kColumnBlock - 1) / kColumnBlock;

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  for (long rep = 0; rep < reps; rep++) {
#pragma omp parallel for
    for (long i = 0; i < m; i++) {
      double sum = 0;
      for (long j = 0; j < n; j++) sum += a[(size_t)i * n + j] * x[j];
      tmp[i] = sum;
    }
    // A^T tmp walks A by rows inside a block of columns, so each thread streams whole cache lines.
#pragma omp parallel for schedule(static)
    for (long block = 0; block < blocks; block++) {
      long first = block * kColumnBlock;
      long last = first + kColumnBlock < n ? first + kColumnBlock : n;
      for (long j = first; j < last; j++) y[j] = 0;
      for (long i = 0; i < m; i++) {
        double factor = tmp[i];
        for (long j = first; j < last; j++) y[j] += a[(size_t)i * n + j] * factor;
      }
    }
  }
  double seconds = omp_get_wtime() - start;

  // Sequential recomputation from regenerated inputs: A x by rows, then every y[j] down its column.
  char failure[160];
  const char* failed = NULL;
  double* tmpWant = allocateOrExit((size_t)m, sizeof(double));
  double* tmpScale = allocateOrExit((size_t)m, sizeof(double));
  for (long i = 0; i < m; i++) {
    for (long j = 0; j < n; j++) {
      double term = uniformAt(kSeedA, (size_t)i * n + j, -1, 1) * uniformAt(kSeedX, j, -1, 1);
      tmpWant[i] += term;
      tmpScale[i] += fabs(term);
    }
  }
  for (long j = 0; j < n && failed == NULL; j++) {
    double want = 0, scale = 0;
    for (long i = 0; i < m; i++) {
      double aij = a[(size_t)i * n + j];
      if (aij != uniformAt(kSeedA, (size_t)i * n + j, -1, 1)) {
        snprintf(failure, sizeof failure, "A[%ld][%ld] was modified", i, j);
        failed = failure;
        break;
      }
      want += aij * tmpWant[i];
      scale += fabs(aij) * tmpScale[i];
    }
    if (failed == NULL && !(fabs(y[j] - want) <= 1e-12 * scale)) {
      snprintf(failure, sizeof failure, "y[%ld] = %.17g, expected %.17g", j, y[j], want);
      failed = failure;
    }
  }
  // Each y[j] is summed in the same order whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (long j = 0; j < n; j++) checksum += y[j];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  int status = report(seconds, result, failed);
  free(tmpWant);
  free(tmpScale);
  free(a);
  free(x);
  free(tmp);
  free(y);
  return status;
}
