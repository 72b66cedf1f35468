// Curve heads for thread coarsening: prior, nearest neighbours, regression and classifier heads behind one
// interface, a feature transform fitted on training kernels only, and grouped inner cross-validation over
// them.
#include "tasks/coarsen/CoarsenCurves.h"

#include "support/Csv.h"
#include "support/Files.h"
#include "support/Parallel.h"
#include "tasks/common/HeadFolder.h"
#include "tasks/common/ModelSelection.h"
#include "tasks/common/XgbRegressor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCurvesFile = "curves.json";
constexpr std::size_t kPlatformCount = kPlatforms.size();
constexpr std::size_t kFactorCount = kFactors.size();

using PlatformCurves = std::array<FactorCurve, kPlatformCount>;

// Whether each factor is within kNearOracle of the kernel's best on a platform, as 0/1.
FactorCurve nearBest(const CoarsenKernel& kernel, std::size_t platform) {
  FactorCurve curve = speedupCurve(kernel, platform);
  double best = *std::max_element(curve.begin(), curve.end());
  FactorCurve near{};
  for (std::size_t f = 0; f < kFactorCount; ++f) near[f] = curve[f] >= kNearOracle * best ? 1.0 : 0.0;
  return near;
}

std::vector<std::size_t> allPlatforms() {
  std::vector<std::size_t> platforms(kPlatformCount);
  std::iota(platforms.begin(), platforms.end(), 0);
  return platforms;
}

int intParam(const nlohmann::json& params, const char* key, int fallback) {
  auto found = params.find(key);
  return found != params.end() && found->is_number_integer() ? found->get<int>() : fallback;
}

double numberParam(const nlohmann::json& params, const char* key, double fallback) {
  auto found = params.find(key);
  return found != params.end() && found->is_number() ? found->get<double>() : fallback;
}

// Cyclic Jacobi rotations on a small symmetric matrix (n <= the number of training kernels): eigenvalues on
// the diagonal of `a`, eigenvectors in the columns of the returned matrix.
std::vector<std::vector<double>> jacobiEigen(std::vector<std::vector<double>>& a) {
  const std::size_t n = a.size();
  std::vector<std::vector<double>> v(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) v[i][i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j) off += a[i][j] * a[i][j];
    if (off < 1e-22) break;
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        if (std::abs(a[p][q]) < 1e-300) continue;
        double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {
          double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {
          double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {
          double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return v;
}

// Standardisation (training mean and spread per input) and, optionally, the leading principal components of
// the standardised training rows; fitted on training kernels only.
struct FeatureTransform {
  std::vector<double> mean;
  std::vector<double> scale;                    // 0: constant input on the training rows, dropped
  std::vector<std::vector<double>> components;  // unit vectors over the inputs; empty: no projection

  static FeatureTransform fit(const std::vector<const std::vector<float>*>& rows, int pca) {
    FeatureTransform t;
    const std::size_t d = rows.front()->size(), n = rows.size();
    t.mean.assign(d, 0.0);
    t.scale.assign(d, 0.0);
    for (const auto* row : rows)
      for (std::size_t c = 0; c < d; ++c) t.mean[c] += (*row)[c];
    for (double& m : t.mean) m /= static_cast<double>(n);
    for (const auto* row : rows)
      for (std::size_t c = 0; c < d; ++c) t.scale[c] += ((*row)[c] - t.mean[c]) * ((*row)[c] - t.mean[c]);
    for (double& s : t.scale) {
      double sd = std::sqrt(s / static_cast<double>(n));
      s = sd > 1e-9 ? 1 / sd : 0.0;
    }
    if (pca <= 0) return t;
    std::vector<std::vector<double>> z;
    for (const auto* row : rows) z.push_back(t.standardise(*row));
    std::vector<std::vector<double>> gram(n, std::vector<double>(n, 0.0));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i; j < n; ++j)
        gram[i][j] = gram[j][i] = std::inner_product(z[i].begin(), z[i].end(), z[j].begin(), 0.0);
    std::vector<std::vector<double>> vectors = jacobiEigen(gram);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return gram[a][a] > gram[b][b]; });
    for (std::size_t i = 0; i < order.size() && t.components.size() < static_cast<std::size_t>(pca); ++i) {
      double lambda = gram[order[i]][order[i]];
      if (lambda < 1e-9) break;
      std::vector<double> component(d, 0.0);  // Z^T u / sqrt(lambda): unit length
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < d; ++c) component[c] += z[r][c] * vectors[r][order[i]];
      for (double& value : component) value /= std::sqrt(lambda);
      t.components.push_back(std::move(component));
    }
    return t;
  }

  std::vector<double> standardise(const std::vector<float>& x) const {
    std::vector<double> z(x.size());
    for (std::size_t c = 0; c < x.size(); ++c) z[c] = (x[c] - mean[c]) * scale[c];
    return z;
  }

  std::vector<double> apply(const std::vector<float>& x) const {
    std::vector<double> z = standardise(x);
    if (components.empty()) return z;
    std::vector<double> projected;
    for (const auto& component : components)
      projected.push_back(std::inner_product(z.begin(), z.end(), component.begin(), 0.0));
    return projected;
  }

  std::vector<float> applyFloat(const std::vector<float>& x) const {
    std::vector<double> y = apply(x);
    return std::vector<float>(y.begin(), y.end());
  }

  nlohmann::json toJson() const { return {{"mean", mean}, {"scale", scale}, {"components", components}}; }

  static Expected<FeatureTransform> fromJson(const nlohmann::json& json, std::size_t inputs,
                                             const std::string& where) {
    FeatureTransform t;
    try {
      t.mean = json.at("mean").get<std::vector<double>>();
      t.scale = json.at("scale").get<std::vector<double>>();
      t.components = json.at("components").get<std::vector<std::vector<double>>>();
    } catch (const std::exception& e) {
      return makeError(ErrorCode::kInvalidInput, "{}: feature transform: {}", where, e.what());
    }
    bool shaped = t.mean.size() == inputs && t.scale.size() == inputs;
    for (const auto& component : t.components) shaped = shaped && component.size() == inputs;
    if (!shaped) {
      return makeError(ErrorCode::kVersion, "{}: feature transform is not over {} inputs (retrain the heads)",
                       where, inputs);
    }
    return t;
  }
};

