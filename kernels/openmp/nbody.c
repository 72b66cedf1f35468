// nbody: all-pairs gravity, T semi-implicit Euler steps of n bodies: forces, then a static update.
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// splitmix64 finaliser: element (seed, index) has the same value on every machine and libc, and the check
// can regenerate any input element without keeping a copy.
static uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [lo, hi) for element `index` of stream `seed`.
static double uniformAt(uint64_t seed, uint64_t index, double lo, double hi) {
  uint64_t bits = mix64(seed * 0xD1B54A32D192ED03ull ^ mix64(index));
  return lo + (hi - lo) * (double)(bits >> 11) * 0x1.0p-53;
}

// A positional argument in [lo, hi]; 0 for anything else (sign, trailing junk, overflow).
static int parseArgument(const char* text, long lo, long hi, long* value) {
  char* end = NULL;
  errno = 0;
  long parsed = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || parsed < lo || parsed > hi) return 0;
  *value = parsed;
  return 1;
}

static int usage(const char* problem) {
  fprintf(stderr,
          "nbody: %s\n"
          "usage: nbody N T\n"
          "  N  bodies, 2..100000\n"
          "  T  time steps, 1..100000\n",
          problem);
  return 2;
}

static void* allocateOrExit(size_t count, size_t size) {
  void* memory = calloc(count, size);
  if (memory == NULL) {
    fprintf(stderr, "nbody: out of memory (%zu x %zu bytes)\n", count, size);
    exit(1);
  }
  return memory;
}

// The lines the tuner parses (kernels/openmp/README.md); the exit status says whether the check passed.
static int report(double seconds, const char* result, const char* failure) {
  printf("mirtune-region-seconds: %.9f\n", seconds);
  if (result != NULL) printf("mirtune-result: %s\n", result);
  if (failure != NULL) {
    printf("mirtune-check: failed %s\n", failure);
    return 1;
  }
  printf("mirtune-check: ok\n");
  return 0;
}

enum { kSeedBodies = 101 };
static const double kSoftening = 1e-3, kStep = 1e-3;

typedef struct {
  double *x, *y, *z, *vx, *vy, *vz, *ax, *ay, *az, *mass;
} Bodies;

static Bodies makeBodies(long n) {
  Bodies b;
  double** fields[] = {&b.x, &b.y, &b.z, &b.vx, &b.vy, &b.vz, &b.ax, &b.ay, &b.az, &b.mass};
  for (int f = 0; f < 10; f++) *fields[f] = allocateOrExit((size_t)n, sizeof(double));
  for (long i = 0; i < n; i++) {
    b.x[i] = uniformAt(kSeedBodies, 8 * i + 0, -1, 1);
    b.y[i] = uniformAt(kSeedBodies, 8 * i + 1, -1, 1);
    b.z[i] = uniformAt(kSeedBodies, 8 * i + 2, -1, 1);
    b.vx[i] = uniformAt(kSeedBodies, 8 * i + 3, -0.1, 0.1);
    b.vy[i] = uniformAt(kSeedBodies, 8 * i + 4, -0.1, 0.1);
    b.vz[i] = uniformAt(kSeedBodies, 8 * i + 5, -0.1, 0.1);
    b.mass[i] = uniformAt(kSeedBodies, 8 * i + 6, 0.5, 1.5) / (double)n;
  }
  return b;
}

static void freeBodies(Bodies* b) {
  double* fields[] = {b->x, b->y, b->z, b->vx, b->vy, b->vz, b->ax, b->ay, b->az, b->mass};
  for (int f = 0; f < 10; f++) free(fields[f]);
}

int main(int argc, char** argv) {
  long n = 0, steps = 0;
  if (argc != 3) return usage("expected 2 arguments");
  if (!parseArgument(argv[1], 2, 100000, &n)) return usage("N must be an integer in 2..100000");
  if (!parseArgument(argv[2], 1, 100000, &steps)) return usage("T must be an integer in 1..100000");
  Bodies b = makeBodies(n);
  double *x = b.x, *y = b.y, *z = b.z, *vx = b.vx, *vy = b.vy, *vz = b.vz, *ax = b.ax, *ay = b.ay, *az = b.az;
  const double* mass = b.mass;

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double start = omp_get_wtime();
  for (long t = 0; t < steps; t++) {
#pragma omp parallel for
    for (long i = 0; i < n; i++) {
      double sx = 0, sy = 0, sz = 0;
      for (long j = 0; j < n; j++) {
        double dx = x[j] - x[i], dy = y[j] - y[i], dz = z[j] - z[i];
        double r2 = dx * dx + dy * dy + dz * dz + kSoftening;
        double inverse = 1.0 / sqrt(r2);
        double weight = mass[j] * inverse * inverse * inverse;
        sx += weight * dx;
        sy += weight * dy;
        sz += weight * dz;
      }
      ax[i] = sx;
      ay[i] = sy;
      az[i] = sz;
    }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
      vx[i] += kStep * ax[i];
      vy[i] += kStep * ay[i];
      vz[i] += kStep * az[i];
      x[i] += kStep * vx[i];
      y[i] += kStep * vy[i];
      z[i] += kStep * vz[i];
    }
  }
  double seconds = omp_get_wtime() - start;

  // The whole simulation again, sequentially, with one body's pull computed at a time from fresh bodies.
  char failure[160];
  const char* failed = NULL;
  Bodies w = makeBodies(n);
  for (long t = 0; t < steps; t++) {
    for (long i = 0; i < n; i++) {
      w.ax[i] = w.ay[i] = w.az[i] = 0;
      for (long j = 0; j < n; j++) {
        double dx = w.x[j] - w.x[i], dy = w.y[j] - w.y[i], dz = w.z[j] - w.z[i];
        double r = sqrt(dx * dx + dy * dy + dz * dz + kSoftening);
        double weight = w.mass[j] / (r * r * r);
        w.ax[i] += weight * dx;
        w.ay[i] += weight * dy;
        w.az[i] += weight * dz;
      }
    }
    for (long i = 0; i < n; i++) {
      w.vx[i] += kStep * w.ax[i];
      w.vy[i] += kStep * w.ay[i];
      w.vz[i] += kStep * w.az[i];
      w.x[i] += kStep * w.vx[i];
      w.y[i] += kStep * w.vy[i];
      w.z[i] += kStep * w.vz[i];
    }
  }
  // Positions stay within a few units; 1e-9 allows for the different but equivalent force formula.
  for (long i = 0; i < n && failed == NULL; i++) {
    double error = fabs(x[i] - w.x[i]) + fabs(y[i] - w.y[i]) + fabs(z[i] - w.z[i]);
    if (!(error <= 1e-9)) {
      snprintf(failure, sizeof failure, "body %ld at (%.12g, %.12g, %.12g), expected (%.12g, %.12g, %.12g)",
               i, x[i], y[i], z[i], w.x[i], w.y[i], w.z[i]);
      failed = failure;
    }
  }
  // Each body's pull is summed in the same order whatever the schedule, so this sum does not depend on it.
  double checksum = 0;
  for (long i = 0; i < n; i++) checksum += x[i] + 2.0 * y[i] + 3.0 * z[i];
  char result[64];
  snprintf(result, sizeof result, "%.6e", checksum);
  freeBodies(&w);
  freeBodies(&b);
  return report(seconds, result, failed);
}
