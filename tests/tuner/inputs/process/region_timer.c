/* Prints a fixed result, <lines> region timer lines of <seconds> each, and a passing self-check. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: region_timer SECONDS LINES\n");
    return 2;
  }
  int lines = atoi(argv[2]);
  printf("result 12345\n");
  for (int i = 0; i < lines; ++i) printf("mirtune-region-seconds: %s\n", argv[1]);
  printf("mirtune-check: ok\n");
  return 0;
}
