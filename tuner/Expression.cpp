// The expression subset of T1 files: a tokenizer, a precedence-climbing parser into an immutable tree, and a
// tree evaluator with Python's semantics for the supported operators and built-in functions.
#include "tuner/Expression.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

namespace mirtune {

namespace {

using IntValue = std::int64_t;
using ListValue = std::vector<ExpressionValue>;

enum class NodeKind {
  kConstant,
  kName,
  kList,
  kNegate,
  kPlus,
  kNot,
  kBinary,
  kCompare,
  kAnd,
  kOr,
  kConditional,
  kIndex,
  kCall,
  kComprehension
};
enum class BinaryOp { kAdd, kSubtract, kMultiply, kDivide, kFloorDivide, kModulo, kPower };
enum class CompareOp { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual, kIn, kNotIn };
enum class Builtin { kMin, kMax, kAbs, kInt, kFloat, kRound, kLen, kRange };

struct BuiltinInfo {
  const char* name;
  Builtin builtin;
  std::size_t minArgs;
  std::size_t maxArgs;
};

constexpr BuiltinInfo kBuiltins[] = {
    {"min", Builtin::kMin, 1, 1000}, {"max", Builtin::kMax, 1, 1000},  {"abs", Builtin::kAbs, 1, 1},
    {"int", Builtin::kInt, 1, 1},    {"float", Builtin::kFloat, 1, 1}, {"round", Builtin::kRound, 1, 2},
    {"len", Builtin::kLen, 1, 1},    {"range", Builtin::kRange, 1, 3},
};

/// Deepest expression tree an expression may have (evaluation recurses over it; `1+1+...` is as deep as it is
/// long).
constexpr int kMaxTreeDepth = 1000;
/// Deepest nesting of parentheses, brackets and unary operators (each level costs the parser a dozen frames).
constexpr int kMaxNesting = 200;

/// Longest list range() may build, so a typo cannot exhaust memory.
constexpr IntValue kMaxRangeLength = 10'000'000;

const char* binaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSubtract:
      return "-";
    case BinaryOp::kMultiply:
      return "*";
    case BinaryOp::kDivide:
      return "/";
    case BinaryOp::kFloorDivide:
      return "//";
    case BinaryOp::kModulo:
      return "%";
    case BinaryOp::kPower:
      return "**";
  }
  return "?";
}

const char* compareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kLess:
      return "<";
    case CompareOp::kLessEqual:
      return "<=";
    case CompareOp::kGreater:
      return ">";
    case CompareOp::kGreaterEqual:
      return ">=";
    case CompareOp::kEqual:
      return "==";
    case CompareOp::kNotEqual:
      return "!=";
    case CompareOp::kIn:
      return "in";
    case CompareOp::kNotIn:
      return "not in";
  }
  return "?";
}

}  // namespace

struct ExpressionNode {
  NodeKind kind = NodeKind::kConstant;
  int column = 1;
  ExpressionValue constant;
  std::string name;  ///< kName: the name; kCall: the function; kComprehension: the loop variable
  BinaryOp binaryOp = BinaryOp::kAdd;
  Builtin builtin = Builtin::kMin;
  std::vector<CompareOp> compareOps;
  /// kBinary: left, right; kCompare: the operands; kConditional: value, condition, otherwise; kIndex: value,
  /// index; kComprehension: element, iterable, optional condition; others: operands or arguments.
  std::vector<std::shared_ptr<const ExpressionNode>> children;
  int depth = 1;  ///< of the subtree, bounded so that evaluation cannot exhaust the stack
};

namespace {

using NodePointer = std::shared_ptr<const ExpressionNode>;

// ---------------------------------------------------------------------------------------------------------------
// Values

const char* typeName(const ExpressionValue& value) {
  switch (value.value.index()) {
    case 0:
      return "int";
    case 1:
      return "float";
    case 2:
      return "bool";
    case 3:
      return "str";
    default:
      return "list";
  }
}

bool isInt(const ExpressionValue& v) {
  return v.value.index() == 0 || v.value.index() == 2;
}
bool isFloat(const ExpressionValue& v) {
  return v.value.index() == 1;
}
bool isString(const ExpressionValue& v) {
  return v.value.index() == 3;
}
bool isList(const ExpressionValue& v) {
  return v.value.index() == 4;
}

/// An int or bool as an integer (the caller checked isInt).
IntValue asInt(const ExpressionValue& v) {
  if (const auto* b = std::get_if<bool>(&v.value)) return *b ? 1 : 0;
  return std::get<IntValue>(v.value);
}

double asDouble(const ExpressionValue& v) {
  if (const auto* d = std::get_if<double>(&v.value)) return *d;
  return static_cast<double>(asInt(v));
}

ExpressionValue makeInt(IntValue v) {
  return ExpressionValue{v};
}
ExpressionValue makeFloat(double v) {
  return ExpressionValue{v};
}
ExpressionValue makeBool(bool v) {
  return ExpressionValue{v};
}

std::string floatRepr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

enum class TokenKind { kNumber, kString, kName, kOperator, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  ExpressionValue value;  ///< numbers and strings
  int column = 1;         ///< 1-based
};

/// A parse failure; caught in Expression::parse and turned into an Error.
struct ParseFailure {
  std::string what;
  int column;
};

/// An evaluation failure; caught in Expression::evaluate and turned into an Error.
struct EvaluationFailure {
  std::string what;
};

bool isNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

Token readNumber(const std::string& text, std::size_t& i) {
  const std::size_t start = i;
  Token token;
  token.kind = TokenKind::kNumber;
  token.column = static_cast<int>(start) + 1;
  auto digitsWithUnderscores = [&](auto isDigit) {
    std::string digits;
    while (i < text.size() &&
           (isDigit(text[i]) || (text[i] == '_' && i + 1 < text.size() && isDigit(text[i + 1])))) {
      if (text[i] != '_') digits += text[i];
      ++i;
    }
    return digits;
  };
  auto isDecimal = [](char c) { return c >= '0' && c <= '9'; };
  if (text[i] == '0' && i + 1 < text.size() && std::strchr("xXoObB", text[i + 1]) != nullptr) {
    const char prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i + 1])));
    const int base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : 2;
    i += 2;
    auto isBaseDigit = [base](char c) {
      if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      return c >= '0' && c < static_cast<char>('0' + base);
    };
    const std::string digits = digitsWithUnderscores(isBaseDigit);
    if (digits.empty() || (i < text.size() && isNameChar(text[i])))
      throw ParseFailure{"malformed number '" + text.substr(start, i + 1 - start) + "'", token.column};
    IntValue value = 0;
    for (char c : digits) {
      const int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
      if (__builtin_mul_overflow(value, static_cast<IntValue>(base), &value) ||
          __builtin_add_overflow(value, static_cast<IntValue>(digit), &value))
        throw ParseFailure{"integer literal too large (64-bit integers only)", token.column};
    }
    token.value = makeInt(value);
    token.text = text.substr(start, i - start);
    return token;
  }
  std::string number = digitsWithUnderscores(isDecimal);
  bool isFloatLiteral = false;
  if (i < text.size() && text[i] == '.') {
    isFloatLiteral = true;
    ++i;
    number += '.' + digitsWithUnderscores(isDecimal);
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    if (j < text.size() && isDecimal(text[j])) {
      isFloatLiteral = true;
      number += 'e';
      if (text[i + 1] == '-') number += '-';
      i = j;
      number += digitsWithUnderscores(isDecimal);
    }
  }
  if (i < text.size() && isNameChar(text[i]))
    throw ParseFailure{"malformed number '" + text.substr(start, i + 1 - start) + "'", token.column};
  token.text = text.substr(start, i - start);
  if (isFloatLiteral) {
    token.value = makeFloat(std::strtod(number.c_str(), nullptr));
    return token;
  }
  if (number.size() > 1 && number[0] == '0' && number.find_first_not_of('0') != std::string::npos)
    throw ParseFailure{"leading zeros in the integer '" + token.text + "' (write 0o for octal)",
                       token.column};
  IntValue value = 0;
  for (char c : number) {
    if (__builtin_mul_overflow(value, IntValue{10}, &value) ||
        __builtin_add_overflow(value, static_cast<IntValue>(c - '0'), &value))
      throw ParseFailure{"integer literal too large (64-bit integers only)", token.column};
  }
  token.value = makeInt(value);
  return token;
}

