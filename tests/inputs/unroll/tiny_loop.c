// A small self-timing program with one innermost loop: prints a region-timer line and an integer checksum that
// no unroll or vectorize factor can change (building with -DCHECKSUM_SEED=1 changes it, to test output checks).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SIZE 4096
static int values[SIZE];

__attribute__((noinline)) long scaled_sum(int n, int factor) {
  long total = 0;
  for (int i = 0; i < n; ++i) total += (long)values[i] * factor + (values[i] >> 3);
  return total;
}

int main(int argc, char** argv) {
  int repeat = argc > 1 ? atoi(argv[1]) : 200;
  for (int i = 0; i < SIZE; ++i) values[i] = (i * 7919) % 1013;
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
#ifndef CHECKSUM_SEED
#define CHECKSUM_SEED 0
#endif
  long checksum = CHECKSUM_SEED;
  for (int r = 0; r < repeat; ++r) checksum += scaled_sum(SIZE, r % 5 + 1);
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("mirtune-region-seconds: %.9f\n", (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec));
  printf("checksum %ld\n", checksum);
  return 0;
}
