// Dataset validation and row subsets.
#include "tasks/common/Dataset.h"

#include <algorithm>
#include <cmath>

namespace mirtune::heads {

int Dataset::classCount() const {
  if (classes > 0) return classes;
  if (labels.empty()) return 0;
  return *std::max_element(labels.begin(), labels.end()) + 1;
}

Status Dataset::validate() const {
  if (features.values.size() != features.rows * features.cols) {
    return makeError(ErrorCode::kInvalidInput,
                     "feature matrix holds {} values, expected {} rows x {} columns", features.values.size(),
                     features.rows, features.cols);
  }
  if (features.rows == 0 || features.cols == 0) {
    return makeError(ErrorCode::kInvalidInput, "data set is empty ({} rows x {} columns)", features.rows,
                     features.cols);
  }
  if (labels.size() != features.rows) {
    return makeError(ErrorCode::kInvalidInput, "{} labels for {} feature rows", labels.size(), features.rows);
  }
  if (!weights.empty() && weights.size() != features.rows) {
    return makeError(ErrorCode::kInvalidInput, "{} sample weights for {} rows", weights.size(),
                     features.rows);
  }
  int k = classCount();
  if (k < 2) return makeError(ErrorCode::kInvalidInput, "a classifier needs at least 2 classes, got {}", k);
  for (std::size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0 || labels[r] >= k) {
      return makeError(ErrorCode::kInvalidInput, "row {}: label {} is outside [0, {})", r, labels[r], k);
    }
  }
  for (std::size_t i = 0; i < features.values.size(); ++i) {
    if (!std::isfinite(features.values[i])) {
      return makeError(ErrorCode::kInvalidInput, "row {}, column {}: feature is not finite ({})",
                       i / features.cols, i % features.cols, features.values[i]);
    }
  }
  double total = 0.0;
  for (std::size_t r = 0; r < weights.size(); ++r) {
    if (!std::isfinite(weights[r]) || weights[r] < 0.0f) {
      return makeError(ErrorCode::kInvalidInput, "row {}: sample weight {} is not a finite value >= 0", r,
                       weights[r]);
    }
    total += weights[r];
  }
  if (!weights.empty() && total <= 0.0) {
    return makeError(ErrorCode::kInvalidInput, "sample weights sum to {}, need a positive sum", total);
  }
  return success();
}

Dataset Dataset::subset(const std::vector<std::size_t>& rowIndices) const {
  Dataset out;
  out.classes = classCount();
  out.features = FeatureMatrix(rowIndices.size(), features.cols);
  out.labels.reserve(rowIndices.size());
  if (!weights.empty()) out.weights.reserve(rowIndices.size());
  for (std::size_t i = 0; i < rowIndices.size(); ++i) {
    std::size_t r = rowIndices[i];
    std::copy(features.row(r), features.row(r) + features.cols, out.features.row(i));
    out.labels.push_back(labels[r]);
    if (!weights.empty()) out.weights.push_back(weights[r]);
  }
  return out;
}

}  // namespace mirtune::heads
