// One loop inside an OpenMP parallel region and one set-up loop outside it.
#include <stdio.h>

double grid[1024];

int main(void) {
  for (int i = 0; i < 1024; ++i) grid[i] = i * 0.5;
  double total = 0;
#pragma omp parallel reduction(+ : total)
  {
    for (int i = 0; i < 1024; ++i) total += grid[i] * grid[i];
  }
  printf("%g\n", total);
  return 0;
}
