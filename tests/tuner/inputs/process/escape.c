/* Leaves a child behind in a session of its own (setsid), out of reach of killpg, appends the child's pid to
 * <pidfile>, prints a line and exits at once. Mode "hold": the child keeps stdout and stderr open and sleeps
 * <seconds>; mode "detach": it points them at /dev/null first and sleeps <seconds>. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const int detach = strcmp(argv[2], "detach") == 0;
  const unsigned seconds = (unsigned)atoi(argv[3]);
  int ready[2];
  if (pipe(ready) != 0) return 3;
  pid_t child = fork();
  if (child < 0) return 4;
  if (child == 0) {
    close(ready[0]);
    setsid();
    if (detach) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    /* Tell the parent the child has left the group before the parent exits. */
    close(ready[1]);
    sleep(seconds);
    return 0;
  }
  close(ready[1]);
  char byte;
  while (read(ready[0], &byte, 1) > 0) {
  }
  FILE* out = fopen(argv[1], "a");
  if (out == NULL) return 5;
  fprintf(out, "%d\n", (int)child);
  fclose(out);
  printf("left %d behind\n", (int)child);
  return 0;
}
