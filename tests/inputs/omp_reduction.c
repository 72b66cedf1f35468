#include <stdio.h>
#include <omp.h>
int main(void) {
  double s = 0;
  #pragma omp parallel for reduction(+:s) schedule(static)
  for (int i = 0; i < 1000; ++i) s += i * 0.5;
  printf("%f %d\n", s, omp_get_max_threads());
  return 0;
}
