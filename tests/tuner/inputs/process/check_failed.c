/* Prints some output and a failing self-check, then exits 0: the output is wrong, the process is fine. */
#include <stdio.h>

int main(void) {
  printf("value 41\n");
  printf("mirtune-check: failed expected 42, got 41\n");
  return 0;
}
