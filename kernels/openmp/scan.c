// scan: inclusive prefix sum of n 64-bit integers, repeated: block sums, their scan, block scans.
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
          "scan: %s\n"
          "usage: scan N REPS\n"
          "  N     elements, 1..200000000\n"
          "  REPS  scans in the timed region, 1..100000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "scan: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedValues = 111, kBlocks = 1024 };

int main(int argc, char** argv) {
  long n = 0, reps = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 1, 200000000, &n)) return usage("N must be an integer in 1..200000000");
  if (!parseArgument(argv[2], 1, 100000, &reps)) return usage("REPS must be an integer in 1..100000");
  int64_t* in = allocateOrExit((size_t)n, sizeof(int64_t));
  int64_t* out = allocateOrExit((size_t)n, sizeof(int64_t));
  // A fixed number of blocks (not one per thread) keeps the work split independent of the thread count;
  // block b holds elements [b n / kBlocks, (b + 1) n / kBlocks).
  int64_t* blockOffset = allocateOrExit(kBlocks, sizeof(int64_t));
  for (long i = 0; i < n; i++) in[i] = (int64_t)(mix64(kSeedValues ^ mix64(i)) % 2001) - 1000;

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  for (long rep = 0; rep < reps; rep++) {
#pragma omp parallel
    {
#pragma omp for
      for (long block = 0; block < kBlocks; block++) {
        long first = block * n / kBlocks, last = (block + 1) * n / kBlocks;
        int64_t sum = 0;
        for (long i = first; i < last; i++) sum += in[i];
        blockOffset[block] = sum;
      }
#pragma omp single
      {
        int64_t running = 0;
        for (long block = 0; block < kBlocks; block++) {
          int64_t sum = blockOffset[block];
          blockOffset[block] = running;
          running += sum;
        }
      }
#pragma omp for schedule(static)
      for (long block = 0; block < kBlocks; block++) {
        long first = block * n / kBlocks, last = (block + 1) * n / kBlocks;
        int64_t running = blockOffset[block];
        for (long i = first; i < last; i++) {
          running += in[i];
          out[i] = running;
        }
      }
    }
  }
  double seconds = omp_get_wtime() - start;

  // A sequential running sum over regenerated values; every element must match exactly.
  char failure[160];
  const char* failed = NULL;
  int64_t running = 0;
  for (long i = 0; i < n; i++) {
    running += (int64_t)(mix64(kSeedValues ^ mix64(i)) % 2001) - 1000;
    if (out[i] != running) {
      snprintf(failure, sizeof failure, "out[%ld] = %lld, expected %lld", i, (long long)out[i],
               (long long)running);
      failed = failure;
      break;
    }
  }
  char result[64];
  snprintf(result, sizeof result, "%lld", (long long)out[n - 1]);
  int status = report(seconds, result, failed);
  free(in);
  free(out);
  free(blockOffset);
  return status;
}