std::vector<const std::vector<float>*> rowsOf(const std::vector<std::vector<float>>& features,
                                              const std::vector<std::size_t>& kernels) {
  std::vector<const std::vector<float>*> rows;
  for (std::size_t k : kernels) rows.push_back(&features[k]);
  return rows;
}

// Mean training speedup per factor per platform, and the share of training kernels near-best at each factor.
struct PriorTable {
  PlatformCurves mean{};
  PlatformCurves nearShare{};

  static PriorTable fit(const CoarsenData& data, const std::vector<std::size_t>& kernels) {
    PriorTable prior;
    for (std::size_t p = 0; p < kPlatformCount; ++p) {
      for (std::size_t k : kernels) {
        FactorCurve curve = speedupCurve(data.kernels[k], p), near = nearBest(data.kernels[k], p);
        for (std::size_t f = 0; f < kFactorCount; ++f) {
          prior.mean[p][f] += curve[f] / static_cast<double>(kernels.size());
          prior.nearShare[p][f] += near[f] / static_cast<double>(kernels.size());
        }
      }
    }
    return prior;
  }
  nlohmann::json toJson() const { return {{"mean_speedup", mean}, {"near_best_share", nearShare}}; }
  static Expected<PriorTable> fromJson(const nlohmann::json& json, const std::string& where) {
    PriorTable prior;
    try {
      prior.mean = json.at("mean_speedup").get<PlatformCurves>();
      prior.nearShare = json.at("near_best_share").get<PlatformCurves>();
    } catch (const std::exception& e) {
      return makeError(ErrorCode::kInvalidInput, "{}: prior: {}", where, e.what());
    }
    return prior;
  }
};

class PriorModel final : public CurveModel {
 public:
  PriorModel(CurveCandidate candidate, PriorTable prior) : candidate_(std::move(candidate)), prior_(prior) {}
  const CurveCandidate& candidate() const override { return candidate_; }
  Expected<FactorCurve> scores(const std::vector<float>&, std::size_t platform) const override {
    return prior_.mean[platform];
  }
  Status save(const fs::path& directory) const override {
    return writeCurves(directory, {{"params", candidate_.params}, {"prior", prior_.toJson()}});
  }
  static Status writeCurves(const fs::path& directory, const nlohmann::json& json) {
    std::error_code ec;
    fs::create_directories(directory, ec);
    if (ec) return makeError(ErrorCode::kIo, "{}: cannot create: {}", directory.string(), ec.message());
    return writeFileAtomically(directory / kCurvesFile, json.dump() + "\n");
  }

 protected:
  double support(const std::vector<float>&, std::size_t platform, std::size_t factor, double) const override {
    return prior_.nearShare[platform][factor];
  }

 private:
  CurveCandidate candidate_;
  PriorTable prior_;
};

class NeighbourModel final : public CurveModel {
 public:
  struct Reference {
    std::string kernel;
    std::vector<double> unit;  // transformed features, unit length
    PlatformCurves curve{};
    PlatformCurves near{};
  };

