// The same program as renamed_b.c with other names for everything the programmer chose.
#include <stdio.h>
struct particle { float mass; float speed; };
static struct particle swarm[4096];
static float kinetic(const struct particle* p) { return 0.5f * p->mass * p->speed * p->speed; }
int main(void) {
  float total = 0.0f;
  for (int index = 0; index < 4096; ++index) {
    swarm[index].mass = 1.0f + index;
    swarm[index].speed = 0.25f * index;
    total += kinetic(&swarm[index]);
  }
  printf("total energy %f\n", total);
  return 0;
}
