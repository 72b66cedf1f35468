// dot: dot product of two n-vectors with reduction(+), repeated; exact sums of dyadic entries.
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
          "dot: %s\n"
          "usage: dot N REPS\n"
          "  N     vector length, 1..134217728\n"
          "  REPS  dot products in the timed region, 1..100000 (N * REPS <= 2^32)\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "dot: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedX = 191, kSeedY = 192 };

// k / 1024 with |k| < 1024: products are multiples of 2^-20 below 1 in magnitude, and sums of up to 2^32 of
// them fit in a double's 53 bits, so the reduction gives the same bits in any order and with any thread
// count.
static double dyadicAt(uint64_t seed, long i) {
  return (double)((long)(mix64(seed ^ mix64(i)) % 2047) - 1023) / 1024.0;
}

int main(int argc, char** argv) {
  long n = 0, reps = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 1, 134217728, &n)) return usage("N must be an integer in 1..134217728");
  if (!parseArgument(argv[2], 1, 100000, &reps)) return usage("REPS must be an integer in 1..100000");
  if ((double)n * (double)reps > 4294967296.0) return usage("N * REPS must be at most 2^32");
  double* x = allocateOrExit((size_t)n, sizeof(double));
  double* y = allocateOrExit((size_t)n, sizeof(double));
  for (long i = 0; i < n; i++) {
    x[i] = dyadicAt(kSeedX, i);
    y[i] = dyadicAt(kSeedY, i);
  }

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double total = 0, last = 0;
  double start = omp_get_wtime();
  for (long rep = 0; rep < reps; rep++) {
    double sum = 0;
#pragma omp parallel for reduction(+ : sum)
    for (long i = 0; i < n; i++) sum += x[i] * y[i];
    total += sum;
    last = sum;
  }
  double seconds = omp_get_wtime() - start;

  // A sequential sum, backwards, over regenerated entries: exact arithmetic, so equality is required.
  char failure[160];
  const char* failed = NULL;
  double want = 0;
  for (long i = n - 1; i >= 0; i--) want += dyadicAt(kSeedX, i) * dyadicAt(kSeedY, i);
  if (last != want || total != want * (double)reps) {
    snprintf(failure, sizeof failure, "x . y = %.17g (total %.17g), expected %.17g", last, total, want);
    failed = failure;
  }
  char result[64];
  snprintf(result, sizeof result, "%lld", (long long)(total * 1048576.0));
  int status = report(seconds, result, failed);
  free(x);
  free(y);
  return status;
}