  NeighbourModel(CurveCandidate candidate, FeatureTransform transform, PriorTable prior,
                 std::vector<Reference> references)
      : candidate_(std::move(candidate)),
        transform_(std::move(transform)),
        prior_(prior),
        references_(std::move(references)) {
    k_ = intParam(candidate_.params, "k", 3);
    priorWeight_ = numberParam(candidate_.params, "prior_weight", 0.0);
  }
  const CurveCandidate& candidate() const override { return candidate_; }

  Expected<FactorCurve> scores(const std::vector<float>& features, std::size_t platform) const override {
    FactorCurve curve{};
    for (const auto& [index, weight] : neighbours(features)) {
      for (std::size_t f = 0; f < kFactorCount; ++f)
        curve[f] += weight * references_[index].curve[platform][f];
    }
    for (std::size_t f = 0; f < kFactorCount; ++f) {
      curve[f] = (1 - priorWeight_) * curve[f] + priorWeight_ * prior_.mean[platform][f];
    }
    return curve;
  }

  Status save(const fs::path& directory) const override {
    nlohmann::json list = nlohmann::json::array();
    for (const Reference& reference : references_) {
      list.push_back({{"kernel", reference.kernel},
                      {"unit", reference.unit},
                      {"speedup", reference.curve},
                      {"near_best", reference.near}});
    }
    return PriorModel::writeCurves(directory, {{"params", candidate_.params},
                                               {"prior", prior_.toJson()},
                                               {"transform", transform_.toJson()},
                                               {"references", list}});
  }

  static Expected<std::unique_ptr<CurveModel>> load(CurveCandidate candidate, const nlohmann::json& json,
                                                    std::size_t inputs, const std::string& where) {
    auto transform =
        FeatureTransform::fromJson(json.value("transform", nlohmann::json::object()), inputs, where);
    if (!transform) return transform.error();
    auto prior = PriorTable::fromJson(json.value("prior", nlohmann::json::object()), where);
    if (!prior) return prior.error();
    std::vector<Reference> references;
    try {
      for (const auto& item : json.at("references")) {
        Reference reference;
        reference.kernel = item.at("kernel").get<std::string>();
        reference.unit = item.at("unit").get<std::vector<double>>();
        reference.curve = item.at("speedup").get<PlatformCurves>();
        reference.near = item.at("near_best").get<PlatformCurves>();
        std::size_t width = transform->components.empty() ? inputs : transform->components.size();
        if (reference.unit.size() != width) {
          return makeError(ErrorCode::kVersion, "{}: reference {} has {} values, expected {}", where,
                           reference.kernel, reference.unit.size(), width);
        }
        references.push_back(std::move(reference));
      }
    } catch (const std::exception& e) {
      return makeError(ErrorCode::kInvalidInput, "{}: references: {}", where, e.what());
    }
    if (references.empty()) return makeError(ErrorCode::kInvalidInput, "{}: no reference kernels", where);
    return std::unique_ptr<CurveModel>(std::make_unique<NeighbourModel>(
        std::move(candidate), std::move(*transform), *prior, std::move(references)));
  }

  static std::vector<double> unit(std::vector<double> x) {
    double norm = std::sqrt(std::inner_product(x.begin(), x.end(), x.begin(), 0.0));
    if (norm > 0)
      for (double& value : x) value /= norm;
    return x;
  }

 protected:
  double support(const std::vector<float>& features, std::size_t platform, std::size_t factor,
                 double) const override {
    double share = 0;
    for (const auto& [index, weight] : neighbours(features))
      share += weight * references_[index].near[platform][factor];
    return (1 - priorWeight_) * share + priorWeight_ * prior_.nearShare[platform][factor];
  }

 private:
  // The k most similar references (cosine; ties: earlier reference) with weights max(similarity, 0) + 1e-3
  // normalised to sum 1, so a neighbour pointing the other way still counts a little.
  std::vector<std::pair<std::size_t, double>> neighbours(const std::vector<float>& features) const {
    std::vector<double> query = unit(transform_.apply(features));
    std::vector<std::pair<std::size_t, double>> similar;
    for (std::size_t i = 0; i < references_.size(); ++i) {
      similar.emplace_back(i,
                           std::inner_product(query.begin(), query.end(), references_[i].unit.begin(), 0.0));
    }
    std::stable_sort(similar.begin(), similar.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (k_ > 0 && static_cast<std::size_t>(k_) < similar.size()) similar.resize(static_cast<std::size_t>(k_));
    double total = 0;
    for (auto& [index, similarity] : similar) {
      similarity = std::max(similarity, 0.0) + 1e-3;
      total += similarity;
    }
    for (auto& entry : similar) entry.second /= total;
    return similar;
  }

  CurveCandidate candidate_;
  FeatureTransform transform_;
  PriorTable prior_;
  std::vector<Reference> references_;
  int k_ = 3;
  double priorWeight_ = 0;
};

// XgbParams keys of a regression candidate (the curve-level keys removed).
nlohmann::json xgbKeys(const nlohmann::json& params) {
  nlohmann::json keys = params;
  for (const char* own : {"pca", "prior"}) keys.erase(own);
  return keys;
}

class RegressionModel final : public CurveModel {
 public:
  RegressionModel(CurveCandidate candidate, FeatureTransform transform, PriorTable prior,
                  std::unique_ptr<heads::XgbRegressor> regressor)
      : candidate_(std::move(candidate)),
        transform_(std::move(transform)),
        prior_(prior),
        regressor_(std::move(regressor)) {
    usePrior_ = candidate_.params.value("prior", true);
  }
  const CurveCandidate& candidate() const override { return candidate_; }

