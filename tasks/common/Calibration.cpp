// Calibration error, Platt scaling (Newton's method), isotonic regression (pool adjacent violators) and the
// grouped cross-validated choice among them.
#include "tasks/common/Calibration.h"

#include "tasks/common/ModelSelection.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mirtune::heads {

namespace {

constexpr double kProbabilityFloor = 1e-6;

double clampProbability(double p) {
  return std::clamp(p, kProbabilityFloor, 1 - kProbabilityFloor);
}
double logit(double p) {
  p = clampProbability(p);
  return std::log(p / (1 - p));
}
double sigmoid(double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}

}  // namespace

double expectedCalibrationError(const std::vector<double>& probabilities, const std::vector<int>& labels,
                                int bins) {
  if (probabilities.empty() || bins < 1) return 0;
  std::vector<double> sumProbability(bins, 0), sumLabel(bins, 0);
  std::vector<std::size_t> count(bins, 0);
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    int bin = std::clamp(static_cast<int>(std::floor(probabilities[i] * bins)), 0, bins - 1);
    sumProbability[bin] += probabilities[i];
    sumLabel[bin] += labels[i] != 0 ? 1 : 0;
    ++count[bin];
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    double n = static_cast<double>(count[b]);
    ece += n / static_cast<double>(probabilities.size()) * std::fabs(sumProbability[b] / n - sumLabel[b] / n);
  }
  return ece;
}

double brierScore(const std::vector<double>& probabilities, const std::vector<int>& labels) {
  if (probabilities.empty()) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    double d = probabilities[i] - (labels[i] != 0 ? 1 : 0);
    sum += d * d;
  }
  return sum / static_cast<double>(probabilities.size());
}

std::string_view calibrationKindName(CalibrationKind kind) {
  switch (kind) {
    case CalibrationKind::kPlatt:
      return "platt";
    case CalibrationKind::kIsotonic:
      return "isotonic";
    case CalibrationKind::kNone:
      break;
  }
  return "none";
}

Calibrator Calibrator::platt(double slope, double intercept) {
  Calibrator calibrator;
  calibrator.kind_ = CalibrationKind::kPlatt;
  calibrator.slope_ = slope;
  calibrator.intercept_ = intercept;
  return calibrator;
}

Expected<Calibrator> Calibrator::isotonic(std::vector<double> knotsX, std::vector<double> knotsY) {
  if (knotsX.empty() || knotsX.size() != knotsY.size()) {
    return makeError(ErrorCode::kInvalidInput,
                     "isotonic calibration needs equally many x and y knots (got {} and {})", knotsX.size(),
                     knotsY.size());
  }
  for (std::size_t i = 0; i < knotsX.size(); ++i) {
    bool inRange = knotsX[i] >= 0 && knotsX[i] <= 1 && knotsY[i] >= 0 && knotsY[i] <= 1;
    bool ordered = i == 0 || (knotsX[i] > knotsX[i - 1] && knotsY[i] >= knotsY[i - 1]);
    if (!inRange || !ordered) {
      return makeError(
          ErrorCode::kInvalidInput,
          "isotonic calibration knot {} ({}, {}): knots must lie in [0, 1], x rising, y not falling", i,
          knotsX[i], knotsY[i]);
    }
  }
  Calibrator calibrator;
  calibrator.kind_ = CalibrationKind::kIsotonic;
  calibrator.knotsX_ = std::move(knotsX);
  calibrator.knotsY_ = std::move(knotsY);
  return calibrator;
}

double Calibrator::apply(double probability) const {
  switch (kind_) {
    case CalibrationKind::kNone:
      return probability;
    case CalibrationKind::kPlatt:
      return sigmoid(slope_ * logit(probability) + intercept_);
    case CalibrationKind::kIsotonic:
      break;
  }
  if (probability <= knotsX_.front()) return knotsY_.front();
  if (probability >= knotsX_.back()) return knotsY_.back();
  auto upper = std::upper_bound(knotsX_.begin(), knotsX_.end(), probability);
  std::size_t hi = static_cast<std::size_t>(upper - knotsX_.begin()), lo = hi - 1;
  double t = (probability - knotsX_[lo]) / (knotsX_[hi] - knotsX_[lo]);
  return knotsY_[lo] + t * (knotsY_[hi] - knotsY_[lo]);
}

