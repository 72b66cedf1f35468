/* A tiny program for application specs: WORK repetitions of a loop (the tuned cost), one output line that
   every configuration prints the same, except MODE b with WORK 5, whose output differs (a wrong output). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000;
  volatile double sum = 0;
  for (int r = 0; r < WORK; ++r)
    for (long i = 0; i < n; ++i) sum += (double)(i % 7);
#if defined(MODE_b) && WORK == 5
  printf("result %d\n", 43);
#else
  printf("result %d\n", 42);
#endif
  return sum < 0;
}