Token readString(const std::string& text, std::size_t& i) {
  Token token;
  token.kind = TokenKind::kString;
  token.column = static_cast<int>(i) + 1;
  const char quote = text[i++];
  std::string value;
  while (true) {
    if (i >= text.size()) throw ParseFailure{"unterminated string", token.column};
    char c = text[i++];
    if (c == quote) break;
    if (c == '\\' && i < text.size()) {
      const char escaped = text[i++];
      switch (escaped) {
        case 'n':
          c = '\n';
          break;
        case 't':
          c = '\t';
          break;
        case '\\':
        case '\'':
        case '"':
          c = escaped;
          break;
        default:
          value += '\\';
          c = escaped;
          break;
      }
    }
    value += c;
  }
  token.value = ExpressionValue{value};
  token.text = value;
  return token;
}

std::vector<Token> tokenize(const std::string& text) {
  static const char* const kOperators[] = {"**", "//", "<=", ">=", "==", "!=", ":=", "<<", ">>", "->", "+",
                                           "-",  "*",  "/",  "%",  "<",  ">",  "(",  ")",  "[",  "]",  ",",
                                           ".",  ":",  "=",  "|",  "&",  "^",  "~",  "@",  "{",  "}",  ";"};
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      tokens.push_back(readNumber(text, i));
      continue;
    }
    if (c == '\'' || c == '"') {
      tokens.push_back(readString(text, i));
      continue;
    }
    if (isNameStart(c)) {
      Token token;
      token.kind = TokenKind::kName;
      token.column = static_cast<int>(i) + 1;
      while (i < text.size() && isNameChar(text[i])) token.text += text[i++];
      tokens.push_back(std::move(token));
      continue;
    }
    bool matched = false;
    for (const char* op : kOperators) {
      const std::size_t length = std::strlen(op);
      if (text.compare(i, length, op) == 0) {
        Token token;
        token.kind = TokenKind::kOperator;
        token.text = op;
        token.column = static_cast<int>(i) + 1;
        tokens.push_back(std::move(token));
        i += length;
        matched = true;
        break;
      }
    }
    if (!matched) throw ParseFailure{fmt::format("unexpected character '{}'", c), static_cast<int>(i) + 1};
  }
  Token end;
  end.column = static_cast<int>(text.size()) + 1;
  tokens.push_back(end);
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------------
// Parser: Python's grammar for the supported subset, loosest binding first.

/// What an unsupported token is, for the message.
std::string unsupportedConstruct(const Token& token) {
  const std::string& t = token.text;
  if (token.kind == TokenKind::kName) {
    if (t == "lambda") return "lambda expressions are";
    if (t == "is") return "'is' comparisons are";
    if (t == "None") return "None is";
    return "the keyword '" + t + "' is";
  }
  if (t == ".") return "attribute access (.) is";
  if (t == "=" || t == ":=") return "assignment is";
  if (t == ":") return "slices and ':' are";
  if (t == "{" || t == "}") return "dicts and sets are";
  if (t == "|" || t == "&" || t == "^" || t == "~" || t == "<<" || t == ">>")
    return "bitwise operators (" + t + ") are";
  if (t == "@") return "matrix multiplication (@) is";
  if (t == ";") return "several statements are";
  if (t == ",") return "tuples are";
  return "'" + t + "' is";
}

