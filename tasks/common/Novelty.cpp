// The novelty index: standardised programs, k-nearest mean distances, leave-one-out reference distances, and
// its float32 file beside a head's manifest.
#include "tasks/common/Novelty.h"

#include "support/Files.h"
#include "support/Sha256.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mirtune::heads {

namespace fs = std::filesystem;

Expected<NoveltyIndex> NoveltyIndex::build(const std::vector<std::vector<float>>& programs, int neighbours) {
  if (programs.size() < 2) {
    return makeError(ErrorCode::kInvalidInput, "novelty index: {} program(s), need at least 2",
                     programs.size());
  }
  if (neighbours < 1)
    return makeError(ErrorCode::kInvalidInput, "novelty index: {} neighbours, need >= 1", neighbours);
  NoveltyIndex index;
  index.count_ = programs.size();
  index.dimension_ = programs.front().size();
  index.neighbours_ = neighbours;
  if (index.dimension_ == 0) return makeError(ErrorCode::kInvalidInput, "novelty index: empty vectors");
  std::vector<double> sum(index.dimension_, 0), sumSquares(index.dimension_, 0);
  for (std::size_t p = 0; p < programs.size(); ++p) {
    if (programs[p].size() != index.dimension_) {
      return makeError(ErrorCode::kInvalidInput, "novelty index: program {} has {} values, program 0 has {}",
                       p, programs[p].size(), index.dimension_);
    }
    for (std::size_t d = 0; d < index.dimension_; ++d) {
      double value = programs[p][d];
      if (!std::isfinite(value)) {
        return makeError(ErrorCode::kInvalidInput, "novelty index: program {} value {} is not finite", p, d);
      }
      sum[d] += value;
      sumSquares[d] += value * value;
    }
  }
  const double n = static_cast<double>(programs.size());
  for (std::size_t d = 0; d < index.dimension_; ++d) {
    double mean = sum[d] / n, variance = std::max(0.0, sumSquares[d] / n - mean * mean);
    double deviation = std::sqrt(variance);
    index.mean_.push_back(static_cast<float>(mean));
    index.scale_.push_back(deviation > 1e-6 ? static_cast<float>(deviation) : 1.0f);
  }
  for (const std::vector<float>& program : programs) {
    for (std::size_t d = 0; d < index.dimension_; ++d) {
      index.points_.push_back((program[d] - index.mean_[d]) / index.scale_[d]);
    }
  }
  index.computeReference();
  return index;
}

void NoveltyIndex::computeReference() {
  reference_.clear();
  for (std::size_t p = 0; p < count_; ++p) {
    std::vector<float> point(points_.begin() + static_cast<std::ptrdiff_t>(p * dimension_),
                             points_.begin() + static_cast<std::ptrdiff_t>((p + 1) * dimension_));
    reference_.push_back(rawDistance(point, p));
  }
  std::sort(reference_.begin(), reference_.end());
}

double NoveltyIndex::rawDistance(const std::vector<float>& standardised,
                                 std::optional<std::size_t> exclude) const {
  std::vector<double> distances;
  distances.reserve(count_);
  for (std::size_t p = 0; p < count_; ++p) {
    if (exclude && *exclude == p) continue;
    const float* point = points_.data() + p * dimension_;
    double sum = 0;
    for (std::size_t d = 0; d < dimension_; ++d) {
      double difference = static_cast<double>(standardised[d]) - point[d];
      sum += difference * difference;
    }
    distances.push_back(std::sqrt(sum / static_cast<double>(dimension_)));
  }
  std::size_t k = std::min(distances.size(), static_cast<std::size_t>(neighbours_));
  std::partial_sort(distances.begin(), distances.begin() + static_cast<std::ptrdiff_t>(k), distances.end());
  double total = 0;
  for (std::size_t i = 0; i < k; ++i) total += distances[i];
  return k == 0 ? 0 : total / static_cast<double>(k);
}

