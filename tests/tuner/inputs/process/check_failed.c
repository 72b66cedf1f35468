/* Prints some output and a failing self-check, then exits 0: the output is wrong, the process is fine. With an
 * argument the verdict is in capitals, as some programs print it. */
#include <stdio.h>

int main(int argc, char** argv) {
  (void)argv;
  printf("value 41\n");
  printf(argc > 1 ? "mirtune-check: FAILED expected 42, got 41\n" : "mirtune-check: failed expected 42, got 41\n");
  return 0;
}