const std::set<std::string>& reservedWords() {
  static const std::set<std::string> words = {
      "and",   "or",       "not",    "in",     "if",      "else",   "for",      "True", "False",
      "None",  "is",       "lambda", "def",    "class",   "return", "import",   "from", "while",
      "with",  "as",       "yield",  "await",  "async",   "global", "nonlocal", "del",  "pass",
      "break", "continue", "try",    "except", "finally", "raise",  "assert",   "elif"};
  return words;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  NodePointer parseAll() {
    NodePointer root = parseExpression();
    if (peek().kind != TokenKind::kEnd) fail(peek());
    return root;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(position_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& token = tokens_[position_];
    if (position_ + 1 < tokens_.size()) ++position_;
    return token;
  }
  bool isOperator(const char* op, std::size_t ahead = 0) const {
    const Token& token = peek(ahead);
    return token.kind == TokenKind::kOperator && token.text == op;
  }
  bool isKeyword(const char* word, std::size_t ahead = 0) const {
    const Token& token = peek(ahead);
    return token.kind == TokenKind::kName && token.text == word;
  }
  bool acceptOperator(const char* op) {
    if (!isOperator(op)) return false;
    next();
    return true;
  }
  bool acceptKeyword(const char* word) {
    if (!isKeyword(word)) return false;
    next();
    return true;
  }
  void expectOperator(const char* op, const char* context) {
    if (acceptOperator(op)) return;
    const Token& token = peek();
    if (token.kind == TokenKind::kEnd)
      throw ParseFailure{fmt::format("expected '{}' {} but the expression ends", op, context), token.column};
    if (token.kind == TokenKind::kOperator && (token.text == "," || token.text == ":" || token.text == "="))
      fail(token);
    throw ParseFailure{fmt::format("expected '{}' {}, found '{}'", op, context, token.text), token.column};
  }
  [[noreturn]] void fail(const Token& token) const {
    if (token.kind == TokenKind::kEnd) throw ParseFailure{"the expression ends too early", token.column};
    if (token.kind == TokenKind::kOperator ||
        (token.kind == TokenKind::kName && reservedWords().count(token.text)))
      throw ParseFailure{unsupportedConstruct(token) + " not supported", token.column};
    throw ParseFailure{fmt::format("unexpected '{}'", token.text), token.column};
  }

  /// Records the node's depth; trees deeper than kMaxTreeDepth are refused (evaluation recurses over them).
  static NodePointer finish(const std::shared_ptr<ExpressionNode>& node) {
    for (const auto& child : node->children) node->depth = std::max(node->depth, child->depth + 1);
    if (node->depth > kMaxTreeDepth) throw ParseFailure{"the expression is nested too deeply", node->column};
    return node;
  }

  /// Counts the parser's recursion (parentheses, unary chains), refusing more than kMaxNesting levels.
  class Nesting {
   public:
    explicit Nesting(Parser& parser) : parser_(parser) {
      if (++parser_.nesting_ > kMaxNesting)
        throw ParseFailure{"the expression is nested too deeply", parser_.peek().column};
    }
    ~Nesting() { --parser_.nesting_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& parser_;
  };

  static std::shared_ptr<ExpressionNode> makeNode(NodeKind kind, int column) {
    auto node = std::make_shared<ExpressionNode>();
    node->kind = kind;
    node->column = column;
    return node;  // finished by the caller once its children are set
  }

  // expression := disjunction ['if' disjunction 'else' expression]
  NodePointer parseExpression() {
    Nesting nesting(*this);
    if (isKeyword("lambda")) fail(peek());
    NodePointer value = parseOr();
    if (isKeyword("if")) {
      const int column = next().column;
      NodePointer condition = parseOr();
      if (!acceptKeyword("else")) throw ParseFailure{"a conditional expression needs 'else'", peek().column};
      NodePointer otherwise = parseExpression();
      auto node = makeNode(NodeKind::kConditional, column);
      node->children = {value, condition, otherwise};
      return finish(node);
    }
    return value;
  }

  NodePointer parseOr() {
    NodePointer first = parseAnd();
    if (!isKeyword("or")) return first;
    auto node = makeNode(NodeKind::kOr, peek().column);
    node->children.push_back(first);
    while (acceptKeyword("or")) node->children.push_back(parseAnd());
    return finish(node);
  }

  NodePointer parseAnd() {
    NodePointer first = parseNot();
    if (!isKeyword("and")) return first;
    auto node = makeNode(NodeKind::kAnd, peek().column);
    node->children.push_back(first);
    while (acceptKeyword("and")) node->children.push_back(parseNot());
    return finish(node);
  }

  NodePointer parseNot() {
    if (isKeyword("not")) {
      Nesting nesting(*this);
      auto node = makeNode(NodeKind::kNot, next().column);
      node->children.push_back(parseNot());
      return finish(node);
    }
    return parseComparison();
  }

  bool readCompareOp(CompareOp& op) {
    const Token& token = peek();
    if (token.kind == TokenKind::kOperator) {
      static const std::pair<const char*, CompareOp> kOps[] = {
          {"<", CompareOp::kLess},          {"<=", CompareOp::kLessEqual}, {">", CompareOp::kGreater},
          {">=", CompareOp::kGreaterEqual}, {"==", CompareOp::kEqual},     {"!=", CompareOp::kNotEqual}};
      for (const auto& [text, value] : kOps) {
        if (token.text == text) {
          op = value;
          next();
          return true;
        }
      }
      return false;
    }
    if (isKeyword("in")) {
      op = CompareOp::kIn;
      next();
      return true;
    }
    if (isKeyword("not") && isKeyword("in", 1)) {
      op = CompareOp::kNotIn;
      next();
      next();
      return true;
    }
    if (isKeyword("is")) fail(token);
    return false;
  }

  NodePointer parseComparison() {
    NodePointer first = parseArithmetic(0);
    CompareOp op = CompareOp::kEqual;
    const int column = peek().column;
    if (!readCompareOp(op)) return first;
    auto node = makeNode(NodeKind::kCompare, column);
    node->children.push_back(first);
    do {
      node->compareOps.push_back(op);
      node->children.push_back(parseArithmetic(0));
    } while (readCompareOp(op));
    return finish(node);
  }

  /// Binding strength of a binary arithmetic operator at the cursor (0 = none).
  int binaryPrecedence(BinaryOp& op) const {
    const Token& token = peek();
    if (token.kind != TokenKind::kOperator) return 0;
    static const std::tuple<const char*, BinaryOp, int> kOps[] = {
        {"+", BinaryOp::kAdd, 1},    {"-", BinaryOp::kSubtract, 1},     {"*", BinaryOp::kMultiply, 2},
        {"/", BinaryOp::kDivide, 2}, {"//", BinaryOp::kFloorDivide, 2}, {"%", BinaryOp::kModulo, 2}};
    for (const auto& [text, value, precedence] : kOps) {
      if (token.text == text) {
        op = value;
        return precedence;
      }
    }
    return 0;
  }

  // Precedence climbing over + - (1) and * / // % (2), all left-associative; operands are unary expressions.
  NodePointer parseArithmetic(int minPrecedence) {
    NodePointer left = parseUnary();
    BinaryOp op = BinaryOp::kAdd;
    for (int precedence = binaryPrecedence(op); precedence > minPrecedence;
         precedence = binaryPrecedence(op)) {
      const BinaryOp thisOp = op;
      const int column = next().column;
      NodePointer right = parseArithmetic(precedence);
      auto node = makeNode(NodeKind::kBinary, column);
      node->binaryOp = thisOp;
      node->children = {left, right};
      left = finish(node);
    }
    return left;
  }

  // unary := ('-' | '+') unary | power
  NodePointer parseUnary() {
    if (isOperator("-") || isOperator("+")) {
      Nesting nesting(*this);
      const Token& token = next();
      auto node = makeNode(token.text == "-" ? NodeKind::kNegate : NodeKind::kPlus, token.column);
      node->children.push_back(parseUnary());
      return finish(node);
    }
    if (isOperator("~")) fail(peek());
    return parsePower();
  }

  // power := primary ['**' unary]   (right-associative; binds tighter than a unary minus on its left)
  NodePointer parsePower() {
    NodePointer base = parsePrimary();
    if (!isOperator("**")) return base;
    const int column = next().column;
    NodePointer exponent = parseUnary();
    auto node = makeNode(NodeKind::kBinary, column);
    node->binaryOp = BinaryOp::kPower;
    node->children = {base, exponent};
    return finish(node);
  }

  NodePointer parsePrimary() {
    NodePointer value = parseAtom();
    while (true) {
      if (isOperator("[")) {
        const int column = next().column;
        if (isOperator(":")) fail(peek());
        NodePointer index = parseExpression();
        if (isOperator(":") || isOperator(",")) fail(peek());
        expectOperator("]", "to close the index");
        auto node = makeNode(NodeKind::kIndex, column);
        node->children = {value, index};
        value = finish(node);
      } else if (isOperator("(")) {
        throw ParseFailure{
            "only the built-in functions min, max, abs, int, float, round, len and range can be called",
            peek().column};
      } else if (isOperator(".")) {
        fail(peek());
      } else {
        return value;
      }
    }
  }

  NodePointer parseCall(const Token& nameToken) {
    const BuiltinInfo* info = nullptr;
    for (const auto& candidate : kBuiltins)
      if (nameToken.text == candidate.name) info = &candidate;
    if (info == nullptr)
      throw ParseFailure{
          fmt::format("unknown function '{}' (supported: min, max, abs, int, float, round, len, range)",
                      nameToken.text),
          nameToken.column};
    next();  // '('
    auto node = makeNode(NodeKind::kCall, nameToken.column);
    node->name = nameToken.text;
    node->builtin = info->builtin;
    if (!isOperator(")")) {
      while (true) {
        if (peek().kind == TokenKind::kName && isOperator("=", 1))
          throw ParseFailure{"keyword arguments are not supported", peek().column};
        if (isOperator("*") || isOperator("**"))
          throw ParseFailure{"argument unpacking is not supported", peek().column};
        node->children.push_back(parseExpression());
        if (isKeyword("for"))
          throw ParseFailure{"generator expressions are not supported (write a list: [... for ...])",
                             peek().column};
        if (!acceptOperator(",")) break;
        if (isOperator(")")) break;
      }
    }
    expectOperator(")", fmt::format("to close the call of {}", info->name).c_str());
    if (node->children.size() < info->minArgs || node->children.size() > info->maxArgs) {
      const std::string expected = info->minArgs == info->maxArgs ? fmt::format("{}", info->minArgs)
                                   : info->maxArgs > 100
                                       ? fmt::format("at least {}", info->minArgs)
                                       : fmt::format("{} to {}", info->minArgs, info->maxArgs);
      throw ParseFailure{fmt::format("{}() takes {} argument{}, given {}", info->name, expected,
                                     expected == "1" ? "" : "s", node->children.size()),
                         nameToken.column};
    }
    return finish(node);
  }

  NodePointer parseList(const Token& open) {
    auto node = makeNode(NodeKind::kList, open.column);
    if (acceptOperator("]")) return finish(node);
    NodePointer first = parseExpression();
    if (isKeyword("for")) {
      next();
      const Token& variable = peek();
      if (variable.kind != TokenKind::kName || reservedWords().count(variable.text))
        throw ParseFailure{"a comprehension needs one loop variable after 'for'", variable.column};
      next();
      if (isOperator(","))
        throw ParseFailure{"several loop variables (tuple unpacking) are not supported", peek().column};
      if (!acceptKeyword("in")) throw ParseFailure{"expected 'in' after the loop variable", peek().column};
      auto comprehension = makeNode(NodeKind::kComprehension, open.column);
      comprehension->name = variable.text;
      comprehension->children = {first, parseOr()};
      if (acceptKeyword("if")) comprehension->children.push_back(parseOr());
      if (isKeyword("for")) throw ParseFailure{"several for clauses are not supported", peek().column};
      if (isKeyword("if")) throw ParseFailure{"several if clauses are not supported", peek().column};
      expectOperator("]", "to close the list comprehension");
      return finish(comprehension);
    }
    node->children.push_back(first);
    while (acceptOperator(",")) {
      if (isOperator("]")) break;
      node->children.push_back(parseExpression());
    }
    expectOperator("]", "to close the list");
    return finish(node);
  }

  NodePointer parseAtom() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kNumber:
      case TokenKind::kString: {
        next();
        auto node = makeNode(NodeKind::kConstant, token.column);
        node->constant = token.value;
        if (token.kind == TokenKind::kString && peek().kind == TokenKind::kString) {
          throw ParseFailure{"adjacent strings are not supported", peek().column};
        }
        return finish(node);
      }
      case TokenKind::kName: {
        if (token.text == "True" || token.text == "False") {
          next();
          auto node = makeNode(NodeKind::kConstant, token.column);
          node->constant = makeBool(token.text == "True");
          return finish(node);
        }
        if (reservedWords().count(token.text)) fail(token);
        if (isOperator("(", 1)) return parseCall(next());
        next();
        auto node = makeNode(NodeKind::kName, token.column);
        node->name = token.text;
        return finish(node);
      }
      case TokenKind::kOperator: {
        if (token.text == "(") {
          next();
          if (isOperator(")")) throw ParseFailure{"tuples are not supported", token.column};
          NodePointer inner = parseExpression();
          if (isKeyword("for"))
            throw ParseFailure{"generator expressions are not supported (write a list: [... for ...])",
                               peek().column};
          if (isOperator(",")) fail(peek());
          expectOperator(")", "to close the parenthesis");
          return inner;
        }
        if (token.text == "[") return parseList(next());
        fail(token);
      }
      case TokenKind::kEnd:
        fail(token);
    }
    fail(token);
  }

  std::vector<Token> tokens_;
  std::size_t position_ = 0;
  int nesting_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

[[noreturn]] void failEvaluation(std::string what) {
  throw EvaluationFailure{std::move(what)};
}

bool valuesEqual(const ExpressionValue& a, const ExpressionValue& b) {
  if (a.isNumber() && b.isNumber()) {
    if (isInt(a) && isInt(b)) return asInt(a) == asInt(b);
    return asDouble(a) == asDouble(b);
  }
  if (isString(a) && isString(b)) return std::get<std::string>(a.value) == std::get<std::string>(b.value);
  if (isList(a) && isList(b)) {
    const auto& x = std::get<ListValue>(a.value);
    const auto& y = std::get<ListValue>(b.value);
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!valuesEqual(x[i], y[i])) return false;
    return true;
  }
  return false;
}