Expected<double> NoveltyIndex::distance(const std::vector<float>& vector,
                                        std::optional<std::size_t> exclude) const {
  if (vector.size() != dimension_) {
    return makeError(ErrorCode::kInvalidInput, "novelty: a vector of {} values, the index holds {}",
                     vector.size(), dimension_);
  }
  std::vector<float> standardised(dimension_);
  for (std::size_t d = 0; d < dimension_; ++d) standardised[d] = (vector[d] - mean_[d]) / scale_[d];
  return rawDistance(standardised, exclude);
}

Expected<double> NoveltyIndex::percentile(const std::vector<float>& vector) const {
  auto measured = distance(vector);
  if (!measured) return measured.error();
  auto below = std::lower_bound(reference_.begin(), reference_.end(), *measured);
  return static_cast<double>(below - reference_.begin()) / static_cast<double>(reference_.size());
}

Expected<nlohmann::json> NoveltyIndex::save(const fs::path& directory, const std::string& fileName) const {
  std::vector<float> values;
  values.insert(values.end(), mean_.begin(), mean_.end());
  values.insert(values.end(), scale_.begin(), scale_.end());
  values.insert(values.end(), points_.begin(), points_.end());
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (Status written = writeFileAtomically(directory / fileName, bytes); !written) return written.error();
  return nlohmann::json{
      {"file", fileName},
      {"sha256", sha256Hex(bytes)},
      {"programs", count_},
      {"dimension", dimension_},
      {"neighbours", neighbours_},
      {"metric", "mean standardised Euclidean distance to the nearest training programs"},
      {"layout", "float32: mean[dimension], scale[dimension], programs[programs][dimension]"}};
}

Expected<NoveltyIndex> NoveltyIndex::load(const fs::path& directory, const nlohmann::json& entry) {
  const fs::path manifest = directory / "manifest.json";
  const bool valid = entry.is_object() && entry.contains("file") && entry["file"].is_string() &&
                     entry.contains("sha256") && entry["sha256"].is_string() && entry.contains("programs") &&
                     entry["programs"].is_number_unsigned() && entry.contains("dimension") &&
                     entry["dimension"].is_number_unsigned() && entry.contains("neighbours") &&
                     entry["neighbours"].is_number_integer();
  if (!valid) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: the novelty entry needs file, sha256, programs, dimension and neighbours",
                     manifest.string());
  }
  const std::string fileName = entry["file"].get<std::string>();
  if (fileName.empty() || fs::path(fileName).filename().string() != fileName) {
    return makeError(ErrorCode::kInvalidInput, "{}: novelty file \"{}\" must be a plain file name",
                     manifest.string(), fileName);
  }
  const fs::path path = directory / fileName;
  auto bytes = readFile(path);
  if (!bytes) return bytes.error();
  NoveltyIndex index;
  index.count_ = entry["programs"].get<std::size_t>();
  index.dimension_ = entry["dimension"].get<std::size_t>();
  index.neighbours_ = entry["neighbours"].get<int>();
  const std::size_t expected = (index.count_ + 2) * index.dimension_ * sizeof(float);
  if (index.count_ < 2 || index.dimension_ == 0 || index.neighbours_ < 1 || bytes->size() != expected) {
    return makeError(ErrorCode::kVersion,
                     "{}: {} bytes, the manifest describes {} programs of {} values ({} bytes)",
                     path.string(), bytes->size(), index.count_, index.dimension_, expected);
  }
  if (sha256Hex(*bytes) != entry["sha256"].get<std::string>()) {
    return makeError(ErrorCode::kVersion, "{}: SHA-256 differs from {}'s", path.string(), manifest.string());
  }
  std::vector<float> values(bytes->size() / sizeof(float));
  std::memcpy(values.data(), bytes->data(), bytes->size());
  const auto d = static_cast<std::ptrdiff_t>(index.dimension_);
  index.mean_.assign(values.begin(), values.begin() + d);
  index.scale_.assign(values.begin() + d, values.begin() + 2 * d);
  index.points_.assign(values.begin() + 2 * d, values.end());
  for (float scale : index.scale_) {
    if (!(scale > 0) || !std::isfinite(scale)) {
      return makeError(ErrorCode::kInvalidInput, "{}: a scale is not a positive number", path.string());
    }
  }
  index.computeReference();
  return index;
}

}  // namespace mirtune::heads
