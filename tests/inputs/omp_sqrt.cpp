#include <vector>
#include <cmath>
int main() { std::vector<double> v(100); 
#pragma omp parallel for
for (int i = 0; i < 100; ++i) v[i] = std::sqrt(i);
return v[3] > 1 ? 0 : 1; }
