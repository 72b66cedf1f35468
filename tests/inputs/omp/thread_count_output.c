/* Prints how many threads it ran with and no self-check, so any configuration other than the default changes
   its output: the tuner must report wrong_output for those. */
#include <omp.h>
#include <stdio.h>

int main(void) {
  int threads = 0;
#pragma omp parallel
  {
#pragma omp single
    threads = omp_get_num_threads();
  }
  printf("threads %d\n", threads);
  return 0;
}