  /// Inputs of one (kernel, platform, factor) row.
  static std::vector<float> row(const std::vector<float>& transformed, std::size_t platform,
                                std::size_t factor, const PriorTable& prior, bool usePrior) {
    std::vector<float> x = transformed;
    for (std::size_t p = 0; p < kPlatformCount; ++p) x.push_back(p == platform ? 1.0f : 0.0f);
    x.push_back(static_cast<float>(std::log2(kFactors[factor])));
    if (usePrior) x.push_back(static_cast<float>(std::log(prior.mean[platform][factor])));
    return x;
  }

  Expected<FactorCurve> scores(const std::vector<float>& features, std::size_t platform) const override {
    std::vector<float> transformed = transform_.applyFloat(features);
    heads::FeatureMatrix matrix;
    for (std::size_t f = 0; f < kFactorCount; ++f) {
      std::vector<float> x = row(transformed, platform, f, prior_, usePrior_);
      matrix.cols = x.size();
      matrix.values.insert(matrix.values.end(), x.begin(), x.end());
      ++matrix.rows;
    }
    auto predicted = regressor_->predict(matrix.values.data(), matrix.rows, matrix.cols);
    if (!predicted) return predicted.error();
    FactorCurve curve{};
    for (std::size_t f = 0; f < kFactorCount; ++f) curve[f] = std::exp((*predicted)[f]);
    return curve;
  }

  Status save(const fs::path& directory) const override {
    if (auto saved = regressor_->save(directory / "regressor"); !saved) return saved;
    return PriorModel::writeCurves(
        directory,
        {{"params", candidate_.params}, {"prior", prior_.toJson()}, {"transform", transform_.toJson()}});
  }

  static Expected<std::unique_ptr<CurveModel>> load(CurveCandidate candidate, const fs::path& directory,
                                                    const nlohmann::json& json, std::size_t inputs,
                                                    const std::string& where) {
    auto transform =
        FeatureTransform::fromJson(json.value("transform", nlohmann::json::object()), inputs, where);
    if (!transform) return transform.error();
    auto prior = PriorTable::fromJson(json.value("prior", nlohmann::json::object()), where);
    if (!prior) return prior.error();
    auto regressor = heads::XgbRegressor::load(directory / "regressor");
    if (!regressor) return regressor.error();
    std::size_t width = (transform->components.empty() ? inputs : transform->components.size()) +
                        kPlatformCount + 1 + (candidate.params.value("prior", true) ? 1 : 0);
    if ((*regressor)->featureCount() != width) {
      return makeError(ErrorCode::kVersion, "{}: regressor has {} inputs, expected {}", where,
                       (*regressor)->featureCount(), width);
    }
    return std::unique_ptr<CurveModel>(std::make_unique<RegressionModel>(
        std::move(candidate), std::move(*transform), *prior, std::move(*regressor)));
  }

 protected:
  double support(const std::vector<float>&, std::size_t platform, std::size_t factor, double) const override {
    return prior_.nearShare[platform][factor];
  }

 private:
  CurveCandidate candidate_;
  FeatureTransform transform_;
  PriorTable prior_;
  std::unique_ptr<heads::XgbRegressor> regressor_;
  bool usePrior_ = true;
};

class HeadModel final : public CurveModel {
 public:
  HeadModel(CurveCandidate candidate, FeatureTransform transform, std::unique_ptr<heads::Classifier> head)
      : candidate_(std::move(candidate)), transform_(std::move(transform)), head_(std::move(head)) {}
  const CurveCandidate& candidate() const override { return candidate_; }

