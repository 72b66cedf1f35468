// The same program as renamed_a.c with other names for everything the programmer chose.
#include <stdio.h>
struct body { float m; float v; };
static struct body cloud[4096];
static float energy(const struct body* b) { return 0.5f * b->m * b->v * b->v; }
int main(void) {
  float sum = 0.0f;
  for (int k = 0; k < 4096; ++k) {
    cloud[k].m = 1.0f + k;
    cloud[k].v = 0.25f * k;
    sum += energy(&cloud[k]);
  }
  printf("all energies %f\n", sum);
  return 0;
}
