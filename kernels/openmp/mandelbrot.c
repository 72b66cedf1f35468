// mandelbrot: escape-time counts on an n x n grid; rows through the set cost up to MAXITER times more.
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
          "mandelbrot: %s\n"
          "usage: mandelbrot N MAXITER\n"
          "  N        grid side, 2..16384\n"
          "  MAXITER  iteration limit per point, 1..1000000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "mandelbrot: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSampleRows = 8 };

// Row r has imaginary part (r - r0) * step with r0 = (n - 1) / 3: the window [-0.83, 1.67] puts the body of
// the set in the first half of the rows, and rows r0 - d and r0 + d get exactly negated imaginary parts.
static long axisRow(long n) {
  return (n - 1) / 3;
}
static double imaginaryPart(long row, long n) {
  return (double)(row - axisRow(n)) * (2.5 / (double)(n - 1));
}
static double realPart(long column, long n) {
  return -2.0 + (double)column * (2.5 / (double)(n - 1));
}

int main(int argc, char** argv) {
  long n = 0, maxIterations = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 2, 16384, &n)) return usage("N must be an integer in 2..16384");
  if (!parseArgument(argv[2], 1, 1000000, &maxIterations))
    return usage("MAXITER must be an integer in 1..1000000");
  int* counts = allocateOrExit((size_t)n * n, sizeof(int));
  for (size_t e = 0; e < (size_t)n * n; e++) counts[e] = -1;

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel for
  for (long row = 0; row < n; row++) {
    double ci = imaginaryPart(row, n);
    for (long column = 0; column < n; column++) {
      double cr = realPart(column, n);
      double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
      int iteration = 0;
      while (iteration < maxIterations && zr2 + zi2 <= 4.0) {
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        iteration++;
      }
      counts[(size_t)row * n + column] = iteration;
    }
  }
  double seconds = omp_get_wtime() - start;

  // Every row with a mirror row inside the grid must equal it (z -> conj(z) is exact in IEEE arithmetic), and
  // sampled rows (first and last included) must match a sequential recount.
  char failure[160];
  const char* failed = NULL;
  for (long row = 0; row < n && failed == NULL; row++) {
    long mirrorRow = 2 * axisRow(n) - row;
    for (long column = 0; column < n; column++) {
      int here = counts[(size_t)row * n + column];
      int mirror = mirrorRow >= 0 && mirrorRow < n ? counts[(size_t)mirrorRow * n + column] : here;
      if (here < 0 || here > maxIterations) {
        snprintf(failure, sizeof failure, "count[%ld][%ld] = %d is not in 0..MAXITER", row, column, here);
        failed = failure;
        break;
      }
      if (here != mirror) {
        snprintf(failure, sizeof failure, "count[%ld][%ld] = %d but its mirror count[%ld][%ld] = %d", row,
                 column, here, mirrorRow, column, mirror);
        failed = failure;
        break;
      }
    }
  }
  for (int s = 0; s < kSampleRows && failed == NULL; s++) {
    long row = s == 0 ? 0 : s == 1 ? n - 1 : s == 2 ? n / 2 : (long)(mix64(900 + s) % (uint64_t)n);
    double ci = imaginaryPart(row, n);
    for (long column = 0; column < n; column++) {
      // Written out again rather than shared with the loop above, in the same arithmetic form so that a
      // compiler
      // contracting multiply-adds treats both alike.
      double cr = realPart(column, n), zr = 0, zi = 0, zr2 = 0, zi2 = 0;
      int iteration = 0;
      for (; iteration < maxIterations; iteration++) {
        if (zr2 + zi2 > 4.0) break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
      }
      if (counts[(size_t)row * n + column] != iteration) {
        snprintf(failure, sizeof failure, "count[%ld][%ld] = %d, expected %d", row, column,
                 counts[(size_t)row * n + column], iteration);
        failed = failure;
        break;
      }
    }
  }
  long long total = 0;
  for (size_t e = 0; e < (size_t)n * n; e++) total += counts[e];
  char result[64];
  snprintf(result, sizeof result, "%lld", total);
  int status = report(seconds, result, failed);
  free(counts);
  return status;
}