  Expected<FactorCurve> scores(const std::vector<float>& features, std::size_t platform) const override {
    std::vector<float> transformed = transform_.applyFloat(features);
    heads::FeatureMatrix matrix(kFactorCount, headFeatureCount(transformed.size(), HeadForm::kFactor));
    for (std::size_t f = 0; f < kFactorCount; ++f) {
      std::vector<float> x = headFeatures(transformed, platform, HeadForm::kFactor, kFactors[f]);
      std::copy(x.begin(), x.end(), matrix.row(f));
    }
    auto probabilities = head_->predictProbabilities(matrix.values.data(), matrix.rows, matrix.cols);
    if (!probabilities) return probabilities.error();
    FactorCurve curve{};
    for (std::size_t f = 0; f < kFactorCount; ++f) curve[f] = (*probabilities)[2 * f + 1];
    return curve;
  }

  Status save(const fs::path& directory) const override {
    if (auto saved = head_->save(directory / "head"); !saved) return saved;
    return PriorModel::writeCurves(directory,
                                   {{"params", candidate_.params}, {"transform", transform_.toJson()}});
  }

  static Expected<std::unique_ptr<CurveModel>> load(CurveCandidate candidate, const fs::path& directory,
                                                    const nlohmann::json& json, std::size_t inputs,
                                                    const std::string& where) {
    auto transform =
        FeatureTransform::fromJson(json.value("transform", nlohmann::json::object()), inputs, where);
    if (!transform) return transform.error();
    auto head = heads::Classifier::load(directory / "head");
    if (!head) return head.error();
    std::size_t width = transform->components.empty() ? inputs : transform->components.size();
    if ((*head)->featureCount() != headFeatureCount(width, HeadForm::kFactor) || (*head)->classCount() != 2) {
      return makeError(ErrorCode::kVersion, "{}: head has {} inputs and {} classes, expected {} and 2", where,
                       (*head)->featureCount(), (*head)->classCount(),
                       headFeatureCount(width, HeadForm::kFactor));
    }
    return std::unique_ptr<CurveModel>(
        std::make_unique<HeadModel>(std::move(candidate), std::move(*transform), std::move(*head)));
  }

 protected:
  double support(const std::vector<float>&, std::size_t, std::size_t, double score) const override {
    return score;
  }

 private:
  CurveCandidate candidate_;
  FeatureTransform transform_;
  std::unique_ptr<heads::Classifier> head_;
};

}  // namespace

FactorCurve speedupCurve(const CoarsenKernel& kernel, std::size_t platform) {
  FactorCurve curve{};
  for (std::size_t f = 0; f < kFactorCount; ++f) curve[f] = kernel.speedup(platform, kFactors[f]);
  return curve;
}

Expected<std::vector<std::vector<float>>> loadMagniFeatures(const CoarsenData& data) {
  auto table = CsvTable::read(data.directory / "pact-2014-runtimes.csv");
  if (!table) return table.error();
  auto kernelColumn = table->requireColumn("kernel");
  auto factorColumn = table->requireColumn("cf");
  if (!kernelColumn) return kernelColumn.error();
  if (!factorColumn) return factorColumn.error();
  std::vector<std::size_t> columns;
  for (int i = 1; i <= 7; ++i) {
    auto column = table->requireColumn(fmt::format("PCA{}", i));
    if (!column) return column.error();
    columns.push_back(*column);
  }
  std::vector<std::vector<float>> features(data.kernels.size());
  for (std::size_t r = 0; r < table->rows(); ++r) {
    auto factor = table->number(r, *factorColumn);
    if (!factor) return factor.error();
    if (*factor != 1) continue;
    auto kernel = data.kernelIndex(table->record(r)[*kernelColumn]);
    if (!kernel) return kernel.error().withContext(fmt::format("{}:{}", table->name(), table->lineOf(r)));
    for (std::size_t column : columns) {
      auto value = table->number(r, column);
      if (!value) return value.error();
      features[*kernel].push_back(static_cast<float>(*value));
    }
  }
  for (std::size_t k = 0; k < features.size(); ++k) {
    if (features[k].size() != columns.size()) {
      return makeError(ErrorCode::kInvalidInput, "{}: kernel {} has no single cf 1 row with PCA1..PCA7",
                       table->name(), data.kernels[k].name);
    }
  }
  return features;
}

std::string_view curveMethodName(CurveMethod method) {
  switch (method) {
    case CurveMethod::kPrior:
      return "prior";
    case CurveMethod::kNeighbours:
      return "knn";
    case CurveMethod::kRegression:
      return "regression";
    case CurveMethod::kHead:
      return "factor-head";
  }
  return "prior";
}

Expected<CurveMethod> parseCurveMethod(std::string_view name) {
  for (CurveMethod method :
       {CurveMethod::kPrior, CurveMethod::kNeighbours, CurveMethod::kRegression, CurveMethod::kHead}) {
    if (curveMethodName(method) == name) return method;
  }
  return makeError(ErrorCode::kUsage, "unknown curve method '{}' (prior, knn, regression or factor-head)",
                   name);
}

