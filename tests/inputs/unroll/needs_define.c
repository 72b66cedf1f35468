// Compiles only with -D N=...: a loop whose discovery proves the define reached the compile.
#ifndef N
#error "build with -D N=<elements>"
#endif
float data[N];

float total(void) {
  float s = 0;
  for (int i = 0; i < N; ++i) s += data[i];
  return s;
}