/// -1, 0, 1 for ordering comparisons (numbers with numbers, strings with strings, lists element by element).
int compareValues(const ExpressionValue& a, const ExpressionValue& b, const char* opText) {
  if (a.isNumber() && b.isNumber()) {
    if (isInt(a) && isInt(b)) {
      const IntValue x = asInt(a), y = asInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const double x = asDouble(a), y = asDouble(b);
    if (std::isnan(x) || std::isnan(y)) return 2;  // unordered: every ordering comparison is false
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (isString(a) && isString(b)) {
    const int c = std::get<std::string>(a.value).compare(std::get<std::string>(b.value));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (isList(a) && isList(b)) {
    const auto& x = std::get<ListValue>(a.value);
    const auto& y = std::get<ListValue>(b.value);
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (valuesEqual(x[i], y[i])) continue;
      return compareValues(x[i], y[i], opText);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  failEvaluation(fmt::format("'{}' is not supported between {} and {}", opText, typeName(a), typeName(b)));
}

bool applyCompare(CompareOp op, const ExpressionValue& a, const ExpressionValue& b) {
  switch (op) {
    case CompareOp::kEqual:
      return valuesEqual(a, b);
    case CompareOp::kNotEqual:
      return !valuesEqual(a, b);
    case CompareOp::kIn:
    case CompareOp::kNotIn: {
      bool found = false;
      if (isList(b)) {
        const auto& list = std::get<ListValue>(b.value);
        found = std::any_of(list.begin(), list.end(),
                            [&](const ExpressionValue& e) { return valuesEqual(a, e); });
      } else if (isString(b)) {
        if (!isString(a))
          failEvaluation(fmt::format("'in <string>' needs a string on the left, not {}", typeName(a)));
        found = std::get<std::string>(b.value).find(std::get<std::string>(a.value)) != std::string::npos;
      } else {
        failEvaluation(fmt::format("'{}' needs a list or a string on the right, not {}", compareOpText(op),
                                   typeName(b)));
      }
      return op == CompareOp::kIn ? found : !found;
    }
    default:
      break;
  }
  const int c = compareValues(a, b, compareOpText(op));
  if (c == 2) return false;
  switch (op) {
    case CompareOp::kLess:
      return c < 0;
    case CompareOp::kLessEqual:
      return c <= 0;
    case CompareOp::kGreater:
      return c > 0;
    case CompareOp::kGreaterEqual:
      return c >= 0;
    default:
      return false;
  }
}

[[noreturn]] void failOperands(const char* op, const ExpressionValue& a, const ExpressionValue& b) {
  failEvaluation(fmt::format("unsupported operand types for {}: {} and {}", op, typeName(a), typeName(b)));
}

[[noreturn]] void failOverflow(const char* op) {
  failEvaluation(fmt::format("integer overflow in {} (64-bit integers only)", op));
}

IntValue checkedAdd(IntValue x, IntValue y, const char* op) {
  IntValue r = 0;
  if (__builtin_add_overflow(x, y, &r)) failOverflow(op);
  return r;
}
IntValue checkedSubtract(IntValue x, IntValue y, const char* op) {
  IntValue r = 0;
  if (__builtin_sub_overflow(x, y, &r)) failOverflow(op);
  return r;
}
IntValue checkedMultiply(IntValue x, IntValue y, const char* op) {
  IntValue r = 0;
  if (__builtin_mul_overflow(x, y, &r)) failOverflow(op);
  return r;
}

ExpressionValue repeatSequence(const ExpressionValue& sequence, IntValue times) {
  times = std::max<IntValue>(times, 0);
  if (isString(sequence)) {
    const auto& s = std::get<std::string>(sequence.value);
    if (!s.empty() && times > kMaxRangeLength / static_cast<IntValue>(s.size()))
      failEvaluation("repeated string too long");
    std::string out;
    for (IntValue i = 0; i < times; ++i) out += s;
    return ExpressionValue{out};
  }
  const auto& list = std::get<ListValue>(sequence.value);
  if (!list.empty() && times > kMaxRangeLength / static_cast<IntValue>(list.size()))
    failEvaluation("repeated list too long");
  ListValue out;
  for (IntValue i = 0; i < times; ++i) out.insert(out.end(), list.begin(), list.end());
  return ExpressionValue{out};
}

ExpressionValue power(const ExpressionValue& a, const ExpressionValue& b) {
  if (isInt(a) && isInt(b)) {
    IntValue base = asInt(a);
    IntValue exponent = asInt(b);
    if (exponent < 0) {
      if (base == 0) failEvaluation("division by zero (0 raised to a negative power)");
      return makeFloat(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
    }
    IntValue result = 1;
    while (exponent > 0) {
      if (exponent & 1) result = checkedMultiply(result, base, "**");
      exponent >>= 1;
      if (exponent > 0) base = checkedMultiply(base, base, "**");
    }
    return makeInt(result);
  }
  const double x = asDouble(a), y = asDouble(b);
  if (x == 0 && y < 0) failEvaluation("division by zero (0.0 raised to a negative power)");
  if (x < 0 && y != std::floor(y))
    failEvaluation("a negative number raised to a fractional power is complex");
  return makeFloat(std::pow(x, y));
}

ExpressionValue applyBinary(BinaryOp op, const ExpressionValue& a, const ExpressionValue& b) {
  const char* text = binaryOpText(op);
  if (op == BinaryOp::kAdd) {
    if (isString(a) && isString(b))
      return ExpressionValue{std::get<std::string>(a.value) + std::get<std::string>(b.value)};
    if (isList(a) && isList(b)) {
      ListValue out = std::get<ListValue>(a.value);
      const auto& tail = std::get<ListValue>(b.value);
      out.insert(out.end(), tail.begin(), tail.end());
      return ExpressionValue{out};
    }
  }
  if (op == BinaryOp::kMultiply) {
    if ((isString(a) || isList(a)) && isInt(b)) return repeatSequence(a, asInt(b));
    if (isInt(a) && (isString(b) || isList(b))) return repeatSequence(b, asInt(a));
  }
  if (!a.isNumber() || !b.isNumber()) failOperands(text, a, b);
  if (op == BinaryOp::kPower) return power(a, b);
  if (isInt(a) && isInt(b)) {
    const IntValue x = asInt(a), y = asInt(b);
    switch (op) {
      case BinaryOp::kAdd:
        return makeInt(checkedAdd(x, y, text));
      case BinaryOp::kSubtract:
        return makeInt(checkedSubtract(x, y, text));
      case BinaryOp::kMultiply:
        return makeInt(checkedMultiply(x, y, text));
      case BinaryOp::kDivide:
        if (y == 0) failEvaluation("division by zero");
        return makeFloat(static_cast<double>(x) / static_cast<double>(y));
      case BinaryOp::kFloorDivide: {
        if (y == 0) failEvaluation("integer division by zero");
        if (x == std::numeric_limits<IntValue>::min() && y == -1) failOverflow(text);
        IntValue q = x / y;
        if (x % y != 0 && ((x < 0) != (y < 0))) --q;
        return makeInt(q);
      }
      case BinaryOp::kModulo: {
        if (y == 0) failEvaluation("integer modulo by zero");
        if (y == -1) return makeInt(0);
        IntValue m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return makeInt(m);
      }
      case BinaryOp::kPower:
        break;
    }
  }
  const double x = asDouble(a), y = asDouble(b);
  switch (op) {
    case BinaryOp::kAdd:
      return makeFloat(x + y);
    case BinaryOp::kSubtract:
      return makeFloat(x - y);
    case BinaryOp::kMultiply:
      return makeFloat(x * y);
    case BinaryOp::kDivide:
      if (y == 0) failEvaluation("float division by zero");
      return makeFloat(x / y);
    case BinaryOp::kFloorDivide:
    case BinaryOp::kModulo: {
      if (y == 0)
        failEvaluation(op == BinaryOp::kModulo ? "float modulo by zero" : "float floor division by zero");
      // Python's float divmod: the remainder takes the divisor's sign, the quotient is floored.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) {
          mod += y;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, y);
      }
      double floorDiv;
      if (div != 0) {
        floorDiv = std::floor(div);
        if (div - floorDiv > 0.5) floorDiv += 1.0;
      } else {
        floorDiv = std::copysign(0.0, x / y);
      }
      return makeFloat(op == BinaryOp::kModulo ? mod : floorDiv);
    }
    case BinaryOp::kPower:
      break;
  }
  failOperands(text, a, b);
}

/// Python's round-half-to-even of a double to an integer.
IntValue roundToInt(double x) {
  if (!std::isfinite(x)) failEvaluation(fmt::format("cannot convert {} to an integer", floatRepr(x)));
  const double rounded = std::nearbyint(x);  // the default rounding mode rounds half to even
  if (rounded < -9.2233720368547758e18 || rounded >= 9.2233720368547758e18)
    failEvaluation("integer overflow in round (64-bit integers only)");
  return static_cast<IntValue>(rounded);
}

ExpressionValue callBuiltin(Builtin builtin, const std::string& name, std::vector<ExpressionValue> args) {
  switch (builtin) {
    case Builtin::kMin:
    case Builtin::kMax: {
      ListValue items;
      if (args.size() == 1) {
        if (!isList(args[0]))
          failEvaluation(fmt::format("{}() of one argument needs a list, not {}", name, typeName(args[0])));
        items = std::get<ListValue>(args[0].value);
      } else {
        items = std::move(args);
      }
      if (items.empty()) failEvaluation(fmt::format("{}() of an empty list", name));
      std::size_t best = 0;
      for (std::size_t i = 1; i < items.size(); ++i) {
        const int c = compareValues(items[i], items[best], name.c_str());
        if (c == 2) continue;
        if (builtin == Builtin::kMin ? c < 0 : c > 0) best = i;
      }
      return items[best];
    }
    case Builtin::kAbs: {
      const ExpressionValue& x = args[0];
      if (isFloat(x)) return makeFloat(std::fabs(asDouble(x)));
      if (!isInt(x)) failEvaluation(fmt::format("abs() needs a number, not {}", typeName(x)));
      const IntValue v = asInt(x);
      if (v == std::numeric_limits<IntValue>::min()) failOverflow("abs");
      return makeInt(v < 0 ? -v : v);
    }
    case Builtin::kInt: {
      const ExpressionValue& x = args[0];
      if (isInt(x)) return makeInt(asInt(x));
      if (isFloat(x)) {
        const double v = std::trunc(asDouble(x));
        if (!std::isfinite(v)) failEvaluation(fmt::format("cannot convert {} to an integer", floatRepr(v)));
        if (v < -9.2233720368547758e18 || v >= 9.2233720368547758e18)
          failEvaluation("integer overflow in int (64-bit integers only)");
        return makeInt(static_cast<IntValue>(v));
      }
      if (isString(x)) {
        const auto& s = std::get<std::string>(x.value);
        std::size_t used = 0;
        try {
          const long long v = std::stoll(s, &used, 10);
          if (used == s.size()) return makeInt(v);
        } catch (const std::exception&) {
        }
        failEvaluation(fmt::format("int() cannot read '{}' as an integer", s));
      }
      failEvaluation(fmt::format("int() needs a number or a string, not {}", typeName(x)));
    }
    case Builtin::kFloat: {
      const ExpressionValue& x = args[0];
      if (x.isNumber()) return makeFloat(asDouble(x));
      if (isString(x)) {
        const auto& s = std::get<std::string>(x.value);
        std::size_t used = 0;
        try {
          const double v = std::stod(s, &used);
          if (used == s.size()) return makeFloat(v);
        } catch (const std::exception&) {
        }
        failEvaluation(fmt::format("float() cannot read '{}' as a number", s));
      }
      failEvaluation(fmt::format("float() needs a number or a string, not {}", typeName(x)));
    }
    case Builtin::kRound: {
      const ExpressionValue& x = args[0];
      if (!x.isNumber()) failEvaluation(fmt::format("round() needs a number, not {}", typeName(x)));
      if (args.size() == 1) return isInt(x) ? makeInt(asInt(x)) : makeInt(roundToInt(asDouble(x)));
      if (!isInt(args[1])) failEvaluation("round() needs an integer number of digits");
      const IntValue digits = asInt(args[1]);
      if (isInt(x) && digits >= 0) return makeInt(asInt(x));
      if (digits > 300) return isInt(x) ? makeInt(asInt(x)) : makeFloat(asDouble(x));
      if (digits < -300) return isInt(x) ? makeInt(0) : makeFloat(0.0);
      const double scale = std::pow(10.0, static_cast<double>(digits));
      const double rounded = std::nearbyint(asDouble(x) * scale) / scale;
      if (isInt(x)) return makeInt(roundToInt(rounded));
      return makeFloat(rounded);
    }
    case Builtin::kLen: {
      const ExpressionValue& x = args[0];
      if (isList(x)) return makeInt(static_cast<IntValue>(std::get<ListValue>(x.value).size()));
      if (isString(x)) return makeInt(static_cast<IntValue>(std::get<std::string>(x.value).size()));
      failEvaluation(fmt::format("len() needs a list or a string, not {}", typeName(x)));
    }
    case Builtin::kRange: {
      for (const auto& a : args)
        if (!isInt(a)) failEvaluation(fmt::format("range() needs integers, not {}", typeName(a)));
      IntValue start = 0, stop = 0, step = 1;
      if (args.size() == 1) {
        stop = asInt(args[0]);
      } else {
        start = asInt(args[0]);
        stop = asInt(args[1]);
        if (args.size() == 3) step = asInt(args[2]);
      }
      if (step == 0) failEvaluation("range() step must not be zero");
      // Exact in unsigned arithmetic: the distance between two 64-bit integers always fits.
      std::uint64_t count = 0;
      if (step > 0 && stop > start) {
        const std::uint64_t distance = static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start);
        const auto stride = static_cast<std::uint64_t>(step);
        count = distance / stride + (distance % stride != 0 ? 1 : 0);
      } else if (step < 0 && start > stop) {
        const std::uint64_t distance = static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop);
        const std::uint64_t stride = static_cast<std::uint64_t>(-(step + 1)) + 1;
        count = distance / stride + (distance % stride != 0 ? 1 : 0);
      }
      if (count > static_cast<std::uint64_t>(kMaxRangeLength))
        failEvaluation(fmt::format("range() of more than {} values", kMaxRangeLength));
      ListValue out;
      out.reserve(static_cast<std::size_t>(count));
      IntValue value = start;
      for (IntValue i = 0; i < static_cast<IntValue>(count); ++i) {
        out.push_back(makeInt(value));
        // Unsigned, so that the step past the last value (never used) cannot overflow.
        value = static_cast<IntValue>(static_cast<std::uint64_t>(value) + static_cast<std::uint64_t>(step));
      }
      return ExpressionValue{out};
    }
  }
  failEvaluation("unknown function");
}

/// Evaluates a tree; comprehension variables live in `locals_`, searched before the caller's scope.
class Evaluator {
 public:
  explicit Evaluator(const ExpressionScope& scope) : scope_(scope) {}

  ExpressionValue evaluate(const ExpressionNode& node) {
    switch (node.kind) {
      case NodeKind::kConstant:
        return node.constant;
      case NodeKind::kName:
        return lookup(node.name);
      case NodeKind::kList: {
        ListValue items;
        items.reserve(node.children.size());
        for (const auto& child : node.children) items.push_back(evaluate(*child));
        return ExpressionValue{items};
      }
      case NodeKind::kNegate: {
        ExpressionValue x = evaluate(*node.children[0]);
        if (isFloat(x)) return makeFloat(-asDouble(x));
        if (!isInt(x)) failEvaluation(fmt::format("bad operand type for unary -: {}", typeName(x)));
        const IntValue v = asInt(x);
        if (v == std::numeric_limits<IntValue>::min()) failOverflow("unary -");
        return makeInt(-v);
      }
      case NodeKind::kPlus: {
        ExpressionValue x = evaluate(*node.children[0]);
        if (isFloat(x)) return x;
        if (!isInt(x)) failEvaluation(fmt::format("bad operand type for unary +: {}", typeName(x)));
        return makeInt(asInt(x));
      }
      case NodeKind::kNot:
        return makeBool(!evaluate(*node.children[0]).truthy());
      case NodeKind::kBinary:
        return applyBinary(node.binaryOp, evaluate(*node.children[0]), evaluate(*node.children[1]));
      case NodeKind::kCompare: {
        ExpressionValue left = evaluate(*node.children[0]);
        for (std::size_t i = 0; i < node.compareOps.size(); ++i) {
          ExpressionValue right = evaluate(*node.children[i + 1]);
          if (!applyCompare(node.compareOps[i], left, right)) return makeBool(false);
          left = std::move(right);
        }
        return makeBool(true);
      }
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        ExpressionValue value;
        for (const auto& child : node.children) {
          value = evaluate(*child);
          if (value.truthy() == (node.kind == NodeKind::kOr)) return value;
        }
        return value;
      }
      case NodeKind::kConditional:
        return evaluate(*node.children[1]).truthy() ? evaluate(*node.children[0])
                                                    : evaluate(*node.children[2]);
      case NodeKind::kIndex: {
        ExpressionValue container = evaluate(*node.children[0]);
        ExpressionValue index = evaluate(*node.children[1]);
        if (!isInt(index)) failEvaluation(fmt::format("indices must be integers, not {}", typeName(index)));
        IntValue i = asInt(index);
        IntValue size = 0;
        if (isList(container)) {
          size = static_cast<IntValue>(std::get<ListValue>(container.value).size());
        } else if (isString(container)) {
          size = static_cast<IntValue>(std::get<std::string>(container.value).size());
        } else {
          failEvaluation(fmt::format("{} cannot be indexed", typeName(container)));
        }
        if (i < 0) i += size;
        if (i < 0 || i >= size)
          failEvaluation(fmt::format("index {} out of range (length {})", asInt(index), size));
        if (isString(container))
          return ExpressionValue{
              std::string(1, std::get<std::string>(container.value)[static_cast<std::size_t>(i)])};
        return std::get<ListValue>(container.value)[static_cast<std::size_t>(i)];
      }
      case NodeKind::kCall: {
        std::vector<ExpressionValue> args;
        args.reserve(node.children.size());
        for (const auto& child : node.children) args.push_back(evaluate(*child));
        return callBuiltin(node.builtin, node.name, std::move(args));
      }
      case NodeKind::kComprehension: {
        ExpressionValue iterable = evaluate(*node.children[1]);
        ListValue items;
        if (isList(iterable)) {
          items = std::get<ListValue>(iterable.value);
        } else if (isString(iterable)) {
          for (char c : std::get<std::string>(iterable.value))
            items.push_back(ExpressionValue{std::string(1, c)});
        } else {
          failEvaluation(fmt::format("a comprehension cannot iterate over {}", typeName(iterable)));
        }
        ListValue out;
        out.reserve(items.size());
        locals_.emplace_back(node.name, ExpressionValue{});
        const std::size_t slot = locals_.size() - 1;
        for (auto& item : items) {
          locals_[slot].second = std::move(item);
          if (node.children.size() > 2 && !evaluate(*node.children[2]).truthy()) continue;
          out.push_back(evaluate(*node.children[0]));
        }
        locals_.pop_back();
        return ExpressionValue{out};
      }
    }
    failEvaluation("unknown expression node");
  }

 private:
  const ExpressionValue& lookup(const std::string& name) const {
    for (auto it = locals_.rbegin(); it != locals_.rend(); ++it)
      if (it->first == name) return it->second;
    auto found = scope_.find(name);
    if (found == scope_.end()) failEvaluation(fmt::format("unknown name '{}'", name));
    return found->second;
  }

  const ExpressionScope& scope_;
  std::vector<std::pair<std::string, ExpressionValue>> locals_;
};

