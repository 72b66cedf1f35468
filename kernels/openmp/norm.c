// norm: Frobenius and infinity norms of an n x n matrix, repeated: reduction(+) and reduction(max) over rows.
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
          "norm: %s\n"
          "usage: norm N REPS\n"
          "  N     matrix order, 1..16384\n"
          "  REPS  passes in the timed region, 1..100000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "norm: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedA = 201 };

// k / 1024 with |k| < 1024: squares and absolute values are multiples of 2^-20, and every partial sum fits in
// a double's 53 bits, so both reductions give the same bits in any order and with any thread count.
static double dyadicAt(size_t e) {
  return (double)((long)(mix64(kSeedA ^ mix64(e)) % 2047) - 1023) / 1024.0;
}

int main(int argc, char** argv) {
  long n = 0, reps = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 1, 16384, &n)) return usage("N must be an integer in 1..16384");
  if (!parseArgument(argv[2], 1, 100000, &reps)) return usage("REPS must be an integer in 1..100000");
  double* a = allocateOrExit((size_t)n * n, sizeof(double));
  for (size_t e = 0; e < (size_t)n * n; e++) a[e] = dyadicAt(e);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double squares = 0, rowMax = 0;
  double start = omp_get_wtime();
  for (long rep = 0; rep < reps; rep++) {
    squares = 0;
    rowMax = 0;
#pragma omp parallel for reduction(+ : squares) reduction(max : rowMax)
    for (long i = 0; i < n; i++) {
      const double* row = a + (size_t)i * n;
      double rowSum = 0;
      for (long j = 0; j < n; j++) {
        squares += row[j] * row[j];
        rowSum += fabs(row[j]);
      }
      if (rowSum > rowMax) rowMax = rowSum;
    }
  }
  double seconds = omp_get_wtime() - start;

  // Column by column over regenerated entries, the row sums kept in an array: exact arithmetic, so equality.
  char failure[160];
  const char* failed = NULL;
  double* rowSums = allocateOrExit((size_t)n, sizeof(double));
  double wantSquares = 0, wantMax = 0;
  for (long j = 0; j < n; j++) {
    for (long i = 0; i < n; i++) {
      double value = dyadicAt((size_t)i * n + j);
      wantSquares += value * value;
      rowSums[i] += fabs(value);
    }
  }
  for (long i = 0; i < n; i++)
    if (rowSums[i] > wantMax) wantMax = rowSums[i];
  if (squares != wantSquares || rowMax != wantMax) {
    snprintf(failure, sizeof failure, "sum of squares %.17g and max row sum %.17g, expected %.17g and %.17g",
             squares, rowMax, wantSquares, wantMax);
    failed = failure;
  }
  char result[64];
  snprintf(result, sizeof result, "%.9e", sqrt(squares));
  int status = report(seconds, result, failed);
  free(rowSums);
  free(a);
  return status;
}