heads::Candidate CurveCandidate::asCandidate() const {
  return {std::string(curveMethodName(method)), params};
}

Expected<CurveCandidate> parseCurveCandidate(const heads::Candidate& candidate) {
  auto method = parseCurveMethod(candidate.kind);
  if (!method) return Error(ErrorCode::kInvalidInput, method.error().message());
  CurveCandidate parsed{*method, candidate.params.is_null() ? nlohmann::json::object() : candidate.params};
  const std::string what(candidate.kind);
  Status known = success();
  switch (*method) {
    case CurveMethod::kPrior:
      known = heads::detail::rejectUnknownKeys(parsed.params, {}, what);
      break;
    case CurveMethod::kNeighbours:
      known = heads::detail::rejectUnknownKeys(parsed.params, {"k", "prior_weight", "pca"}, what);
      break;
    case CurveMethod::kRegression: {
      auto params = heads::XgbParams::fromJson(xgbKeys(parsed.params));
      if (!params) return params.error().withContext(what);
      break;
    }
    case CurveMethod::kHead: {
      known = heads::detail::rejectUnknownKeys(parsed.params, {"kind", "params", "pca"}, what);
      if (!known) break;
      auto head = heads::makeClassifier(
          {parsed.params.value("kind", "xgboost"), parsed.params.value("params", nlohmann::json::object())});
      if (!head) return Error(ErrorCode::kInvalidInput, head.error().message()).withContext(what);
      break;
    }
  }
  if (!known) return known.error();
  double priorWeight = numberParam(parsed.params, "prior_weight", 0.0);
  if (intParam(parsed.params, "pca", 0) < 0 || intParam(parsed.params, "k", 0) < 0 || priorWeight < 0 ||
      priorWeight > 1) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: need pca >= 0, k >= 0 and prior_weight in [0, 1] (got {})", what,
                     parsed.params.dump());
  }
  return parsed;
}

std::vector<CurveCandidate> defaultCurveCandidates(std::string_view method) {
  std::vector<CurveCandidate> out;
  bool all = method == "auto";
  if (all || method == "prior") out.push_back({CurveMethod::kPrior, nlohmann::json::object()});
  if (all || method == "knn") {
    for (int pca : {0, 8}) {
      for (double priorWeight : {0.0, 0.5}) {
        for (int k : {1, 2, 3, 5, 0}) {
          out.push_back({CurveMethod::kNeighbours, {{"k", k}, {"prior_weight", priorWeight}, {"pca", pca}}});
        }
      }
    }
  }
  if (all || method == "regression") {
    // Few rows (about 15 kernels x 4 GPUs x 5 factors): shallow trees, half the inputs per tree.
    for (int pca : {0, 8}) {
      for (int depth : {2, 4}) {
        for (int rounds : {100, 300}) {
          out.push_back({CurveMethod::kRegression,
                         {{"max_depth", depth},
                          {"rounds", rounds},
                          {"eta", 0.05},
                          {"max_bin", 32},
                          {"colsample_bytree", 0.5},
                          {"prior", true},
                          {"pca", pca}}});
        }
      }
    }
  }
  if (all || method == "factor-head") {
    for (int depth : {3, 6}) {
      out.push_back({CurveMethod::kHead,
                     {{"kind", "xgboost"},
                      {"params",
                       {{"max_depth", depth},
                        {"rounds", 100},
                        {"eta", 0.1},
                        {"max_bin", 32},
                        {"colsample_bytree", 0.5}}},
                      {"pca", 0}}});
    }
  }
  return out;
}

Expected<FactorChoice> CurveModel::choose(const std::vector<float>& features, std::size_t platform) const {
  auto curve = scores(features, platform);
  if (!curve) return curve.error();
  std::size_t best =
      static_cast<std::size_t>(std::max_element(curve->begin(), curve->end()) - curve->begin());
  return FactorChoice{kFactors[best], support(features, platform, best, (*curve)[best])};
}