std::vector<double> Calibrator::apply(const std::vector<double>& probabilities) const {
  std::vector<double> calibrated;
  calibrated.reserve(probabilities.size());
  for (double p : probabilities) calibrated.push_back(apply(p));
  return calibrated;
}

nlohmann::json Calibrator::toJson() const {
  nlohmann::json json = {{"kind", calibrationKindName(kind_)}};
  if (kind_ == CalibrationKind::kPlatt) {
    json["slope"] = slope_;
    json["intercept"] = intercept_;
  } else if (kind_ == CalibrationKind::kIsotonic) {
    json["x"] = knotsX_;
    json["y"] = knotsY_;
  }
  return json;
}

Expected<Calibrator> Calibrator::fromJson(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("kind") || !json["kind"].is_string()) {
    return makeError(ErrorCode::kInvalidInput, "calibration: no \"kind\" string");
  }
  const std::string kind = json["kind"].get<std::string>();
  if (kind == "none") return Calibrator();
  if (kind == "platt") {
    for (const char* key : {"slope", "intercept"}) {
      if (!json.contains(key) || !json[key].is_number() || !std::isfinite(json[key].get<double>())) {
        return makeError(ErrorCode::kInvalidInput, "calibration: \"{}\" must be a finite number", key);
      }
    }
    return platt(json["slope"].get<double>(), json["intercept"].get<double>());
  }
  if (kind == "isotonic") {
    std::vector<double> x, y;
    for (auto [key, target] : {std::pair{"x", &x}, std::pair{"y", &y}}) {
      if (!json.contains(key) || !json[key].is_array()) {
        return makeError(ErrorCode::kInvalidInput, "calibration: \"{}\" must be a list of numbers", key);
      }
      for (const auto& value : json[key]) {
        if (!value.is_number()) {
          return makeError(ErrorCode::kInvalidInput, "calibration: \"{}\" must be a list of numbers", key);
        }
        target->push_back(value.get<double>());
      }
    }
    auto calibrator = isotonic(std::move(x), std::move(y));
    if (!calibrator) return calibrator.error().withContext("calibration");
    return calibrator;
  }
  return makeError(ErrorCode::kInvalidInput, "calibration: unknown kind \"{}\" (none, platt or isotonic)",
                   kind);
}

Calibrator fitPlatt(const std::vector<double>& probabilities, const std::vector<int>& labels) {
  double positives = 0;
  for (int label : labels) positives += label != 0 ? 1 : 0;
  const double negatives = static_cast<double>(labels.size()) - positives;
  const double high = (positives + 1) / (positives + 2), low = 1 / (negatives + 2);
  std::vector<double> z, target;
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    z.push_back(logit(probabilities[i]));
    target.push_back(labels[i] != 0 ? high : low);
  }
  auto loss = [&](double a, double b) {
    double sum = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      double p = clampProbability(sigmoid(a * z[i] + b));
      sum -= target[i] * std::log(p) + (1 - target[i]) * std::log(1 - p);
    }
    return sum;
  };
  double a = 1, b = 0, current = loss(a, b);
  for (int iteration = 0; iteration < 100; ++iteration) {
    double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
    for (std::size_t i = 0; i < z.size(); ++i) {
      double p = sigmoid(a * z[i] + b), w = p * (1 - p), d = p - target[i];
      ga += d * z[i];
      gb += d;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    double determinant = haa * hbb - hab * hab;
    if (!(std::fabs(determinant) > 1e-15)) break;
    double stepA = (hbb * ga - hab * gb) / determinant, stepB = (haa * gb - hab * ga) / determinant;
    // Halve the Newton step until the loss does not rise.
    double scale = 1, next = current;
    for (; scale > 1e-8; scale /= 2) {
      next = loss(a - scale * stepA, b - scale * stepB);
      if (next <= current) break;
    }
    if (scale <= 1e-8) break;
    a -= scale * stepA;
    b -= scale * stepB;
    bool converged = current - next < 1e-10 * (1 + std::fabs(current));
    current = next;
    if (converged) break;
  }
  return Calibrator::platt(a, b);
}

