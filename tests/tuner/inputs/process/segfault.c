/* Writes through a null pointer the compiler cannot see is null: a real SIGSEGV. */
#include <stdint.h>
#include <stdio.h>

int main(int argc, char** argv) {
  (void)argv;
  volatile int* target = (volatile int*)(uintptr_t)(argc - 1);
  printf("about to crash\n");
  fflush(stdout);
  *target = 1;
  return 0;
}