Expected<std::unique_ptr<CurveModel>> fitCurveModel(const CurveCandidate& candidate, const CoarsenData& data,
                                                    const std::vector<std::vector<float>>& features,
                                                    const std::vector<std::size_t>& kernels, unsigned seed) {
  if (kernels.empty()) return makeError(ErrorCode::kInvalidInput, "no training kernels");
  PriorTable prior = PriorTable::fit(data, kernels);
  if (candidate.method == CurveMethod::kPrior)
    return std::unique_ptr<CurveModel>(std::make_unique<PriorModel>(candidate, prior));
  int pca = intParam(candidate.params, "pca", 0);
  FeatureTransform transform = FeatureTransform::fit(rowsOf(features, kernels), pca);
  if (candidate.method == CurveMethod::kNeighbours) {
    std::vector<NeighbourModel::Reference> references;
    for (std::size_t k : kernels) {
      NeighbourModel::Reference reference;
      reference.kernel = data.kernels[k].name;
      reference.unit = NeighbourModel::unit(transform.apply(features[k]));
      for (std::size_t p = 0; p < kPlatformCount; ++p) {
        reference.curve[p] = speedupCurve(data.kernels[k], p);
        reference.near[p] = nearBest(data.kernels[k], p);
      }
      references.push_back(std::move(reference));
    }
    return std::unique_ptr<CurveModel>(
        std::make_unique<NeighbourModel>(candidate, std::move(transform), prior, std::move(references)));
  }
  if (candidate.method == CurveMethod::kRegression) {
    nlohmann::json keys = xgbKeys(candidate.params);
    keys["seed"] = seed;
    auto params = heads::XgbParams::fromJson(keys);
    if (!params) return params.error().withContext("regression candidate");
    bool usePrior = candidate.params.value("prior", true);
    heads::FeatureMatrix matrix;
    std::vector<float> targets;
    for (std::size_t k : kernels) {
      std::vector<float> transformed = transform.applyFloat(features[k]);
      for (std::size_t p = 0; p < kPlatformCount; ++p) {
        for (std::size_t f = 0; f < kFactorCount; ++f) {
          if (!data.kernels[k].measured(p, f)) continue;
          std::vector<float> x = RegressionModel::row(transformed, p, f, prior, usePrior);
          matrix.cols = x.size();
          matrix.values.insert(matrix.values.end(), x.begin(), x.end());
          ++matrix.rows;
          targets.push_back(static_cast<float>(std::log(data.kernels[k].speedup(p, kFactors[f]))));
        }
      }
    }
    auto regressor = std::make_unique<heads::XgbRegressor>(*params);
    if (auto fitted = regressor->fit(matrix, targets); !fitted) return fitted.error();
    return std::unique_ptr<CurveModel>(
        std::make_unique<RegressionModel>(candidate, std::move(transform), prior, std::move(regressor)));
  }
  // kHead: a per-factor near-best classifier over the transformed features.
  std::vector<std::vector<float>> transformed(features.size());
  for (std::size_t k : kernels) transformed[k] = transform.applyFloat(features[k]);
  HeadRows rows = headRows(data, transformed, kernels, allPlatforms(), HeadForm::kFactor);
  heads::Candidate head{candidate.params.value("kind", "xgboost"),
                        candidate.params.value("params", nlohmann::json::object())};
  if (head.kind == "xgboost") head.params["seed"] = seed;
  auto classifier = heads::makeClassifier(head);
  if (!classifier) return classifier.error();
  if (auto fitted = (*classifier)->fit(rows.dataset); !fitted) return fitted.error();
  return std::unique_ptr<CurveModel>(
      std::make_unique<HeadModel>(candidate, std::move(transform), std::move(*classifier)));
}

Expected<std::unique_ptr<CurveModel>> loadCurveModel(const fs::path& directory, CurveMethod method,
                                                     std::size_t featureCount) {
  std::string where = (directory / kCurvesFile).string();
  auto json = readJsonObject(directory / kCurvesFile);
  if (!json) return json.error();
  CurveCandidate candidate{method, json->value("params", nlohmann::json::object())};
  switch (method) {
    case CurveMethod::kPrior: {
      auto prior = PriorTable::fromJson(json->value("prior", nlohmann::json::object()), where);
      if (!prior) return prior.error();
      return std::unique_ptr<CurveModel>(std::make_unique<PriorModel>(candidate, *prior));
    }
    case CurveMethod::kNeighbours:
      return NeighbourModel::load(candidate, *json, featureCount, where);
    case CurveMethod::kRegression:
      return RegressionModel::load(candidate, directory, *json, featureCount, where);
    case CurveMethod::kHead:
      return HeadModel::load(candidate, directory, *json, featureCount, where);
  }
  return makeError(ErrorCode::kInternal, "unknown curve method");
}

