// primes: primality of 2..n by trial division (guided); a prime costs sqrt(k) / 2 divisions.
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
          "primes: %s\n"
          "usage: primes N\n"
          "  N  upper limit, 2..2000000000 (memory: 2 N bytes)\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "primes: out of memory (%zu x %zu bytes)\n", count, size);
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

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 2, 2000000000, &n)) return usage("N must be an integer in 2..2000000000");
  // 2 = not computed, so a number the loop skipped cannot pass the check by accident.
  unsigned char* isPrime = allocateOrExit((size_t)n + 1, 1);
  memset(isPrime, 2, (size_t)n + 1);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  long count = 0;
  double start = omp_get_wtime();
#pragma omp parallel for schedule(guided) reduction(+ : count)
  for (long k = 2; k < n + 1; k++) {
    int prime = k == 2 || k % 2 == 1;
    for (long d = 3; prime && d * d <= k; d += 2)
      if (k % d == 0) prime = 0;
    isPrime[k] = (unsigned char)prime;
    count += prime;
  }
  double seconds = omp_get_wtime() - start;

  // A sequential sieve of Eratosthenes must agree on every number.
  char failure[160];
  const char* failed = NULL;
  unsigned char* sieve = allocateOrExit((size_t)n + 1, 1);
  memset(sieve, 1, (size_t)n + 1);
  for (long p = 2; p * p <= n; p++)
    if (sieve[p])
      for (long multiple = p * p; multiple <= n; multiple += p) sieve[multiple] = 0;
  long sieveCount = 0;
  for (long k = 2; k <= n; k++) {
    sieveCount += sieve[k];
    if (failed == NULL && isPrime[k] != sieve[k]) {
      snprintf(failure, sizeof failure, "%ld marked %s", k,
               isPrime[k] == 2 ? "not computed"
               : isPrime[k]    ? "prime"
                               : "composite");
      failed = failure;
    }
  }
  if (failed == NULL && count != sieveCount) {
    snprintf(failure, sizeof failure, "counted %ld primes, the sieve finds %ld", count, sieveCount);
    failed = failure;
  }
  char result[64];
  snprintf(result, sizeof result, "%ld", count);
  int status = report(seconds, result, failed);
  free(isPrime);
  free(sieve);
  return status;
}
