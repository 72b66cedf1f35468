/* Sleeps <milliseconds> and prints a fixed line: a program timed by wall clock. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  long ms = argc > 1 ? atol(argv[1]) : 10;
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
  printf("slept %ld ms\n", ms);
  return 0;
}
