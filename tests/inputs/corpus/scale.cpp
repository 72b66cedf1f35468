// A C++ template instantiated twice.
#include <cstddef>

template <typename T>
void scale(T* data, std::size_t n, T factor) {
  for (std::size_t i = 0; i < n; ++i) data[i] *= factor;
}

void scaleBoth(float* f, double* d, std::size_t n) {
  scale(f, n, 2.0f);
  scale(d, n, 0.5);
}
