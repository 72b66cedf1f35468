// pi: pi as the midpoint-rule integral of 4 / (1 + x^2) over [0, 1] with n intervals, one reduction(+).
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
          "pi: %s\n"
          "usage: pi N\n"
          "  N  intervals, 1000..10000000000\n",
          problem);
  return 2;
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

// M_PI is POSIX, not C11.
static const double kPi = 3.14159265358979323846;

int main(int argc, char** argv) {
  long n = 0;
  if (argc != 2) return usage("expected 1 argument");
  if (!parseArgument(argv[1], 1000, 10000000000L, &n))
    return usage("N must be an integer in 1000..10000000000");
  double width = 1.0 / (double)n;

#pragma omp parallel
  {
    // Starts the thread pool before the clock does, so region times leave out the OpenMP runtime's start-up.
  }

  double sum = 0;
  double start = omp_get_wtime();
#pragma omp parallel for reduction(+ : sum)
  for (long i = 0; i < n; i++) {
    double x = ((double)i + 0.5) * width;
    sum += 4.0 / (1.0 + x * x);
  }
  double estimate = sum * width;
  double seconds = omp_get_wtime() - start;

  // The midpoint rule's error is below width^2 / 3 here, far under the 2 / n that one lost interval costs;
  // 1e-9 covers rounding in any summation order. A compensated sequential sum must agree as well.
  char failure[160];
  const char* failed = NULL;
  double compensated = 0, carry = 0;
  for (long i = 0; i < n; i++) {
    double x = ((double)i + 0.5) / (double)n;
    double term = 4.0 / (1.0 + x * x) - carry;
    double next = compensated + term;
    carry = (next - compensated) - term;
    compensated = next;
  }
  compensated /= (double)n;
  double tolerance = width * width / 3.0 + 1e-9;
  if (!(fabs(estimate - kPi) <= tolerance) || !(fabs(estimate - compensated) <= 1e-9)) {
    snprintf(failure, sizeof failure, "estimate %.17g, sequential %.17g, pi %.17g", estimate, compensated,
             kPi);
    failed = failure;
  }
  // The error is about width^2 / 12 (under 1e-7 for N >= 1000), while 3.141595, the nearest rounding boundary
  // of 3.14159, is 2.3e-6 away from pi.
  char result[64];
  snprintf(result, sizeof result, "%.5f", estimate);
  return report(seconds, result, failed);
}
