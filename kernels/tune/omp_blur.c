// A small OpenMP program tuned through its build and run commands (omp_blur.json): a few sweeps of a 5-point
// blur over a SIZE x SIZE grid, rows handed out in blocks of BLOCK_ROWS under the schedule OMP_SCHEDULE names
// (schedule(runtime)), as many threads as OMP_NUM_THREADS says. It times the sweeps itself
// ("mirtune-region-seconds:") and checks its result against a sequential sweep ("mirtune-check:").
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef SIZE
#define SIZE 512
#endif
#ifndef SWEEPS
#define SWEEPS 8
#endif
#ifndef BLOCK_ROWS
#define BLOCK_ROWS 1
#endif

static void sweepBlock(const float* in, float* out, int firstRow, int lastRow) {
  for (int y = firstRow; y < lastRow; ++y) {
    if (y == 0 || y == SIZE - 1) {
      for (int x = 0; x < SIZE; ++x) out[y * SIZE + x] = in[y * SIZE + x];
      continue;
    }
    out[y * SIZE] = in[y * SIZE];
    out[y * SIZE + SIZE - 1] = in[y * SIZE + SIZE - 1];
    for (int x = 1; x < SIZE - 1; ++x) {
      const int i = y * SIZE + x;
      out[i] = 0.2f * (in[i] + in[i - 1] + in[i + 1] + in[i - SIZE] + in[i + SIZE]);
    }
  }
}

static void blurParallel(float* a, float* b) {
  const int blocks = (SIZE + BLOCK_ROWS - 1) / BLOCK_ROWS;
  for (int sweep = 0; sweep < SWEEPS; ++sweep) {
#pragma omp parallel for schedule(runtime)
    for (int block = 0; block < blocks; ++block) {
      const int first = block * BLOCK_ROWS;
      const int last = first + BLOCK_ROWS < SIZE ? first + BLOCK_ROWS : SIZE;
      sweepBlock(a, b, first, last);
    }
    float* swap = a;
    a = b;
    b = swap;
  }
}

static void blurSequential(float* a, float* b) {
  for (int sweep = 0; sweep < SWEEPS; ++sweep) {
    sweepBlock(a, b, 0, SIZE);
    float* swap = a;
    a = b;
    b = swap;
  }
}

int main(void) {
  const size_t cells = (size_t)SIZE * SIZE;
  float* a = malloc(cells * sizeof(float));
  float* b = malloc(cells * sizeof(float));
  float* checkA = malloc(cells * sizeof(float));
  float* checkB = malloc(cells * sizeof(float));
  if (!a || !b || !checkA || !checkB) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  unsigned state = 12345u;
  for (size_t i = 0; i < cells; ++i) {
    state = state * 1664525u + 1013904223u;
    a[i] = checkA[i] = (float)(state >> 8) / 16777216.0f;
    b[i] = checkB[i] = 0.0f;
  }

  const double start = omp_get_wtime();
  blurParallel(a, b);
  const double seconds = omp_get_wtime() - start;
  blurSequential(checkA, checkB);

  // After an even number of sweeps the result is back in the first buffer.
  const float* result = SWEEPS % 2 == 0 ? a : b;
  const float* expected = SWEEPS % 2 == 0 ? checkA : checkB;
  double sum = 0;
  size_t firstDifference = cells;
  for (size_t i = 0; i < cells; ++i) {
    sum += result[i];
    if (firstDifference == cells && result[i] != expected[i]) firstDifference = i;
  }
  printf("mirtune-region-seconds: %.9f\n", seconds);
  printf("checksum %.6f\n", sum);
  if (firstDifference != cells) {
    printf("mirtune-check: failed at cell %zu\n", firstDifference);
  } else {
    printf("mirtune-check: ok\n");
  }
  free(a);
  free(b);
  free(checkA);
  free(checkB);
  return 0;
}
