// The expression subset of tuning-problem files (T1): Python-style arithmetic, comparisons and boolean logic over
// parameters, list expressions for value lists ([2**i for i in range(6)], range(1, 9)), parsed once into a tree and
// evaluated per configuration. The supported subset is documented in docs/tuning-files.md.
#pragma once

#include "support/Error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace mirtune {

/// A value: an integer, a float, a boolean, a string, or a list of values (Python semantics: True == 1, // floors,
/// % takes the divisor's sign, int / int is a float).
struct ExpressionValue {
  std::variant<std::int64_t, double, bool, std::string, std::vector<ExpressionValue>> value;

  bool isNumber() const;  ///< int, float or bool
  /// The number as a double; kInvalidInput for strings and lists.
  Expected<double> toDouble() const;
  /// Python truthiness.
  bool truthy() const;
  /// Python repr ("3", "2.5", "True", "'a'", "[1, 2]").
  std::string repr() const;
};

/// Names an expression may read: parameter values, ProblemSize (a list), and whatever else the caller provides.
using ExpressionScope = std::map<std::string, ExpressionValue>;

struct ExpressionNode;

/// A parsed expression. Copyable (the tree is shared and immutable).
class Expression {
 public:
  Expression() = default;
  /// Parses `text`; kInvalidInput saying what is unsupported or malformed and at which column.
  static Expected<Expression> parse(const std::string& text);
  /// A constant expression (for numbers written as JSON numbers rather than strings).
  static Expression constant(ExpressionValue value);

  /// Evaluates with `scope`; kInvalidInput for an unknown name, a type error, division by zero.
  Expected<ExpressionValue> evaluate(const ExpressionScope& scope) const;
  /// The free names the expression reads (comprehension variables excluded), sorted.
  std::vector<std::string> names() const;
  const std::string& text() const { return text_; }
  bool empty() const { return !root_; }

 private:
  std::shared_ptr<const ExpressionNode> root_;
  std::string text_;
};

}  // namespace mirtune