void collectNames(const ExpressionNode& node, std::vector<std::string>& bound, std::set<std::string>& names) {
  switch (node.kind) {
    case NodeKind::kName:
      if (std::find(bound.begin(), bound.end(), node.name) == bound.end()) names.insert(node.name);
      return;
    case NodeKind::kComprehension:
      // The iterable is read in the enclosing scope; element and condition see the loop variable.
      collectNames(*node.children[1], bound, names);
      bound.push_back(node.name);
      collectNames(*node.children[0], bound, names);
      if (node.children.size() > 2) collectNames(*node.children[2], bound, names);
      bound.pop_back();
      return;
    default:
      for (const auto& child : node.children) collectNames(*child, bound, names);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// ExpressionValue and Expression

bool ExpressionValue::isNumber() const {
  return value.index() <= 2;
}

Expected<double> ExpressionValue::toDouble() const {
  if (!isNumber())
    return makeError(ErrorCode::kInvalidInput, "{} {} is not a number", typeName(*this), repr());
  return asDouble(*this);
}

bool ExpressionValue::truthy() const {
  switch (value.index()) {
    case 0:
      return std::get<IntValue>(value) != 0;
    case 1:
      return std::get<double>(value) != 0;
    case 2:
      return std::get<bool>(value);
    case 3:
      return !std::get<std::string>(value).empty();
    default:
      return !std::get<ListValue>(value).empty();
  }
}

std::string ExpressionValue::repr() const {
  switch (value.index()) {
    case 0:
      return std::to_string(std::get<IntValue>(value));
    case 1:
      return floatRepr(std::get<double>(value));
    case 2:
      return std::get<bool>(value) ? "True" : "False";
    case 3: {
      const auto& s = std::get<std::string>(value);
      const char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
      std::string out(1, quote);
      for (char c : s) {
        if (c == quote || c == '\\') out += '\\';
        if (c == '\n') {
          out += "\\n";
          continue;
        }
        out += c;
      }
      return out + quote;
    }
    default: {
      std::string out = "[";
      const auto& list = std::get<ListValue>(value);
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += ", ";
        out += list[i].repr();
      }
      return out + "]";
    }
  }
}

namespace {

/// The expression as messages quote it: whole unless it is very long.
std::string excerpt(const std::string& text) {
  constexpr std::size_t kLongest = 160;
  return text.size() <= kLongest ? text : text.substr(0, kLongest - 10) + "...";
}

}  // namespace

Expected<Expression> Expression::parse(const std::string& text) {
  try {
    Parser parser(tokenize(text));
    Expression expression;
    expression.root_ = parser.parseAll();
    expression.text_ = text;
    return expression;
  } catch (const ParseFailure& failure) {
    return makeError(ErrorCode::kInvalidInput, "\"{}\": {} (column {})", excerpt(text), failure.what,
                     failure.column);
  }
}

Expression Expression::constant(ExpressionValue value) {
  auto node = std::make_shared<ExpressionNode>();
  node->kind = NodeKind::kConstant;
  Expression expression;
  expression.text_ = value.repr();
  node->constant = std::move(value);
  expression.root_ = std::move(node);
  return expression;
}

Expected<ExpressionValue> Expression::evaluate(const ExpressionScope& scope) const {
  if (!root_) return makeError(ErrorCode::kInvalidInput, "an empty expression has no value");
  try {
    Evaluator evaluator(scope);
    return evaluator.evaluate(*root_);
  } catch (const EvaluationFailure& failure) {
    return makeError(ErrorCode::kInvalidInput, "\"{}\": {}", excerpt(text_), failure.what);
  }
}

std::vector<std::string> Expression::names() const {
  std::set<std::string> names;
  if (root_) {
    std::vector<std::string> bound;
    collectNames(*root_, bound, names);
  }
  return {names.begin(), names.end()};
}

}  // namespace mirtune