Calibrator fitIsotonic(const std::vector<double>& probabilities, const std::vector<int>& labels) {
  if (probabilities.empty()) return Calibrator();
  std::vector<std::size_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t l, std::size_t r) { return probabilities[l] < probabilities[r]; });
  struct Block {
    double sumX = 0, sumY = 0, count = 0;
    double mean() const { return sumY / count; }
  };
  std::vector<Block> blocks;
  for (std::size_t k = 0; k < order.size(); ++k) {
    double x = std::clamp(probabilities[order[k]], 0.0, 1.0), y = labels[order[k]] != 0 ? 1 : 0;
    // Equal probabilities are one block: the map must give them one value.
    if (!blocks.empty() && k > 0 && probabilities[order[k]] == probabilities[order[k - 1]]) {
      blocks.back().sumX += x;
      blocks.back().sumY += y;
      blocks.back().count += 1;
    } else {
      blocks.push_back({x, y, 1});
    }
    while (blocks.size() >= 2 && blocks[blocks.size() - 2].mean() > blocks.back().mean()) {
      Block last = blocks.back();
      blocks.pop_back();
      blocks.back().sumX += last.sumX;
      blocks.back().sumY += last.sumY;
      blocks.back().count += last.count;
    }
  }
  std::vector<double> x, y;
  for (const Block& block : blocks) {
    double meanX = block.sumX / block.count;
    if (!x.empty() && meanX <= x.back()) continue;  // numerically tied block centres: keep the first
    x.push_back(meanX);
    y.push_back(std::clamp(block.mean(), 0.0, 1.0));
  }
  for (std::size_t i = 1; i < y.size(); ++i) y[i] = std::max(y[i], y[i - 1]);
  auto calibrator = Calibrator::isotonic(std::move(x), std::move(y));
  return calibrator ? *calibrator : Calibrator();
}

Calibrator fitCalibrator(CalibrationKind kind, const std::vector<double>& probabilities,
                         const std::vector<int>& labels) {
  switch (kind) {
    case CalibrationKind::kPlatt:
      return fitPlatt(probabilities, labels);
    case CalibrationKind::kIsotonic:
      return fitIsotonic(probabilities, labels);
    case CalibrationKind::kNone:
      break;
  }
  return Calibrator();
}

nlohmann::json CalibrationChoice::toJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const Scored& scored : scores) {
    list.push_back(
        {{"kind", calibrationKindName(scored.kind)}, {"brier", scored.brier}, {"ece", scored.ece}});
  }
  return {{"chosen", calibrator.toJson()}, {"grouped_cv", list}};
}

Expected<CalibrationChoice> chooseCalibrator(const std::vector<double>& probabilities,
                                             const std::vector<int>& labels,
                                             const std::vector<std::size_t>& groups, int folds,
                                             unsigned seed) {
  if (probabilities.size() != labels.size() || probabilities.size() != groups.size()) {
    return makeError(ErrorCode::kInvalidInput, "calibration: {} probabilities, {} labels and {} groups",
                     probabilities.size(), labels.size(), groups.size());
  }
  auto split = groupedKFold(groups, folds, seed);
  if (!split) return split.error().withContext("calibration");
  CalibrationChoice choice;
  CalibrationKind best = CalibrationKind::kNone;
  double bestBrier = 0;
  for (CalibrationKind kind : {CalibrationKind::kNone, CalibrationKind::kPlatt, CalibrationKind::kIsotonic}) {
    std::vector<double> heldOut(probabilities.size(), 0);
    for (const std::vector<std::size_t>& fold : *split) {
      std::vector<bool> held(probabilities.size(), false);
      for (std::size_t r : fold) held[r] = true;
      std::vector<double> trainP;
      std::vector<int> trainY;
      for (std::size_t r = 0; r < probabilities.size(); ++r) {
        if (held[r]) continue;
        trainP.push_back(probabilities[r]);
        trainY.push_back(labels[r]);
      }
      Calibrator calibrator = fitCalibrator(kind, trainP, trainY);
      for (std::size_t r : fold) heldOut[r] = calibrator.apply(probabilities[r]);
    }
    CalibrationChoice::Scored scored{kind, brierScore(heldOut, labels),
                                     expectedCalibrationError(heldOut, labels)};
    choice.scores.push_back(scored);
    if (kind == CalibrationKind::kNone || scored.brier < bestBrier) {
      best = kind;
      bestBrier = scored.brier;
    }
  }
  choice.calibrator = fitCalibrator(best, probabilities, labels);
  return choice;
}

}  // namespace mirtune::heads
