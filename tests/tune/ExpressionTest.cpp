// Tests of the T1 expression subset: precedence, Python semantics, list expressions, names, and every error
// kind with the content of its message.
#include "tuner/Expression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mirtune {
namespace {

ExpressionValue integer(std::int64_t v) {
  return ExpressionValue{v};
}
ExpressionValue real(double v) {
  return ExpressionValue{v};
}

/// The value of `text` in `scope`; fails the test (and returns an empty list) on an error.
ExpressionValue eval(const std::string& text, const ExpressionScope& scope = {}) {
  auto expression = Expression::parse(text);
  EXPECT_TRUE(expression.ok()) << expression.error().message();
  if (!expression) return ExpressionValue{std::vector<ExpressionValue>{}};
  auto value = expression->evaluate(scope);
  EXPECT_TRUE(value.ok()) << value.error().message();
  if (!value) return ExpressionValue{std::vector<ExpressionValue>{}};
  return *value;
}

std::string repr(const std::string& text, const ExpressionScope& scope = {}) {
  return eval(text, scope).repr();
}

/// The message of the parse error of `text` (empty, and a failed test, when it parses).
std::string parseError(const std::string& text) {
  auto expression = Expression::parse(text);
  EXPECT_FALSE(expression.ok()) << text << " parsed";
  if (expression) return "";
  EXPECT_EQ(expression.error().code(), ErrorCode::kInvalidInput);
  return expression.error().message();
}

/// The message of the evaluation error of `text` (it must parse).
std::string evaluationError(const std::string& text, const ExpressionScope& scope = {}) {
  auto expression = Expression::parse(text);
  EXPECT_TRUE(expression.ok()) << expression.error().message();
  if (!expression) return "";
  auto value = expression->evaluate(scope);
  EXPECT_FALSE(value.ok()) << text << " gave " << value->repr();
  if (value) return "";
  EXPECT_EQ(value.error().code(), ErrorCode::kInvalidInput);
  return value.error().message();
}

TEST(Expression, LiteralsAndRepr) {
  EXPECT_EQ(repr("42"), "42");
  EXPECT_EQ(repr("0x1F"), "31");
  EXPECT_EQ(repr("0o17"), "15");
  EXPECT_EQ(repr("0b101"), "5");
  EXPECT_EQ(repr("1_000"), "1000");
  EXPECT_EQ(repr("1e-3"), "0.001");
  EXPECT_EQ(repr("2.5"), "2.5");
  EXPECT_EQ(repr("1.0"), "1.0");
  EXPECT_EQ(repr(".5"), "0.5");
  EXPECT_EQ(repr("3E2"), "300.0");
  EXPECT_EQ(repr("True"), "True");
  EXPECT_EQ(repr("False"), "False");
  EXPECT_EQ(repr("'abc'"), "'abc'");
  EXPECT_EQ(repr("\"it's\""), "\"it's\"");
  EXPECT_EQ(repr("[1, 2.0, 'x', [True]]"), "[1, 2.0, 'x', [True]]");
  EXPECT_EQ(repr("[]"), "[]");
  EXPECT_EQ(repr("[1, 2,]"), "[1, 2]");
}

TEST(Expression, PrecedenceAndAssociativity) {
  EXPECT_EQ(repr("1 + 2 * 3"), "7");
  EXPECT_EQ(repr("(1 + 2) * 3"), "9");
  EXPECT_EQ(repr("10 - 4 - 3"), "3");
  EXPECT_EQ(repr("100 // 10 // 3"), "3");
  EXPECT_EQ(repr("2 ** 3 ** 2"), "512");  // right-associative
  EXPECT_EQ(repr("-2 ** 2"), "-4");       // ** binds tighter than a unary minus on its left
  EXPECT_EQ(repr("2 ** -1"), "0.5");      // ... and takes a unary minus on its right
  EXPECT_EQ(repr("(-2) ** 2"), "4");
  EXPECT_EQ(repr("- - 3"), "3");
  EXPECT_EQ(repr("+True"), "1");
  EXPECT_EQ(repr("2 * 3 % 4"), "2");
  EXPECT_EQ(repr("1 + 2 < 4"), "True");
  EXPECT_EQ(repr("not 1 == 2"), "True");  // not binds looser than comparisons
  EXPECT_EQ(repr("True or False and False"), "True");
  EXPECT_EQ(repr("1 if 0 else 2 if 0 else 3"), "3");
  EXPECT_EQ(repr("1 + 1 if 2 > 1 else 0"), "2");
}

TEST(Expression, PythonDivisionAndModulo) {
  EXPECT_EQ(repr("7 // 2"), "3");
  EXPECT_EQ(repr("-7 // 2"), "-4");
  EXPECT_EQ(repr("7 // -2"), "-4");
  EXPECT_EQ(repr("-7 // -2"), "3");
  EXPECT_EQ(repr("7 % 3"), "1");
  EXPECT_EQ(repr("-7 % 3"), "2");
  EXPECT_EQ(repr("7 % -3"), "-2");
  EXPECT_EQ(repr("-7 % -3"), "-1");
  EXPECT_EQ(repr("7.5 // 2"), "3.0");
  EXPECT_EQ(repr("-7.5 // 2"), "-4.0");
  EXPECT_EQ(repr("-7.5 % 2"), "0.5");
  EXPECT_EQ(repr("7.5 % -2"), "-0.5");
  EXPECT_EQ(repr("4 / 2"), "2.0");  // int / int is a float
  EXPECT_EQ(repr("1 / 4"), "0.25");
  EXPECT_EQ(repr("2 ** 10"), "1024");
  EXPECT_EQ(repr("2.0 ** 3"), "8.0");
  EXPECT_EQ(repr("True + True"), "2");
  EXPECT_EQ(repr("-9223372036854775807 - 1"), "-9223372036854775808");
}

TEST(Expression, ComparisonsChainLikePython) {
  EXPECT_EQ(repr("1 < 2 < 3"), "True");
  EXPECT_EQ(repr("1 < 3 < 2"), "False");
  EXPECT_EQ(repr("3 > 2 == 2"), "True");
  EXPECT_EQ(repr("1 < 2 > 1"), "True");  // not (1 < 2) > 1
  EXPECT_EQ(repr("1 == 1.0"), "True");
  EXPECT_EQ(repr("True == 1"), "True");
  EXPECT_EQ(repr("'a' < 'b'"), "True");
  EXPECT_EQ(repr("'a' == 1"), "False");
  EXPECT_EQ(repr("[1, 2] == [1, 2]"), "True");
  EXPECT_EQ(repr("[1, 2] < [1, 3]"), "True");
  EXPECT_EQ(repr("2 in [1, 2, 3]"), "True");
  EXPECT_EQ(repr("4 not in [1, 2, 3]"), "True");
  EXPECT_EQ(repr("'b' in 'abc'"), "True");
  EXPECT_EQ(repr("2.0 in [1, 2]"), "True");
  // Chained: the middle operand is evaluated once, and the chain stops at the first false link.
  EXPECT_EQ(repr("0 < 1 < 0 < 1 // 0"), "False");
}

TEST(Expression, AndOrReturnOperandsAndShortCircuit) {
  EXPECT_EQ(repr("0 or 5"), "5");
  EXPECT_EQ(repr("3 or 5"), "3");
  EXPECT_EQ(repr("0 and 5"), "0");
  EXPECT_EQ(repr("3 and 5"), "5");
  EXPECT_EQ(repr("[] or 'x'"), "'x'");
  EXPECT_EQ(repr("'' and 1"), "''");
  EXPECT_EQ(repr("1 or 1 // 0"), "1");  // the right side is never evaluated
  EXPECT_EQ(repr("0 and 1 // 0"), "0");
  EXPECT_EQ(repr("1 if True else 1 // 0"), "1");
  EXPECT_EQ(repr("not []"), "True");
  EXPECT_EQ(repr("not 0.0"), "True");
}

TEST(Expression, NamesIndexingAndCalls) {
  const ExpressionScope scope = {
      {"ProblemSize", ExpressionValue{std::vector<ExpressionValue>{integer(4096), integer(2048)}}},
      {"block_size_x", integer(32)},
      {"tile", integer(3)},
      {"ratio", real(0.5)},
  };
  EXPECT_EQ(repr("ProblemSize[0]", scope), "4096");
  EXPECT_EQ(repr("ProblemSize[-1]", scope), "2048");
  EXPECT_EQ(repr("(262144 // block_size_x) // tile", scope), "2730");
  EXPECT_EQ(repr("min(4, 2, 8)"), "2");
  EXPECT_EQ(repr("max([3, 9, 1])"), "9");
  EXPECT_EQ(repr("max(1, 2.5)"), "2.5");
  EXPECT_EQ(repr("min('b', 'a')"), "'a'");
  EXPECT_EQ(repr("abs(-3)"), "3");
  EXPECT_EQ(repr("abs(-2.5)"), "2.5");
  EXPECT_EQ(repr("int(3.9)"), "3");
  EXPECT_EQ(repr("int(-3.9)"), "-3");
  EXPECT_EQ(repr("int('12')"), "12");
  EXPECT_EQ(repr("float(2)"), "2.0");
  EXPECT_EQ(repr("round(2.5)"), "2");  // half to even
  EXPECT_EQ(repr("round(3.5)"), "4");
  EXPECT_EQ(repr("round(2.675, 1)"), "2.7");
  EXPECT_EQ(repr("len([1, 2, 3])"), "3");
  EXPECT_EQ(repr("len('abcd')"), "4");
  EXPECT_EQ(repr("range(4)"), "[0, 1, 2, 3]");
  EXPECT_EQ(repr("range(2, 5)"), "[2, 3, 4]");
  EXPECT_EQ(repr("range(10, 0, -3)"), "[10, 7, 4, 1]");
  EXPECT_EQ(repr("range(5, 2)"), "[]");
  EXPECT_EQ(repr("range(9223372036854775806, 9223372036854775807, 5)"), "[9223372036854775806]");
  EXPECT_EQ(repr("range(9223372036854775807, -9223372036854775807 - 1, -4611686018427387904)"),
            "[9223372036854775807, 4611686018427387903, -1, -4611686018427387905]");
  EXPECT_NE(evaluationError("range(-9223372036854775807, 9223372036854775807)").find("range() of more than"),
            std::string::npos);
  EXPECT_EQ(repr("round(2.5, 400)"), "2.5");
  EXPECT_EQ(repr("ratio * 4", scope), "2.0");
  EXPECT_EQ(repr("[1, 2] + [3]"), "[1, 2, 3]");
  EXPECT_EQ(repr("[0] * 3"), "[0, 0, 0]");
  EXPECT_EQ(repr("'ab' + 'c'"), "'abc'");
}

TEST(Expression, ListExpressionsOfTheExampleFile) {
  EXPECT_EQ(repr("[2**i for i in range(6)]"), "[1, 2, 4, 8, 16, 32]");
  EXPECT_EQ(repr("[16*i for i in range(1,9)]"), "[16, 32, 48, 64, 80, 96, 112, 128]");
  EXPECT_EQ(repr("[i for i in range(3,35,2)]"),
            "[3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33]");
  EXPECT_EQ(repr("[i for i in range(10) if i % 3 == 0]"), "[0, 3, 6, 9]");
  EXPECT_EQ(repr("[[j for j in range(i)] for i in range(3)]"), "[[], [0], [0, 1]]");
  // The comprehension variable shadows a name of the scope only inside the comprehension.
  const ExpressionScope scope = {{"i", integer(100)}};
  EXPECT_EQ(repr("[i for i in range(2)] + [i]", scope), "[0, 1, 100]");
}

TEST(Expression, NamesAreTheFreeNames) {
  auto expression = Expression::parse("[x * k for x in range(n) if x < max(limit, 3)] + [i for i in values]");
  ASSERT_TRUE(expression.ok()) << expression.error().message();
  EXPECT_EQ(expression->names(), (std::vector<std::string>{"k", "limit", "n", "values"}));
  auto condition = Expression::parse("use_padding==0 or (block_size_x % 32 != 0)");
  ASSERT_TRUE(condition.ok());
  EXPECT_EQ(condition->names(), (std::vector<std::string>{"block_size_x", "use_padding"}));
  // A name used as the iterable is free even when it is also the loop variable.
  auto shadow = Expression::parse("[x for x in x]");
  ASSERT_TRUE(shadow.ok());
  EXPECT_EQ(shadow->names(), std::vector<std::string>{"x"});
  EXPECT_TRUE(Expression::parse("len(range(3))")->names().empty());
}

TEST(Expression, ConstantAndEmpty) {
  const Expression constant = Expression::constant(integer(7));
  EXPECT_EQ(constant.text(), "7");
  EXPECT_EQ(constant.evaluate({})->repr(), "7");
  EXPECT_TRUE(constant.names().empty());
  const Expression empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.evaluate({}).ok());
}

