// Probability calibration of a binary head: expected calibration error, Platt scaling and isotonic
// regression, and the choice among them (or none) by cross-validation over folds that keep a program's rows
// together.
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace mirtune::heads {

/// Expected calibration error over `bins` equal-width bins of [0, 1] (a probability of exactly 1 falls in the
/// last): the sum over bins of (rows in the bin / rows) * |mean probability - fraction of positive labels|. 0
/// for no rows.
double expectedCalibrationError(const std::vector<double>& probabilities, const std::vector<int>& labels,
                                int bins = 10);

/// Mean of (probability - label)^2: a proper score, lower is better.
double brierScore(const std::vector<double>& probabilities, const std::vector<int>& labels);

enum class CalibrationKind { kNone, kPlatt, kIsotonic };
std::string_view calibrationKindName(CalibrationKind kind);

/// A monotone non-decreasing map of a head's probability to a calibrated one.
class Calibrator {
 public:
  /// The identity (CalibrationKind::kNone).
  Calibrator() = default;
  /// sigmoid(slope * logit(p) + intercept), p clamped to [1e-6, 1 - 1e-6].
  static Calibrator platt(double slope, double intercept);
  /// Linear interpolation between knots (x ascending, y non-decreasing, both in [0, 1]), constant outside
  /// them. kInvalidInput when the knots are empty, of unequal length, unsorted or out of range.
  static Expected<Calibrator> isotonic(std::vector<double> knotsX, std::vector<double> knotsY);

  CalibrationKind kind() const { return kind_; }
  double apply(double probability) const;
  std::vector<double> apply(const std::vector<double>& probabilities) const;

  /// {"kind": "none" | "platt" | "isotonic", "slope", "intercept" | "x", "y"}.
  nlohmann::json toJson() const;
  /// Reads toJson()'s form; kInvalidInput naming the bad key (the caller adds the file).
  static Expected<Calibrator> fromJson(const nlohmann::json& json);

 private:
  CalibrationKind kind_ = CalibrationKind::kNone;
  double slope_ = 1, intercept_ = 0;
  std::vector<double> knotsX_, knotsY_;
};

/// Platt scaling fitted by Newton's method on logit(p), with Platt's smoothed targets (so that a perfectly
/// separated set does not drive the slope to infinity).
Calibrator fitPlatt(const std::vector<double>& probabilities, const std::vector<int>& labels);
/// Isotonic regression by pooling adjacent violators; equal probabilities form one block. Knots at each
/// block's mean probability.
Calibrator fitIsotonic(const std::vector<double>& probabilities, const std::vector<int>& labels);
Calibrator fitCalibrator(CalibrationKind kind, const std::vector<double>& probabilities,
                         const std::vector<int>& labels);

/// What chooseCalibrator found.
struct CalibrationChoice {
  Calibrator calibrator;  ///< the chosen kind refitted on every row
  struct Scored {
    CalibrationKind kind = CalibrationKind::kNone;
    double brier = 0;  ///< of the held-out rows' calibrated probabilities, pooled over folds
    double ece = 0;    ///< ditto, 10 bins
  };
  std::vector<Scored> scores;  ///< none, platt, isotonic
  nlohmann::json toJson() const;
};

/// Fits each kind on all but one fold of groupedKFold(groups, folds, seed) and applies it to that fold; the
/// kind with the lowest pooled Brier score wins (the earlier of none, platt, isotonic on ties) and is
/// refitted on all rows. kInvalidInput for mismatched lengths or fewer than 2 groups.
Expected<CalibrationChoice> chooseCalibrator(const std::vector<double>& probabilities,
                                             const std::vector<int>& labels,
                                             const std::vector<std::size_t>& groups, int folds,
                                             unsigned seed);

}  // namespace mirtune::heads
