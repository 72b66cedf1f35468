// OpenMP loops in many spellings: the schedule rewrite must touch only the schedule of worksharing loops.
#include <omp.h>
#include <stdio.h>

#include "omp_header_loop.h"

#define N 512
#define PARALLEL_FOR _Pragma("omp parallel for")

static double a[N], b[N], grid[64][64];

void noSchedule(void) {
#pragma omp parallel for
  for (int i = 0; i < N; ++i) a[i] = 2.0 * b[i];
}

void dynamicChunk(void) {
  #pragma omp parallel for schedule(dynamic, 4) // chunked on purpose
  for (int i = 0; i < N; ++i) a[i] += b[i];
}

void collapsedMonotonic(void) {
#pragma omp parallel for collapse(2) schedule(monotonic: static) firstprivate(b)
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) grid[i][j] = b[i] * j;
}

double reduced(void) {
  double s = 0;
#pragma omp parallel for reduction(+:s) /* sum of squares */
  for (int i = 0; i < N; ++i) s += a[i] * a[i];
  return s;
}

void insideParallel(void) {
#pragma omp parallel
  {
    #pragma omp for nowait
    for (int i = 0; i < N; ++i) a[i] = i;
    #pragma omp for simd schedule(guided)
    for (int i = 0; i < N; ++i) b[i] = a[i] + 1;
  }
}

double continued(void) {
  double s = 0;
#pragma omp parallel for \
    collapse(2) \
    reduction(+:s)
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) s += grid[i][j];
  return s;
}

void vectorOnly(void) {
#pragma omp simd
  for (int i = 0; i < N; ++i) a[i] = b[i] * 0.5;
#pragma omp parallel for simd
  for (int i = 0; i < N; ++i) b[i] = a[i] * 0.5;
}

void orderedOutput(void) {
#pragma omp parallel for ordered schedule(static, 1)
  for (int i = 0; i < 8; ++i) {
#pragma omp ordered
    printf("%d\n", i);
  }
}

void fromMacro(void) {
  PARALLEL_FOR
  for (int i = 0; i < N; ++i) a[i] = -a[i];
}

void alreadyRuntime(void) {
#pragma omp parallel for schedule(runtime)
  for (int i = 0; i < N; ++i) a[i] = b[i];
}

void teamsDistribute(void) {
#pragma omp target teams distribute parallel for map(tofrom: a) schedule(static)
  for (int i = 0; i < N; ++i) a[i] += 1.0;
}

int main(void) {
  scaleInHeader(a, N, 0.5);
  noSchedule();
  dynamicChunk();
  collapsedMonotonic();
  insideParallel();
  vectorOnly();
  orderedOutput();
  fromMacro();
  alreadyRuntime();
  teamsDistribute();
  printf("%f %f %d\n", reduced(), continued(), omp_get_max_threads());
  return 0;
}