TEST(Expression, ValueHelpers) {
  EXPECT_TRUE(integer(1).isNumber());
  EXPECT_TRUE(ExpressionValue{true}.isNumber());
  EXPECT_FALSE(ExpressionValue{std::string("a")}.isNumber());
  EXPECT_DOUBLE_EQ(*ExpressionValue{true}.toDouble(), 1.0);
  EXPECT_DOUBLE_EQ(*real(2.5).toDouble(), 2.5);
  auto notNumber = ExpressionValue{std::string("a")}.toDouble();
  ASSERT_FALSE(notNumber.ok());
  EXPECT_NE(notNumber.error().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(ExpressionValue{std::vector<ExpressionValue>{}}.truthy());
  EXPECT_TRUE(ExpressionValue{std::string("x")}.truthy());
}

TEST(Expression, UnsupportedConstructsNameTheConstructAndColumn) {
  std::string message = parseError("a.b");
  EXPECT_NE(message.find("attribute access"), std::string::npos) << message;
  EXPECT_NE(message.find("column 2"), std::string::npos) << message;
  EXPECT_NE(message.find("\"a.b\""), std::string::npos) << message;

  message = parseError("lambda x: x");
  EXPECT_NE(message.find("lambda"), std::string::npos) << message;
  EXPECT_NE(message.find("column 1"), std::string::npos) << message;

  message = parseError("x = 3");
  EXPECT_NE(message.find("assignment"), std::string::npos) << message;
  EXPECT_NE(message.find("column 3"), std::string::npos) << message;

  message = parseError("foo(1)");
  EXPECT_NE(message.find("unknown function 'foo'"), std::string::npos) << message;
  EXPECT_NE(message.find("column 1"), std::string::npos) << message;

  message = parseError("[i*j for i in range(2) for j in range(2)]");
  EXPECT_NE(message.find("several for clauses"), std::string::npos) << message;
  EXPECT_NE(message.find("column 24"), std::string::npos) << message;

  message = parseError("a[1:2]");
  EXPECT_NE(message.find("slices"), std::string::npos) << message;
  EXPECT_NE(message.find("column 4"), std::string::npos) << message;

  message = parseError("a | b");
  EXPECT_NE(message.find("bitwise"), std::string::npos) << message;
  message = parseError("a is None");
  EXPECT_NE(message.find("'is'"), std::string::npos) << message;
  message = parseError("{1: 2}");
  EXPECT_NE(message.find("dicts"), std::string::npos) << message;
  message = parseError("(1, 2)");
  EXPECT_NE(message.find("tuples"), std::string::npos) << message;
  message = parseError("round(x, ndigits=1)");
  EXPECT_NE(message.find("keyword arguments"), std::string::npos) << message;
  message = parseError("min(i for i in x)");
  EXPECT_NE(message.find("generator expressions"), std::string::npos) << message;
  message = parseError("(lambda: 1)()");
  EXPECT_NE(message.find("lambda"), std::string::npos) << message;
  message = parseError("[a for a, b in x]");
  EXPECT_NE(message.find("tuple unpacking"), std::string::npos) << message;
  message = parseError("abs(1, 2)");
  EXPECT_NE(message.find("abs() takes 1 argument, given 2"), std::string::npos) << message;
}

TEST(Expression, MalformedInputNamesTheColumn) {
  std::string message = parseError("1 +");
  EXPECT_NE(message.find("ends too early"), std::string::npos) << message;
  EXPECT_NE(message.find("column 4"), std::string::npos) << message;
  message = parseError("(1 + 2");
  EXPECT_NE(message.find("expected ')'"), std::string::npos) << message;
  message = parseError("1 2");
  EXPECT_NE(message.find("unexpected '2'"), std::string::npos) << message;
  EXPECT_NE(message.find("column 3"), std::string::npos) << message;
  message = parseError("'open");
  EXPECT_NE(message.find("unterminated string"), std::string::npos) << message;
  message = parseError("3 $ 4");
  EXPECT_NE(message.find("unexpected character '$'"), std::string::npos) << message;
  EXPECT_NE(message.find("column 3"), std::string::npos) << message;
  message = parseError("99999999999999999999");
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
  message = parseError("1 if 2");
  EXPECT_NE(message.find("'else'"), std::string::npos) << message;
  message = parseError("");
  EXPECT_NE(message.find("ends too early"), std::string::npos) << message;
}

TEST(Expression, DeepNestingIsRefusedNotACrash) {
  EXPECT_EQ(repr(std::string(150, '(') + "1" + std::string(150, ')')), "1");
  std::string message = parseError(std::string(100000, '(') + "1" + std::string(100000, ')'));
  EXPECT_NE(message.find("nested too deeply"), std::string::npos) << message.substr(0, 200);
  message = parseError(std::string(100000, '-') + "1");
  EXPECT_NE(message.find("nested too deeply"), std::string::npos) << message.substr(0, 200);
  message = parseError(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_NE(message.find("nested too deeply"), std::string::npos) << message.substr(0, 200);
  std::string sum = "1";
  for (int i = 0; i < 500; ++i) sum += "+1";
  EXPECT_EQ(repr(sum), "501");
  for (int i = 0; i < 100000; ++i) sum += "+1";
  message = parseError(sum);
  EXPECT_NE(message.find("nested too deeply"), std::string::npos) << message.substr(0, 200);
}

TEST(Expression, EvaluationErrorsNameTheExpression) {
  std::string message = evaluationError("a + 1");
  EXPECT_NE(message.find("unknown name 'a'"), std::string::npos) << message;
  EXPECT_NE(message.find("\"a + 1\""), std::string::npos) << message;

  for (const char* text : {"1 / 0", "1 // 0", "1 % 0", "1.0 / 0", "1.5 // 0.0", "0 ** -1"}) {
    message = evaluationError(text);
    EXPECT_NE(message.find("by zero"), std::string::npos) << text << ": " << message;
    EXPECT_NE(message.find(text), std::string::npos) << message;
  }
  message = evaluationError("'a' + 1");
  EXPECT_NE(message.find("unsupported operand types for +: str and int"), std::string::npos) << message;
  message = evaluationError("'a' < 1");
  EXPECT_NE(message.find("'<' is not supported between str and int"), std::string::npos) << message;
  message = evaluationError("-'a'");
  EXPECT_NE(message.find("unary -"), std::string::npos) << message;
  message = evaluationError("[1, 2][2]");
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
  message = evaluationError("3[0]");
  EXPECT_NE(message.find("cannot be indexed"), std::string::npos) << message;
  message = evaluationError("[1][0.5]");
  EXPECT_NE(message.find("indices must be integers"), std::string::npos) << message;
  message = evaluationError("1 in 3");
  EXPECT_NE(message.find("needs a list or a string"), std::string::npos) << message;
  message = evaluationError("min([])");
  EXPECT_NE(message.find("empty list"), std::string::npos) << message;
  message = evaluationError("range(1, 5, 0)");
  EXPECT_NE(message.find("step must not be zero"), std::string::npos) << message;
  message = evaluationError("range(1.5)");
  EXPECT_NE(message.find("range() needs integers"), std::string::npos) << message;
  message = evaluationError("[i for i in 5]");
  EXPECT_NE(message.find("cannot iterate over int"), std::string::npos) << message;
  message = evaluationError("int('x')");
  EXPECT_NE(message.find("cannot read 'x'"), std::string::npos) << message;
  message = evaluationError("(-2) ** 0.5");
  EXPECT_NE(message.find("complex"), std::string::npos) << message;
}

TEST(Expression, IntegerOverflowIsAnError) {
  for (const char* text :
       {"2 ** 63", "9223372036854775807 + 1", "-9223372036854775807 - 2", "3037000500 * 3037000500",
        "abs(-9223372036854775807 - 1)", "(-9223372036854775807 - 1) // -1", "int(1e19)"}) {
    const std::string message = evaluationError(text);
    EXPECT_NE(message.find("overflow"), std::string::npos) << text << ": " << message;
  }
  EXPECT_EQ(repr("2 ** 62"), "4611686018427387904");
  EXPECT_EQ(repr("(-9223372036854775807 - 1) % -1"), "0");
}

}  // namespace
}  // namespace mirtune
