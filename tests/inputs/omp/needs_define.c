// Compiles only with -D REPS=...: a measured session proves the define reached the build.
#ifndef REPS
#error "build with -D REPS=<count>"
#endif
#include <stdio.h>

int main(void) {
  double sum = 0;
#pragma omp parallel for reduction(+ : sum)
  for (int i = 0; i < REPS; ++i) sum += i * 0.5;
  printf("%.1f\n", sum);
  return 0;
}
