// Training data for task heads: a dense row-major feature matrix, class labels and optional row weights.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <vector>

namespace mirtune::heads {

/// Dense row-major float matrix: element (r, c) is values[r * cols + c].
struct FeatureMatrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> values;

  FeatureMatrix() = default;
  /// A rows x cols matrix of zeros.
  FeatureMatrix(std::size_t rowCount, std::size_t colCount)
      : rows(rowCount), cols(colCount), values(rowCount * colCount, 0.0f) {}

  const float* row(std::size_t r) const { return values.data() + r * cols; }
  float* row(std::size_t r) { return values.data() + r * cols; }
  float& at(std::size_t r, std::size_t c) { return values[r * cols + c]; }
  float at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

/// Rows of features with integer class labels 0..classes-1 and optional per-row sample weights.
struct Dataset {
  FeatureMatrix features;
  std::vector<int> labels;
  /// Empty means every row weighs 1. Otherwise one finite, non-negative weight per row (e.g. how much
  /// runtime is at stake on a device-mapping row); a weight scales the row's loss / gradient.
  std::vector<float> weights;
  /// Number of classes k. Set it explicitly: a subset of the rows may miss a class, yet a head trained on it
  /// must still predict k probabilities. 0 means "largest label + 1" (see classCount()).
  int classes = 0;

  std::size_t size() const { return labels.size(); }
  /// classes when set, else the largest label + 1 (0 for no rows).
  int classCount() const;
  /// Weight of row r (1 when weights is empty).
  float weight(std::size_t r) const { return weights.empty() ? 1.0f : weights[r]; }

  /// Checks shapes (values = rows x cols, one label and at most one weight per row), labels in [0, k), k >=
  /// 2, finite features and finite non-negative weights with a positive sum. Errors name the row and column.
  Status validate() const;

  /// The given rows (indices into this data set, repeats allowed) in that order, with the same class count.
  Dataset subset(const std::vector<std::size_t>& rowIndices) const;
};

}  // namespace mirtune::heads
