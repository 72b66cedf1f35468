// pagerank: pull-style PageRank power iteration on a random graph whose hubs gather many in-edges.
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
          "pagerank: %s\n"
          "usage: pagerank N DEGREE ITERATIONS\n"
          "  N           vertices, 2..10000000\n"
          "  DEGREE      average random in-degree, 1..64\n"
          "  ITERATIONS  power iterations, 1..10000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "pagerank: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedInDegree = 181, kSeedSource = 182 };
static const double kDamping = 0.85;

// One vertex in 64 is a hub with 16 times the in-degree; besides the random edges every vertex u has the edge
// u -> u + 1 (mod n), so no vertex is dangling and the ranks keep summing to 1.
static long randomInDegree(long v, long degree) {
  uint64_t bits = mix64(kSeedInDegree ^ mix64(v));
  long mean = bits % 64 == 0 ? 16 * degree : degree;
  return (long)((bits >> 8) % (uint64_t)(2 * mean + 1));
}
static long edgeSource(long v, long p, long n) {
  return (long)(mix64(kSeedSource ^ mix64(((uint64_t)v << 12) | (uint64_t)p)) % (uint64_t)n);
}

int main(int argc, char** argv) {
  long n = 0, degree = 0, iterations = 0;
  if (argc != 4) return usage("expected 3 arguments");
  if (!parseArgument(argv[1], 2, 10000000, &n)) return usage("N must be an integer in 2..10000000");
  if (!parseArgument(argv[2], 1, 64, &degree)) return usage("DEGREE must be an integer in 1..64");
  if (!parseArgument(argv[3], 1, 10000, &iterations))
    return usage("ITERATIONS must be an integer in 1..10000");
  // In-edges of v: the ring edge from v - 1 first, then the random ones.
  long* inStart = allocateOrExit((size_t)n + 1, sizeof(long));
  for (long v = 0; v < n; v++) inStart[v + 1] = inStart[v] + 1 + randomInDegree(v, degree);
  int* sources = allocateOrExit((size_t)inStart[n], sizeof(int));
  long* outDegree = allocateOrExit((size_t)n, sizeof(long));
  for (long v = 0; v < n; v++) {
    sources[inStart[v]] = (int)((v + n - 1) % n);
    for (long p = 0; p < inStart[v + 1] - inStart[v] - 1; p++)
      sources[inStart[v] + 1 + p] = (int)edgeSource(v, p, n);
    for (long e = inStart[v]; e < inStart[v + 1]; e++) outDegree[sources[e]]++;
  }
  double* rank = allocateOrExit((size_t)n, sizeof(double));
  double* nextRank = allocateOrExit((size_t)n, sizeof(double));
  double* contribution = allocateOrExit((size_t)n, sizeof(double));
  for (long v = 0; v < n; v++) rank[v] = 1.0 / (double)n;

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  for (long it = 0; it < iterations; it++) {
#pragma omp parallel for schedule(static)
    for (long u = 0; u < n; u++) contribution[u] = rank[u] / (double)outDegree[u];
#pragma omp parallel for
    for (long v = 0; v < n; v++) {
      double sum = 0;
      for (long e = inStart[v]; e < inStart[v + 1]; e++) sum += contribution[sources[e]];
      nextRank[v] = (1.0 - kDamping) / (double)n + kDamping * sum;
    }
    double* swap = rank;
    rank = nextRank;
    nextRank = swap;
  }
  double seconds = omp_get_wtime() - start;

  // The iteration again, sequentially, over edges regenerated from the generator (out-degrees counted
  // afresh); every rank is compared, and the ranks must still sum to 1.
  char failure[160];
  const char* failed = NULL;
  long* wantOut = allocateOrExit((size_t)n, sizeof(long));
  double* want = allocateOrExit((size_t)n, sizeof(double));
  double* wantNext = allocateOrExit((size_t)n, sizeof(double));
  for (long v = 0; v < n; v++) {
    wantOut[(v + n - 1) % n]++;
    for (long p = 0; p < randomInDegree(v, degree); p++) wantOut[edgeSource(v, p, n)]++;
    want[v] = 1.0 / (double)n;
  }
  for (long it = 0; it < iterations; it++) {
    for (long v = 0; v < n; v++) {
      long ring = (v + n - 1) % n;
      double sum = want[ring] / (double)wantOut[ring];
      for (long p = 0; p < randomInDegree(v, degree); p++) {
        long u = edgeSource(v, p, n);
        sum += want[u] / (double)wantOut[u];
      }
      wantNext[v] = (1.0 - kDamping) / (double)n + kDamping * sum;
    }
    double* swap = want;
    want = wantNext;
    wantNext = swap;
  }
  double total = 0;
  long top = 0;
  for (long v = 0; v < n; v++) {
    total += rank[v];
    if (rank[v] > rank[top]) top = v;
    if (failed == NULL && !(fabs(rank[v] - want[v]) <= 1e-12 * want[v])) {
      snprintf(failure, sizeof failure, "rank[%ld] = %.17g, expected %.17g", v, rank[v], want[v]);
      failed = failure;
    }
  }
  if (failed == NULL && !(fabs(total - 1.0) <= 1e-9)) {
    snprintf(failure, sizeof failure, "the ranks sum to %.17g, not 1", total);
    failed = failure;
  }
  // Each rank is summed in the same order whatever the schedule, so the top vertex does not depend on it.
  char result[64];
  snprintf(result, sizeof result, "%ld", top);
  int status = report(seconds, result, failed);
  free(wantOut);
  free(want);
  free(wantNext);
  free(inStart);
  free(sources);
  free(outDegree);
  free(rank);
  free(nextRank);
  free(contribution);
  return status;
}
