// Synthetic data sets for the head tests.
#pragma once

#include "tasks/common/Dataset.h"

#include <random>

namespace mirtune::heads::testing {

/// Binary problem: label = [x0 + x1 - x2 > 0], rows within 0.3 of the boundary dropped (separable with
/// margin).
inline Dataset separableBinary(std::size_t rows, std::size_t cols, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  Dataset data;
  data.classes = 2;
  data.features.cols = cols;
  std::vector<float> row(cols);
  while (data.labels.size() < rows) {
    for (float& value : row) value = normal(random);
    float margin = row[0] + row[1] - row[2];
    if (std::abs(margin) < 0.3f) continue;
    data.features.values.insert(data.features.values.end(), row.begin(), row.end());
    data.labels.push_back(margin > 0 ? 1 : 0);
  }
  data.features.rows = rows;
  return data;
}

/// Three Gaussian clusters (unit variance) centred 4 apart along feature 0, 1 and 2 respectively.
inline Dataset threeClusters(std::size_t rows, std::size_t cols, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  Dataset data;
  data.classes = 3;
  data.features = FeatureMatrix(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    int label = static_cast<int>(r % 3);
    for (std::size_t c = 0; c < cols; ++c) data.features.at(r, c) = normal(random);
    data.features.at(r, static_cast<std::size_t>(label)) += 4.0f;
    data.labels.push_back(label);
  }
  return data;
}

inline double accuracy(const std::vector<int>& predicted, const std::vector<int>& labels) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

}  // namespace mirtune::heads::testing
