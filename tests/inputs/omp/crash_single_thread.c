/* Crashes when it runs on one thread, so a tuning session meets a failing configuration and must go on. */
#include <omp.h>
#include <signal.h>
#include <stdio.h>

int main(void) {
  long sum = 0;
#pragma omp parallel for reduction(+ : sum)
  for (long i = 0; i < 100000; ++i) sum += i % 7;
  if (omp_get_max_threads() == 1) raise(SIGSEGV);
  printf("sum %ld\n", sum);
  return 0;
}
