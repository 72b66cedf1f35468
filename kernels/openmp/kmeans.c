// kmeans: Lloyd steps on n integer 4-D points: nearest centroid, then array reductions of the sums.
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
          "kmeans: %s\n"
          "usage: kmeans N K ITERATIONS\n"
          "  N           points, 1..20000000\n"
          "  K           clusters, 1..1024 (K <= N)\n"
          "  ITERATIONS  Lloyd steps, 1..10000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "kmeans: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedCentre = 211, kSeedNoise = 212, kDims = 4 };

// Points scatter around K hidden centres; integer coordinates keep the cluster sums exact, so the centroids
// (sum / count) and hence every later assignment are the same with any thread count and schedule.
static long coordinate(long i, int d, long k) {
  long centre = (long)(mix64(kSeedCentre ^ mix64((uint64_t)(i % k) * kDims + d)) % 10000);
  return centre + (long)(mix64(kSeedNoise ^ mix64((uint64_t)i * kDims + d)) % 1501) - 750;
}

static long initialPoint(long c, long n) {
  return (long)((uint64_t)c * 7919 % (uint64_t)n);
}

int main(int argc, char** argv) {
  long n = 0, k = 0, iterations = 0;
  if (argc != 4) return usage("expected 3 arguments");
  if (!parseArgument(argv[1], 1, 20000000, &n)) return usage("N must be an integer in 1..20000000");
  if (!parseArgument(argv[2], 1, 1024, &k) || k > n)
    return usage("K must be an integer in 1..1024 and at most N");
  if (!parseArgument(argv[3], 1, 10000, &iterations))
    return usage("ITERATIONS must be an integer in 1..10000");
  long* points = allocateOrExit((size_t)n * kDims, sizeof(long));
  int* assignment = allocateOrExit((size_t)n, sizeof(int));
  double* centroids = allocateOrExit((size_t)k * kDims, sizeof(double));
  long* sums = allocateOrExit((size_t)k * kDims, sizeof(long));
  long* counts = allocateOrExit((size_t)k, sizeof(long));
  for (long i = 0; i < n; i++)
    for (int d = 0; d < kDims; d++) points[i * kDims + d] = coordinate(i, d, k);
  // K points spread over the data start as centroids; several may come from one hidden centre, so the steps
  // have real work to do.
  for (long c = 0; c < k; c++)
    for (int d = 0; d < kDims; d++) centroids[c * kDims + d] = (double)points[initialPoint(c, n) * kDims + d];

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  long clusters = k;
  double start = omp_get_wtime();
  for (long it = 0; it < iterations; it++) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
      const long* p = points + i * kDims;
      int best = 0;
      double bestDistance = 0;
      for (long c = 0; c < clusters; c++) {
        double distance = 0;
        for (int d = 0; d < kDims; d++) {
          double delta = (double)p[d] - centroids[c * kDims + d];
          distance += delta * delta;
        }
        if (c == 0 || distance < bestDistance) {
          best = (int)c;
          bestDistance = distance;
        }
      }
      assignment[i] = best;
    }
    for (long e = 0; e < clusters * kDims; e++) sums[e] = 0;
    for (long c = 0; c < clusters; c++) counts[c] = 0;
#pragma omp parallel for reduction(+ : sums[:clusters * kDims], counts[:clusters])
    for (long i = 0; i < n; i++) {
      int c = assignment[i];
      counts[c]++;
      for (int d = 0; d < kDims; d++) sums[c * kDims + d] += points[i * kDims + d];
    }
    // An empty cluster keeps its centroid.
    for (long c = 0; c < clusters; c++)
      if (counts[c] > 0)
        for (int d = 0; d < kDims; d++)
          centroids[c * kDims + d] = (double)sums[c * kDims + d] / (double)counts[c];
  }
  double seconds = omp_get_wtime() - start;

  // Lloyd's steps again, sequentially, on regenerated points: the same assignments and centroids are
  // required.
  char failure[160];
  const char* failed = NULL;
  int* wantAssignment = allocateOrExit((size_t)n, sizeof(int));
  double* wantCentroids = allocateOrExit((size_t)k * kDims, sizeof(double));
  long* wantSums = allocateOrExit((size_t)k * kDims, sizeof(long));
  long* wantCounts = allocateOrExit((size_t)k, sizeof(long));
  for (long c = 0; c < k; c++)
    for (int d = 0; d < kDims; d++)
      wantCentroids[c * kDims + d] = (double)coordinate(initialPoint(c, n), d, k);
  for (long it = 0; it < iterations; it++) {
    for (long e = 0; e < k * kDims; e++) wantSums[e] = 0;
    for (long c = 0; c < k; c++) wantCounts[c] = 0;
    for (long i = 0; i < n; i++) {
      long p[kDims];
      for (int d = 0; d < kDims; d++) p[d] = coordinate(i, d, k);
      int best = -1;
      double bestDistance = 0;
      for (long c = 0; c < k; c++) {
        double distance = 0;
        for (int d = 0; d < kDims; d++) {
          double delta = (double)p[d] - wantCentroids[c * kDims + d];
          distance += delta * delta;
        }
        if (best < 0 || distance < bestDistance) {
          best = (int)c;
          bestDistance = distance;
        }
      }
      wantAssignment[i] = best;
      wantCounts[best]++;
      for (int d = 0; d < kDims; d++) wantSums[best * kDims + d] += p[d];
    }
    for (long c = 0; c < k; c++)
      if (wantCounts[c] > 0)
        for (int d = 0; d < kDims; d++)
          wantCentroids[c * kDims + d] = (double)wantSums[c * kDims + d] / (double)wantCounts[c];
  }
  for (long i = 0; i < n && failed == NULL; i++) {
    if (assignment[i] != wantAssignment[i]) {
      snprintf(failure, sizeof failure, "point %ld in cluster %d, expected %d", i, assignment[i],
               wantAssignment[i]);
      failed = failure;
    }
  }
  for (long e = 0; e < k * kDims && failed == NULL; e++) {
    if (!(fabs(centroids[e] - wantCentroids[e]) <= 1e-9 * fabs(wantCentroids[e]))) {
      snprintf(failure, sizeof failure, "centroid %ld coordinate %ld = %.17g, expected %.17g", e / kDims,
               e % kDims, centroids[e], wantCentroids[e]);
      failed = failure;
    }
  }
  // Inertia (sum of squared distances to the assigned centroid), summed sequentially in a fixed order.
  double inertia = 0;
  for (long i = 0; i < n; i++) {
    for (int d = 0; d < kDims; d++) {
      double delta = (double)points[i * kDims + d] - centroids[assignment[i] * kDims + d];
      inertia += delta * delta;
    }
  }
  char result[64];
  snprintf(result, sizeof result, "%.6e", inertia);
  int status = report(seconds, result, failed);
  free(wantAssignment);
  free(wantCentroids);
  free(wantSums);
  free(wantCounts);
  free(points);
  free(assignment);
  free(centroids);
  free(sums);
  free(counts);
  return status;
}
