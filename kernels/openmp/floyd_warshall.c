// floyd_warshall: all-pairs shortest paths on a random digraph with integer weights, rows per k.
#include <errno.h>
#include <limits.h>
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
          "floyd_warshall: %s\n"
          "usage: floyd_warshall N\n"
          "  N  vertices, 2..8192\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "floyd_warshall: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedEdges = 91, kSeedWeights = 92, kSampleSources = 6 };
// A quarter of INT_MAX, so that adding two "infinite" distances cannot overflow.
static const int kInfinity = INT_MAX / 4;

// Weight of edge u -> v, or kInfinity when there is none (about 30% of the pairs have an edge).
static int edgeWeight(long u, long v, long n) {
  if (u == v) return 0;
  if (mix64(kSeedEdges ^ mix64((uint64_t)u * n + v)) % 10 >= 3) return kInfinity;
  return 1 + (int)(mix64(kSeedWeights ^ mix64((uint64_t)u * n + v)) % 1000);
}

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 2, 8192, &n)) return usage("N must be an integer in 2..8192");
  int* dist = allocateOrExit((size_t)n * n, sizeof(int));
  for (long u = 0; u < n; u++)
    for (long v = 0; v < n; v++) dist[(size_t)u * n + v] = edgeWeight(u, v, n);

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
#pragma omp parallel
  {
    for (long k = 0; k < n; k++) {
      // Row k does not change in step k (dist[k][k] = 0), so rows can be updated in any order.
#pragma omp for
      for (long i = 0; i < n; i++) {
        int dik = dist[(size_t)i * n + k];
        if (dik >= kInfinity) continue;
        int* row = dist + (size_t)i * n;
        const int* rowK = dist + (size_t)k * n;
        for (long j = 0; j < n; j++) {
          int through = dik + rowK[j];
          if (through < row[j]) row[j] = through;
        }
      }
    }
  }
  double seconds = omp_get_wtime() - start;

  // Dijkstra (O(n^2), no heap) from sampled sources, the first and last vertex included, on regenerated
  // edges.
  char failure[160];
  const char* failed = NULL;
  long* best = allocateOrExit((size_t)n, sizeof(long));
  char* done = allocateOrExit((size_t)n, 1);
  for (int s = 0; s < kSampleSources && failed == NULL; s++) {
    long source = s == 0 ? 0 : s == 1 ? n - 1 : (long)(mix64(500 + s) % (uint64_t)n);
    for (long v = 0; v < n; v++) {
      best[v] = LONG_MAX;
      done[v] = 0;
    }
    best[source] = 0;
    for (long round = 0; round < n; round++) {
      long u = -1;
      for (long v = 0; v < n; v++)
        if (!done[v] && best[v] != LONG_MAX && (u < 0 || best[v] < best[u])) u = v;
      if (u < 0) break;
      done[u] = 1;
      for (long v = 0; v < n; v++) {
        int w = edgeWeight(u, v, n);
        if (w < kInfinity && best[u] + w < best[v]) best[v] = best[u] + w;
      }
    }
    for (long v = 0; v < n && failed == NULL; v++) {
      long got = dist[(size_t)source * n + v] >= kInfinity ? LONG_MAX : dist[(size_t)source * n + v];
      if (got != best[v]) {
        snprintf(failure, sizeof failure, "dist[%ld][%ld] = %ld, Dijkstra gives %ld", source, v, got,
                 best[v]);
        failed = failure;
      }
    }
  }
  long long total = 0;
  for (size_t e = 0; e < (size_t)n * n; e++)
    if (dist[e] < kInfinity) total += dist[e];
  char result[64];
  snprintf(result, sizeof result, "%lld", total);
  int status = report(seconds, result, failed);
  free(best);
  free(done);
  free(dist);
  return status;
}
