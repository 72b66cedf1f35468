// How far a program's embedding lies from the programs a head was trained on: the mean standardised Euclidean
// distance to its k nearest training programs, as a percentile of the same statistic over the training
// programs themselves (each measured against the others), so 0.99 reads "farther than 99% of the training
// programs".
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::heads {

class NoveltyIndex {
 public:
  /// Distance of the nearest neighbours averaged (fewer when the index holds fewer other programs).
  static constexpr int kDefaultNeighbours = 5;

  /// One vector per distinct training program (all of one dimension); each dimension is standardised by the
  /// programs' mean and standard deviation (a constant dimension by 1). kInvalidInput for fewer than 2
  /// programs, mixed dimensions, non-finite values or k < 1.
  static Expected<NoveltyIndex> build(const std::vector<std::vector<float>>& programs,
                                      int neighbours = kDefaultNeighbours);

  /// Mean distance (standardised Euclidean over sqrt(dimension)) to the k nearest indexed programs, leaving
  /// out program `exclude` when given. kInvalidInput for a vector of another dimension.
  Expected<double> distance(const std::vector<float>& vector, std::optional<std::size_t> exclude = {}) const;

  /// Fraction of the training programs whose own leave-one-out distance is below this vector's distance: in
  /// [0, 1].
  Expected<double> percentile(const std::vector<float>& vector) const;

  std::size_t size() const { return count_; }
  std::size_t dimension() const { return dimension_; }
  int neighbours() const { return neighbours_; }
  /// The training programs' leave-one-out distances, ascending.
  const std::vector<double>& referenceDistances() const { return reference_; }

  /// Writes `directory`/`fileName` (float32: mean, scale, then the standardised programs) atomically and
  /// returns the manifest entry naming it with its SHA-256, the sizes and the reference distances.
  Expected<nlohmann::json> save(const std::filesystem::path& directory, const std::string& fileName) const;
  /// Reads what save() wrote; errors name the file (missing: kNotFound, other size or SHA-256: kVersion).
  static Expected<NoveltyIndex> load(const std::filesystem::path& directory, const nlohmann::json& entry);

 private:
  std::size_t count_ = 0, dimension_ = 0;
  int neighbours_ = kDefaultNeighbours;
  std::vector<float> mean_, scale_, points_;  ///< points_: count_ x dimension_, standardised
  std::vector<double> reference_;

  void computeReference();
  double rawDistance(const std::vector<float>& standardised, std::optional<std::size_t> exclude) const;
};

}  // namespace mirtune::heads
