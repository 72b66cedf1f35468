// histogram: n skewed keys into B bins, repeated: per-thread counts in an omp for, atomic merge.
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
          "histogram: %s\n"
          "usage: histogram N B REPS\n"
          "  N     keys, 1..100000000\n"
          "  B     bins, 1..1000000\n"
          "  REPS  passes over the keys in the timed region, 1..100000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "histogram: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedKeys = 161 };

// u^3 piles the keys into the low bins, so a few counters take most of the updates.
static int binOf(double u, long bins) {
  return (int)(u * u * u * (double)bins);
}

int main(int argc, char** argv) {
  long n = 0, bins = 0, reps = 0;
  if (argc != 4) return usage("expected 3 arguments");
  if (!parseArgument(argv[1], 1, 100000000, &n)) return usage("N must be an integer in 1..100000000");
  if (!parseArgument(argv[2], 1, 1000000, &bins)) return usage("B must be an integer in 1..1000000");
  if (!parseArgument(argv[3], 1, 100000, &reps)) return usage("REPS must be an integer in 1..100000");
  double* keys = allocateOrExit((size_t)n, sizeof(double));
  long* counts = allocateOrExit((size_t)bins, sizeof(long));
  for (long i = 0; i < n; i++) keys[i] = uniformAt(kSeedKeys, i, 0, 1);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  for (long rep = 0; rep < reps; rep++) {
#pragma omp parallel
    {
      long* local = calloc((size_t)bins, sizeof(long));
      if (local == NULL) {
        fprintf(stderr, "histogram: out of memory for a thread's counts\n");
        exit(1);
      }
#pragma omp for
      for (long i = 0; i < n; i++) local[binOf(keys[i], bins)]++;
      for (long b = 0; b < bins; b++) {
        if (local[b] != 0) {
#pragma omp atomic
          counts[b] += local[b];
        }
      }
      free(local);
    }
  }
  double seconds = omp_get_wtime() - start;

  // One sequential pass over regenerated keys, times REPS, must give every count exactly.
  char failure[160];
  const char* failed = NULL;
  long* want = allocateOrExit((size_t)bins, sizeof(long));
  for (long i = 0; i < n; i++) want[binOf(uniformAt(kSeedKeys, i, 0, 1), bins)] += reps;
  long total = 0, fullest = 0;
  for (long b = 0; b < bins; b++) {
    total += counts[b];
    if (counts[b] > fullest) fullest = counts[b];
    if (failed == NULL && counts[b] != want[b]) {
      snprintf(failure, sizeof failure, "bin %ld holds %ld, expected %ld", b, counts[b], want[b]);
      failed = failure;
    }
  }
  if (failed == NULL && total != n * reps) {
    snprintf(failure, sizeof failure, "the bins hold %ld keys, expected %ld", total, n * reps);
    failed = failure;
  }
  char result[64];
  snprintf(result, sizeof result, "%ld", fullest);
  int status = report(seconds, result, failed);
  free(want);
  free(keys);
  free(counts);
  return status;
}
