/* Appends a line to <counterfile> on every run and prints <text>; with a third argument it also prints how
   many runs the counter file records, so its output changes from run to run. */
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: counter COUNTERFILE TEXT [--print-count]\n");
    return 2;
  }
  FILE* counter = fopen(argv[1], "a+");
  if (counter == NULL) return 3;
  fputs("run\n", counter);
  fclose(counter);
  printf("%s\n", argv[2]);
  if (argc > 3) {
    int runs = 0;
    int c;
    counter = fopen(argv[1], "r");
    while ((c = fgetc(counter)) != EOF) runs += c == '\n';
    fclose(counter);
    printf("run number %d\n", runs);
  }
  return 0;
}
