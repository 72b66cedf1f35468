/* Forks a grandchild that holds stdout and sleeps forever, writes its pid to <pidfile>, then sleeps forever. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  FILE* out = fopen(argv[1], "w");
  if (out == NULL) return 3;
  fprintf(out, "%d\n", (int)child);
  fclose(out);
  for (;;) pause();
}