Expected<TrainedCurve> selectCurveModel(const std::vector<CurveCandidate>& candidates,
                                        const CoarsenData& data,
                                        const std::vector<std::vector<float>>& features,
                                        const std::vector<std::size_t>& group,
                                        const std::vector<std::size_t>& kernels, int folds, unsigned seed) {
  if (candidates.empty()) return makeError(ErrorCode::kUsage, "no curve candidates to choose from");
  TrainedCurve trained;
  std::size_t best = candidates.size();
  {  // also with one candidate: its inner score is what the manifest and the fold report show
    std::vector<std::size_t> kernelGroups;
    for (std::size_t k : kernels) kernelGroups.push_back(group[k]);
    auto split = heads::groupedKFold(kernelGroups, folds, seed);
    if (!split) return split.error().withContext("inner cross-validation over the training kernels");
    for (const CurveCandidate& candidate : candidates) {
      double sum = 0;
      std::size_t count = 0;
      bool failed = false;
      for (const std::vector<std::size_t>& held : *split) {
        std::vector<std::size_t> innerTrain, innerHeld;
        for (std::size_t i = 0; i < kernels.size(); ++i) {
          (std::binary_search(held.begin(), held.end(), i) ? innerHeld : innerTrain).push_back(kernels[i]);
        }
        auto model = fitCurveModel(candidate, data, features, innerTrain, seed);
        if (!model) {
          failed = true;
          break;
        }
        for (std::size_t k : innerHeld) {
          for (std::size_t p = 0; p < kPlatformCount; ++p) {
            auto choice = (*model)->choose(features[k], p);
            if (!choice) {
              failed = true;
              break;
            }
            sum += data.kernels[k].speedup(p, choice->factor);
            ++count;
          }
        }
      }
      double score =
          failed || count == 0 ? -std::numeric_limits<double>::infinity() : sum / static_cast<double>(count);
      trained.candidateSpeedups.push_back(score);
      if (std::isfinite(score) && (best == candidates.size() || score > trained.candidateSpeedups[best])) {
        best = trained.candidateSpeedups.size() - 1;
      }
    }
    if (best == candidates.size()) return makeError(ErrorCode::kInternal, "every curve candidate failed");
    trained.innerSpeedup = trained.candidateSpeedups[best];
  }
  auto model = fitCurveModel(candidates[best], data, features, kernels, seed);
  if (!model)
    return model.error().withContext(fmt::format("refitting {}", candidates[best].asCandidate().kind));
  trained.model = std::move(*model);
  trained.candidate = candidates[best];
  return trained;
}

Expected<EvalResult> crossValidateCurves(const std::vector<CurveCandidate>& candidates,
                                         const CoarsenData& data,
                                         const std::vector<std::vector<float>>& features,
                                         const std::vector<std::size_t>& group,
                                         const std::vector<std::size_t>& platforms, int folds, unsigned seed,
                                         unsigned threads, ProgressLine* progress) {
  const std::size_t n = data.kernels.size();
  EvalResult result;
  result.platforms = platforms;
  result.predicted.assign(platforms.size(), std::vector<int>(n, 1));
  result.probability.assign(platforms.size(), std::vector<double>(n, 0.0));
  std::vector<std::optional<FoldChoice>> choices(n);
  std::vector<std::optional<Error>> errors(n);
  std::mutex progressLock;
  parallelFor(n, std::max(1u, threads), [&](std::size_t k) {
    std::vector<std::size_t> held, train;
    for (std::size_t other = 0; other < n; ++other)
      (group[other] == group[k] ? held : train).push_back(other);
    auto trained = selectCurveModel(candidates, data, features, group, train, folds, seed);
    if (!trained) {
      errors[k] = trained.error().withContext(fmt::format("held-out kernel {}", data.kernels[k].name));
      return;
    }
    for (std::size_t i = 0; i < platforms.size(); ++i) {
      auto choice = trained->model->choose(features[k], platforms[i]);
      if (!choice) {
        errors[k] = choice.error();
        return;
      }
      result.predicted[i][k] = choice->factor;
      result.probability[i][k] = choice->probability;
    }
    choices[k] = FoldChoice{k, held, kPooledHead, trained->candidate.asCandidate(), trained->innerSpeedup};
    if (progress != nullptr) {
      std::lock_guard<std::mutex> guard(progressLock);
      progress->advance();
    }
  });
  for (std::size_t k = 0; k < n; ++k) {
    if (errors[k]) return *errors[k];
    result.folds.push_back(std::move(*choices[k]));
  }
  std::vector<std::size_t> kernels(n);
  std::iota(kernels.begin(), kernels.end(), 0);
  double oracleSum = 0;
  for (std::size_t i = 0; i < platforms.size(); ++i) {
    result.scores.push_back(scoreFactors(data, platforms[i], kernels, result.predicted[i]));
    oracleSum += result.scores.back().oracleSpeedup;
  }
  result.meanSpeedup = meanOverPlatforms(result.scores);
  result.oracleMeanSpeedup = platforms.empty() ? 0 : oracleSum / static_cast<double>(platforms.size());
  return result;
}

}  // namespace mirtune::coarsen
