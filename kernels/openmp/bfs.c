// bfs: level-synchronous breadth-first search on a random directed graph with hub vertices, from S sources.
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
          "bfs: %s\n"
          "usage: bfs N DEGREE S\n"
          "  N       vertices, 2..10000000\n"
          "  DEGREE  average out-degree, 1..64\n"
          "  S       sources searched in the timed region, 1..1000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "bfs: out of memory (%zu x %zu bytes)\n", count, size);
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

enum { kSeedDegree = 171, kSeedTarget = 172, kSeedSource = 173 };

// Half of the edges go to uniform targets, half to targets drawn as n u^3, which makes the low vertices hubs.
static long edgeTarget(long u, long p, long n) {
  uint64_t bits = mix64(kSeedTarget ^ mix64(((uint64_t)u << 8) | (uint64_t)p));
  if (bits & 1) return (long)((bits >> 1) % (uint64_t)n);
  double unit = (double)(bits >> 11) * 0x1.0p-53;
  return (long)(unit * unit * unit * (double)n);
}

static long sourceVertex(long s, long n) {
  return s == 0 ? 0 : (long)(mix64(kSeedSource ^ mix64(s)) % (uint64_t)n);
}

int main(int argc, char** argv) {
  long n = 0, degree = 0, sources = 0;
  if (argc != 4) return usage("expected 3 arguments");
  if (!parseArgument(argv[1], 2, 10000000, &n)) return usage("N must be an integer in 2..10000000");
  if (!parseArgument(argv[2], 1, 64, &degree)) return usage("DEGREE must be an integer in 1..64");
  if (!parseArgument(argv[3], 1, 1000, &sources)) return usage("S must be an integer in 1..1000");
  long* edgeStart = allocateOrExit((size_t)n + 1, sizeof(long));
  for (long u = 0; u < n; u++)
    edgeStart[u + 1] = edgeStart[u] + (long)(mix64(kSeedDegree ^ mix64(u)) % (uint64_t)(2 * degree + 1));
  int* targets = allocateOrExit((size_t)edgeStart[n] + 1, sizeof(int));
  for (long u = 0; u < n; u++)
    for (long p = 0; p < edgeStart[u + 1] - edgeStart[u]; p++)
      targets[edgeStart[u] + p] = (int)edgeTarget(u, p, n);
  int* level = allocateOrExit((size_t)n, sizeof(int));
  int* frontier = allocateOrExit((size_t)n, sizeof(int));
  int* next = allocateOrExit((size_t)n, sizeof(int));
  long* reached = allocateOrExit((size_t)sources, sizeof(long));
  long* levelSum = allocateOrExit((size_t)sources, sizeof(long));

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  for (long s = 0; s < sources; s++) {
#pragma omp parallel for schedule(static)
    for (long v = 0; v < n; v++) level[v] = -1;
    long root = sourceVertex(s, n);
    level[root] = 0;
    frontier[0] = (int)root;
    long frontierSize = 1, depth = 0, found = 1, sum = 0;
    while (frontierSize > 0) {
      long nextSize = 0;
      // A vertex joins the next level once: whoever swaps its level from -1 appends it.
#pragma omp parallel for schedule(dynamic, 16)
      for (long f = 0; f < frontierSize; f++) {
        int u = frontier[f];
        for (long e = edgeStart[u]; e < edgeStart[u + 1]; e++) {
          int v = targets[e], seen;
#pragma omp atomic read
          seen = level[v];
          if (seen < 0 && __sync_bool_compare_and_swap(&level[v], -1, (int)depth + 1)) {
            long slot;
#pragma omp atomic capture
            slot = nextSize++;
            next[slot] = v;
          }
        }
      }
      int* swap = frontier;
      frontier = next;
      next = swap;
      frontierSize = nextSize;
      depth++;
      found += nextSize;
      sum += nextSize * depth;
    }
    reached[s] = found;
    levelSum[s] = sum;
  }
  double seconds = omp_get_wtime() - start;

  // A sequential FIFO search from each source over regenerated edges; the last source's levels are compared
  // vertex by vertex, every source's reached count and level sum exactly.
  char failure[160];
  const char* failed = NULL;
  int* want = allocateOrExit((size_t)n, sizeof(int));
  long* queue = allocateOrExit((size_t)n, sizeof(long));
  long long total = 0;
  for (long s = 0; s < sources && failed == NULL; s++) {
    for (long v = 0; v < n; v++) want[v] = -1;
    long head = 0, tail = 0, sum = 0;
    long root = sourceVertex(s, n);
    want[root] = 0;
    queue[tail++] = root;
    while (head < tail) {
      long u = queue[head++];
      long outDegree = (long)(mix64(kSeedDegree ^ mix64(u)) % (uint64_t)(2 * degree + 1));
      for (long p = 0; p < outDegree; p++) {
        long v = edgeTarget(u, p, n);
        if (want[v] < 0) {
          want[v] = want[u] + 1;
          sum += want[v];
          queue[tail++] = v;
        }
      }
    }
    if (reached[s] != tail || levelSum[s] != sum) {
      snprintf(failure, sizeof failure, "source %ld: reached %ld (level sum %ld), expected %ld (%ld)", root,
               reached[s], levelSum[s], tail, sum);
      failed = failure;
    }
    total += reached[s] + levelSum[s];
  }
  for (long v = 0; v < n && failed == NULL; v++) {
    if (level[v] != want[v]) {
      snprintf(failure, sizeof failure, "vertex %ld at level %d, expected %d", v, level[v], want[v]);
      failed = failure;
    }
  }
  char result[64];
  snprintf(result, sizeof result, "%lld", total);
  int status = report(seconds, result, failed);
  free(want);
  free(queue);
  free(edgeStart);
  free(targets);
  free(level);
  free(frontier);
  free(next);
  free(reached);
  free(levelSum);
  return status;
}
