// C++ OpenMP: a loop in a class template and a range-based worksharing loop.
#include <vector>

template <typename T>
struct Saxpy {
  void run(std::vector<T>& y, const std::vector<T>& x, T alpha) {
    const long n = static_cast<long>(y.size());
#pragma omp parallel for schedule(static, 16)
    for (long i = 0; i < n; ++i) y[i] += alpha * x[i];
  }
};

double total(const std::vector<double>& values) {
  double sum = 0;
#pragma omp parallel for reduction(+ : sum)
  for (std::size_t i = 0; i < values.size(); ++i) sum += values[i];
  return sum;
}

int main() {
  std::vector<double> x(1000, 1.0), y(1000, 2.0);
  Saxpy<double>{}.run(y, x, 3.0);
  return total(y) > 0 ? 0 : 1;
}
