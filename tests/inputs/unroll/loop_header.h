// A loop that lives in a header: listed, never rewritten or sliced.
static inline void scale_in_header(float* a, int n, float f) {
  for (int i = 0; i < n; ++i) a[i] *= f;
}
