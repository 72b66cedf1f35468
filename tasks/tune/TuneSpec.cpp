// Reading T1 files into a TuneSpec (parameters, conditions checked over the whole space, kernel launch or
// application commands, mirtune's own settings) and turning one configuration into a run plan or commands.
#include "tasks/tune/TuneSpec.h"

#include "support/Files.h"
#include "support/Sha256.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <set>

namespace mirtune::tune {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Largest space (before the conditions) whose conditions are checked configuration by configuration.
constexpr std::uint64_t kMaxSpaceSize = 1'000'000'000;

/// Most values one parameter may take.
constexpr std::size_t kMaxParameterValues = 1'000'000;

/// Largest number of value combinations one condition is evaluated over (its table holds a byte each).
constexpr std::uint64_t kMaxConditionCombinations = 100'000'000;

constexpr const char* kProblemSizeName = "ProblemSize";
constexpr const char* kSpecDirectoryPlaceholder = "@SPEC_DIR@";

/// A parameter's declared type in the T1 file; kAny (mirtune's "any") keeps values of several types as
/// written.
enum class ParameterType { kInt, kFloat, kString, kBool, kAny };

bool isIdentifier(const std::string& name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

ExpressionValue valueFromJson(const json& value) {
  if (value.is_boolean()) return ExpressionValue{value.get<bool>()};
  if (value.is_number_integer()) return ExpressionValue{value.get<std::int64_t>()};
  if (value.is_number()) return ExpressionValue{value.get<double>()};
  if (value.is_string()) return ExpressionValue{value.get<std::string>()};
  std::vector<ExpressionValue> items;
  if (value.is_array())
    for (const auto& item : value) items.push_back(valueFromJson(item));
  return ExpressionValue{items};
}

/// A parameter value as a -D macro value or a {name} substitution: bools as 0/1, strings as they are.
std::string valueText(const json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return ExpressionValue{value.get<double>()}.repr();
  return value.dump();
}

/// One condition compiled into a table over the values of the parameters it reads.
struct ConditionTable {
  std::vector<std::size_t> parameters;  ///< indices into the space's parameters, in space order
  std::vector<std::size_t> strides;     ///< of each parameter's value index in `allowed`
  std::vector<char> allowed;            ///< by combined value index
};

/// Reads one T1 file; every error names the file and the key path.
class SpecReader {
 public:
  explicit SpecReader(fs::path file) : file_(std::move(file)), label_(file_.string()) {}
  /// A document held in memory, read as if it were `file`; `files` stands in for Application.Files on disk.
  SpecReader(fs::path file, const json& root, const std::map<std::string, std::string>& files)
      : file_(std::move(file)), label_(file_.string()), given_(&root), givenFiles_(&files) {}

  Expected<TuneSpec> read() {
    Expected<json> root = given_ != nullptr ? Expected<json>(*given_) : parseFile();
    if (!root) return root.error();
    if (!root->is_object())
      return makeError(ErrorCode::kInvalidInput, "{}: a T1 file holds a JSON object", label_);
    try {
      return interpret(*root);
    } catch (const Error& error) {
      return error;
    } catch (const json::exception& e) {
      return makeError(ErrorCode::kInvalidInput, "{}: unexpected content ({})", label_, e.what());
    }
  }

 private:
  // ----- errors and typed access (throwing Error internally; read() turns it back into a value) -----

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw makeError(ErrorCode::kInvalidInput, "{}: {}: {}", label_, key, what);
  }
  [[noreturn]] void failExpression(const std::string& key, const Expression& expression,
                                   const std::string& what) const {
    throw makeError(ErrorCode::kInvalidInput, "{}: {} \"{}\": {}", label_, key, expression.text(), what);
  }

  Expected<json> parseFile() {
    std::error_code ec;
    if (!fs::exists(file_, ec)) return makeError(ErrorCode::kNotFound, "{}: no such file", label_);
    if (fs::is_directory(file_, ec))
      return makeError(ErrorCode::kInvalidInput, "{}: is a folder, not a T1 file", label_);
    auto text = readFile(file_);
    if (!text) return text.error();
    try {
      json root = json::parse(*text);
      if (!root.is_object())
        return makeError(ErrorCode::kInvalidInput, "{}: a T1 file holds a JSON object", label_);
      return root;
    } catch (const json::parse_error& e) {
      return makeError(ErrorCode::kInvalidInput, "{}: malformed JSON: {}", label_, e.what());
    }
  }

  const json& require(const json& object, const std::string& key, const std::string& path) const {
    if (!object.is_object()) fail(path, "expected a JSON object");
    auto found = object.find(key);
    if (found == object.end()) fail(path.empty() ? key : path + "." + key, "missing (required)");
    return *found;
  }
  const json* optional(const json& object, const std::string& key) const {
    auto found = object.find(key);
    if (found == object.end() || found->is_null()) return nullptr;
    return &*found;
  }
  std::string stringAt(const json& value, const std::string& path) const {
    if (!value.is_string()) fail(path, fmt::format("expected a string, found {}", value.dump()));
    return value.get<std::string>();
  }
  double numberAt(const json& value, const std::string& path) const {
    if (!value.is_number()) fail(path, fmt::format("expected a number, found {}", value.dump()));
    return value.get<double>();
  }
  double positiveNumberAt(const json& value, const std::string& path, bool allowZero) const {
    const double number = numberAt(value, path);
    if (!std::isfinite(number) || number < 0 || (!allowZero && number == 0))
      fail(path, fmt::format("expected a {} number, found {}", allowZero ? "non-negative" : "positive",
                             value.dump()));
    return number;
  }
  int countAt(const json& value, const std::string& path, int minimum) const {
    if (!value.is_number_integer() || value.get<std::int64_t>() < minimum ||
        value.get<std::int64_t>() > 1'000'000)
      fail(path, fmt::format("expected an integer of at least {}, found {}", minimum, value.dump()));
    return static_cast<int>(value.get<std::int64_t>());
  }
  std::vector<std::string> stringListAt(const json& value, const std::string& path) const {
    if (value.is_string()) return {value.get<std::string>()};
    if (!value.is_array()) fail(path, fmt::format("expected a list of strings, found {}", value.dump()));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i)
      out.push_back(stringAt(value[i], fmt::format("{}[{}]", path, i)));
    return out;
  }
  /// Rejects keys outside `known`, so that a misspelt setting is not silently ignored.
  void checkKeys(const json& object, const std::string& path,
                 std::initializer_list<const char*> known) const {
    for (const auto& [key, value] : object.items()) {
      if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
        std::string list;
        for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        fail(path + "." + key, fmt::format("unknown key (known: {})", list));
      }
    }
  }

  Expression parseExpressionAt(const json& value, const std::string& path) const {
    if (value.is_number_integer()) return Expression::constant(ExpressionValue{value.get<std::int64_t>()});
    if (value.is_number()) return Expression::constant(ExpressionValue{value.get<double>()});
    if (!value.is_string())
      fail(path, fmt::format("expected an expression (a string) or a number, found {}", value.dump()));
    auto expression = Expression::parse(value.get<std::string>());
    if (!expression) fail(path, expression.error().message());
    return *expression;
  }

  /// Every name `expression` reads must be a parameter or one of `constants`.
  void checkNames(const Expression& expression, const std::string& path,
                  const ExpressionScope& constants) const {
    for (const auto& name : expression.names()) {
      if (parameterIndex_.count(name) || constants.count(name)) continue;
      std::string known;
      for (const auto& [constant, value] : constants) known += fmt::format(" and {}", constant);
      failExpression(path, expression,
                     fmt::format("unknown parameter '{}' (tuning parameters{} may be used)", name, known));
    }
  }

  // ----- parameters -----

  ParameterType parameterType(const std::string& type, const std::string& path) const {
    if (type == "int" || type == "uint") return ParameterType::kInt;
    if (type == "float" || type == "double") return ParameterType::kFloat;
    if (type == "string") return ParameterType::kString;
    if (type == "bool") return ParameterType::kBool;
    if (type == "any") return ParameterType::kAny;
    fail(path, fmt::format("unknown parameter type '{}' (int, float, string, bool, any)", type));
  }

  json convertValue(const ExpressionValue& value, ParameterType type, const std::string& path) const {
    const auto* integer = std::get_if<std::int64_t>(&value.value);
    const auto* real = std::get_if<double>(&value.value);
    const auto* boolean = std::get_if<bool>(&value.value);
    const auto* text = std::get_if<std::string>(&value.value);
    switch (type) {
      case ParameterType::kInt:
        if (integer) return *integer;
        if (real && std::isfinite(*real) && *real == std::floor(*real) && std::fabs(*real) < 9e18)
          return static_cast<std::int64_t>(*real);
        break;
      case ParameterType::kFloat:
        if (integer) return static_cast<double>(*integer);
        if (real) return *real;
        break;
      case ParameterType::kString:
        if (text) return *text;
        break;
      case ParameterType::kBool:
        if (boolean) return *boolean;
        if (integer && (*integer == 0 || *integer == 1)) return *integer == 1;
        break;
      case ParameterType::kAny:
        if (integer) return *integer;
        if (real) return *real;
        if (boolean) return *boolean;
        if (text) return *text;
        break;
    }
    fail(path, fmt::format("{} does not fit the parameter's type", value.repr()));
  }

  void readParameters(const json& space, TuneSpec& spec) {
    const std::string listPath = "ConfigurationSpace.TuningParameters";
    const json& parameters = require(space, "TuningParameters", "ConfigurationSpace");
    if (!parameters.is_array() || parameters.empty())
      fail(listPath, "expected a non-empty list of parameters");
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const std::string path = fmt::format("{}[{}]", listPath, i);
      const json& entry = parameters[i];
      if (!entry.is_object()) fail(path, "expected a JSON object");
      const std::string name = stringAt(require(entry, "Name", path), path + ".Name");
      if (!isIdentifier(name))
        fail(path + ".Name", fmt::format("'{}' is not a name expressions can use", name));
      if (name == kProblemSizeName) fail(path + ".Name", "'ProblemSize' is reserved for the problem size");
      static const std::set<std::string> kKeywords = {"and", "or", "not",    "in",   "if",    "else",
                                                      "for", "is", "lambda", "True", "False", "None"};
      if (kKeywords.count(name)) fail(path + ".Name", fmt::format("'{}' is a keyword of expressions", name));
      if (parameterIndex_.count(name))
        fail(path + ".Name", fmt::format("parameter '{}' declared twice", name));
      const ParameterType type =
          parameterType(stringAt(require(entry, "Type", path), path + ".Type"), path + ".Type");

      const json& valuesJson = require(entry, "Values", path);
      std::vector<ExpressionValue> values;
      if (valuesJson.is_array()) {
        for (const auto& value : valuesJson) values.push_back(valueFromJson(value));
      } else if (valuesJson.is_string()) {
        const Expression expression = parseExpressionAt(valuesJson, path + ".Values");
        if (!expression.names().empty())
          failExpression(path + ".Values", expression,
                         fmt::format("a value list cannot read '{}'", expression.names().front()));
        auto evaluated = expression.evaluate({});
        if (!evaluated) fail(path + ".Values", evaluated.error().message());
        const auto* list = std::get_if<std::vector<ExpressionValue>>(&evaluated->value);
        if (list == nullptr)
          failExpression(path + ".Values", expression,
                         fmt::format("gives {}, not a list", evaluated->repr()));
        values = *list;
      } else {
        fail(path + ".Values", "expected a JSON list or a string holding a list expression");
      }
      if (values.empty()) fail(path + ".Values", "the parameter has no values");
      if (values.size() > kMaxParameterValues)
        fail(path + ".Values",
             fmt::format("{} values; a parameter takes at most {}", values.size(), kMaxParameterValues));

      TunableParameter parameter;
      parameter.name = name;
      std::vector<ExpressionValue> typed;
      for (std::size_t v = 0; v < values.size(); ++v) {
        parameter.values.push_back(convertValue(values[v], type, fmt::format("{}.Values[{}]", path, v)));
        typed.push_back(valueFromJson(parameter.values.back()));
      }
      if (const json* defaultJson = optional(entry, "Default")) {
        parameter.defaultValue = convertValue(valueFromJson(*defaultJson), type, path + ".Default");
        if (std::find(parameter.values.begin(), parameter.values.end(), parameter.defaultValue) ==
            parameter.values.end())
          fail(path + ".Default",
               fmt::format("{} is not one of the parameter's values", valueFromJson(*defaultJson).repr()));
      } else {
        parameter.defaultValue = parameter.values.front();
      }
      parameter.help = fmt::format("T1 parameter ({} values)", parameter.values.size());
      if (auto added = spec.space.addParameter(parameter); !added) fail(path, added.error().message());
      parameterIndex_[name] = i;
      typedValues_.push_back(std::move(typed));
    }
  }

  // ----- conditions, evaluated over the whole space once -----

  void readConditions(const json& space, TuneSpec& spec, const ExpressionScope& constants) {
    const json* conditions = optional(space, "Conditions");
    std::vector<std::pair<Expression, std::string>> expressions;
    if (conditions != nullptr) {
      if (!conditions->is_array()) fail("ConfigurationSpace.Conditions", "expected a list of conditions");
      for (std::size_t i = 0; i < conditions->size(); ++i) {
        const std::string path = fmt::format("ConfigurationSpace.Conditions[{}]", i);
        const json& entry = (*conditions)[i];
        const json* expressionJson = &entry;
        if (entry.is_object()) {
          expressionJson = &require(entry, "Expression", path);
          if (const json* listed = optional(entry, "Parameters")) {
            const auto names = stringListAt(*listed, path + ".Parameters");
            for (std::size_t n = 0; n < names.size(); ++n)
              if (!parameterIndex_.count(names[n]))
                fail(fmt::format("{}.Parameters[{}]", path, n),
                     fmt::format("'{}' is not a tuning parameter", names[n]));
          }
        }
        const std::string expressionPath = entry.is_object() ? path + ".Expression" : path;
        if (!expressionJson->is_string()) fail(expressionPath, "expected an expression (a string)");
        const Expression expression = parseExpressionAt(*expressionJson, expressionPath);
        checkNames(expression, expressionPath, constants);
        expressions.emplace_back(expression, expressionPath);
      }
    }

    const auto& parameters = spec.space.parameters();
    std::uint64_t total = 1;
    for (const auto& parameter : parameters) {
      total *= parameter.values.size();
      if (total > kMaxSpaceSize)
        fail("ConfigurationSpace.TuningParameters",
             fmt::format(
                 "more than {} configurations before the conditions; mirtune checks spaces up to that size",
                 kMaxSpaceSize));
    }

    std::vector<std::shared_ptr<const ConditionTable>> tables;
    for (const auto& [expression, path] : expressions) {
      tables.push_back(buildTable(expression, path, parameters, constants));
      spec.conditions.push_back(expression.text());
    }

    spec.validConfigurations = countValid(parameters, tables);
    if (spec.validConfigurations == 0)
      fail("ConfigurationSpace.Conditions",
           fmt::format("no configuration satisfies the conditions (the space has {} before them)", total));

    // The default must satisfy every condition.
    std::vector<std::size_t> defaultIndex;
    for (const auto& parameter : parameters)
      defaultIndex.push_back(static_cast<std::size_t>(
          std::find(parameter.values.begin(), parameter.values.end(), parameter.defaultValue) -
          parameter.values.begin()));
    for (std::size_t c = 0; c < tables.size(); ++c) {
      if (!allowedAt(*tables[c], defaultIndex))
        failExpression(expressions[c].second, expressions[c].first,
                       fmt::format("the default configuration ({}) violates this condition",
                                   configurationLabel(spec.space, spec.space.defaultConfiguration())));
    }

    for (std::size_t c = 0; c < tables.size(); ++c) {
      std::shared_ptr<const ConditionTable> table = tables[c];
      const std::vector<TunableParameter> conditionParameters = [&] {
        std::vector<TunableParameter> selected;
        for (std::size_t p : table->parameters) selected.push_back(parameters[p]);
        return selected;
      }();
      spec.space.addConstraint(Constraint{
          expressions[c].first.text(), [table, conditionParameters](const Configuration& configuration) {
            std::size_t index = 0;
            for (std::size_t k = 0; k < conditionParameters.size(); ++k) {
              const auto& parameter = conditionParameters[k];
              auto found = configuration.find(parameter.name);
              if (found == configuration.end()) return false;
              auto at = std::find(parameter.values.begin(), parameter.values.end(), *found);
              if (at == parameter.values.end()) return false;
              index += static_cast<std::size_t>(at - parameter.values.begin()) * table->strides[k];
            }
            return table->allowed[index] != 0;
          }});
    }
  }

  /// Evaluates a condition for every combination of the values of the parameters it reads.
  std::shared_ptr<const ConditionTable> buildTable(const Expression& expression, const std::string& path,
                                                   const std::vector<TunableParameter>& parameters,
                                                   const ExpressionScope& constants) const {
    auto table = std::make_shared<ConditionTable>();
    const auto names = expression.names();
    for (std::size_t p = 0; p < parameters.size(); ++p)
      if (std::binary_search(names.begin(), names.end(), parameters[p].name)) table->parameters.push_back(p);
    std::size_t combinations = 1;
    for (auto it = table->parameters.rbegin(); it != table->parameters.rend(); ++it) {
      table->strides.insert(table->strides.begin(), combinations);
      combinations *= parameters[*it].values.size();
    }
    if (combinations > kMaxConditionCombinations)
      failExpression(
          path, expression,
          fmt::format("reads parameters with {} combinations of values; mirtune evaluates a condition "
                      "over at most {} (split it into conditions over fewer parameters)",
                      combinations, kMaxConditionCombinations));
    table->allowed.assign(combinations, 0);

    ExpressionScope scope = constants;
    std::vector<ExpressionValue*> slots;
    for (std::size_t p : table->parameters) slots.push_back(&scope[parameters[p].name]);
    std::vector<std::size_t> index(table->parameters.size(), 0);
    for (std::size_t combination = 0; combination < combinations; ++combination) {
      // Odometer over the condition's parameters, last fastest, matching the strides.
      std::size_t rest = combination;
      for (std::size_t k = 0; k < index.size(); ++k) {
        index[k] = rest / table->strides[k];
        rest %= table->strides[k];
        *slots[k] = typedValues_[table->parameters[k]][index[k]];
      }
      auto result = expression.evaluate(scope);
      if (!result) {
        std::string label;
        for (std::size_t k = 0; k < index.size(); ++k)
          label +=
              fmt::format("{}{}={}", k ? " " : "", parameters[table->parameters[k]].name, slots[k]->repr());
        failExpression(path, expression,
                       fmt::format("cannot be evaluated for {}: {}", label, result.error().message()));
      }
      table->allowed[combination] = result->truthy() ? 1 : 0;
    }
    return table;
  }

  static bool allowedAt(const ConditionTable& table, const std::vector<std::size_t>& fullIndex) {
    std::size_t index = 0;
    for (std::size_t k = 0; k < table.parameters.size(); ++k)
      index += fullIndex[table.parameters[k]] * table.strides[k];
    return table.allowed[index] != 0;
  }

  static std::uint64_t countValid(const std::vector<TunableParameter>& parameters,
                                  const std::vector<std::shared_ptr<const ConditionTable>>& tables) {
    std::uint64_t total = 1;
    for (const auto& parameter : parameters) total *= parameter.values.size();
    if (tables.empty()) return total;
    // Only the parameters some condition reads need enumerating; the others multiply the count.
    std::vector<bool> read(parameters.size(), false);
    for (const auto& table : tables)
      for (std::size_t p : table->parameters) read[p] = true;
    std::vector<std::size_t> involved;
    std::uint64_t freeFactor = 1;
    for (std::size_t p = 0; p < parameters.size(); ++p) {
      if (read[p])
        involved.push_back(p);
      else
        freeFactor *= parameters[p].values.size();
    }
    std::vector<std::size_t> fullIndex(parameters.size(), 0);
    std::uint64_t count = 0;
    while (true) {
      bool allowed = true;
      for (const auto& table : tables) {
        if (!allowedAt(*table, fullIndex)) {
          allowed = false;
          break;
        }
      }
      if (allowed) ++count;
      std::size_t k = involved.size();
      while (k > 0) {
        --k;
        if (++fullIndex[involved[k]] < parameters[involved[k]].values.size()) break;
        fullIndex[involved[k]] = 0;
        if (k == 0) return count * freeFactor;
      }
      if (involved.empty()) return count * freeFactor;
    }
  }

  // ----- kernel specification -----

  std::vector<Expression> readGeometry(const json& kernel, const char* key,
                                       const ExpressionScope& constants) const {
    std::vector<Expression> out;
    const json* geometry = optional(kernel, key);
    if (geometry == nullptr) return out;
    const std::string path = std::string("KernelSpecification.") + key;
    if (!geometry->is_object()) fail(path, "expected an object {\"X\": ..., \"Y\": ..., \"Z\": ...}");
    checkKeys(*geometry, path, {"X", "Y", "Z"});
    const char* axes[] = {"X", "Y", "Z"};
    std::size_t dimensions = 0;
    for (std::size_t d = 0; d < 3; ++d)
      if (optional(*geometry, axes[d])) dimensions = d + 1;
    for (std::size_t d = 0; d < dimensions; ++d) {
      const json* value = optional(*geometry, axes[d]);
      if (value == nullptr) {
        out.push_back(Expression::constant(ExpressionValue{std::int64_t{1}}));
        continue;
      }
      Expression expression = parseExpressionAt(*value, path + "." + axes[d]);
      checkNames(expression, path + "." + axes[d], constants);
      out.push_back(std::move(expression));
    }
    return out;
  }

  KernelLaunch readKernel(const json& kernel, ExpressionScope& constants) const {
    KernelLaunch launch;
    const std::string path = "KernelSpecification";
    if (!kernel.is_object()) fail(path, "expected a JSON object");
    const std::string language = stringAt(require(kernel, "Language", path), path + ".Language");
    if (language == "OpenCL" || language == "opencl") {
      launch.language = "OpenCL";
    } else if (language == "CUDA" || language == "cuda") {
      launch.language = "CUDA";
    } else {
      fail(path + ".Language", fmt::format("'{}' is not supported (OpenCL, CUDA)", language));
    }
    const std::string kernelFile = stringAt(require(kernel, "KernelFile", path), path + ".KernelFile");
    launch.kernelFile = fs::path(kernelFile).is_absolute() ? fs::path(kernelFile) : folder_ / kernelFile;
    launch.kernelFile = launch.kernelFile.lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(launch.kernelFile, ec))
      fail(path + ".KernelFile", fmt::format("{} does not exist (a relative path is relative to the T1 file)",
                                             launch.kernelFile.string()));
    launch.kernelName = stringAt(require(kernel, "KernelName", path), path + ".KernelName");
    if (const json* options = optional(kernel, "CompilerOptions"))
      launch.compilerOptions = stringListAt(*options, path + ".CompilerOptions");

    if (const json* problem = optional(kernel, "ProblemSize")) {
      const json list = problem->is_array() ? *problem : json::array({*problem});
      if (list.empty() || list.size() > 3) fail(path + ".ProblemSize", "expected 1 to 3 sizes");
      std::vector<ExpressionValue> values;
      for (std::size_t d = 0; d < list.size(); ++d) {
        if (!list[d].is_number_integer() || list[d].get<std::int64_t>() < 1)
          fail(fmt::format("{}.ProblemSize[{}]", path, d),
               fmt::format("expected a positive integer, found {}", list[d].dump()));
        launch.problemSize.push_back(list[d].get<std::int64_t>());
        values.push_back(ExpressionValue{launch.problemSize.back()});
      }
      constants[kProblemSizeName] = ExpressionValue{values};
    }

    std::string sizeType = launch.language;
    if (const json* type = optional(kernel, "GlobalSizeType"))
      sizeType = stringAt(*type, path + ".GlobalSizeType");
    if (sizeType == "CUDA" || sizeType == "cuda") {
      launch.globalSizeInBlocks = true;
    } else if (sizeType != "OpenCL" && sizeType != "opencl") {
      fail(path + ".GlobalSizeType",
           fmt::format("'{}' is not supported (OpenCL: work-items, CUDA: blocks)", sizeType));
    }
    launch.globalSize = readGeometry(kernel, "GlobalSize", constants);
    launch.localSize = readGeometry(kernel, "LocalSize", constants);
    if (launch.globalSizeInBlocks && !launch.globalSize.empty() && launch.localSize.empty())
      fail(path + ".LocalSize", "required when GlobalSizeType is CUDA (the global size counts blocks)");
    if (launch.globalSize.empty() && launch.problemSize.empty())
      fail(path, "needs GlobalSize or ProblemSize to size the launch");

    const char* divKeys[] = {"GridDivX", "GridDivY", "GridDivZ"};
    for (std::size_t d = 0; d < 3; ++d) {
      const json* div = optional(kernel, divKeys[d]);
      if (div == nullptr) continue;
      const std::string divPath = path + "." + divKeys[d];
      // Entries are parameter names or expressions; plain numbers are taken as written.
      json entriesJson = div->is_array() ? *div : json::array({*div});
      for (auto& entry : entriesJson)
        if (entry.is_number()) entry = entry.dump();
      const auto entries = stringListAt(entriesJson, divPath);
      for (std::size_t e = 0; e < entries.size(); ++e) {
        const Expression expression = parseExpressionAt(json(entries[e]), fmt::format("{}[{}]", divPath, e));
        checkNames(expression, fmt::format("{}[{}]", divPath, e), constants);
      }
      launch.gridDiv.resize(d + 1);
      launch.gridDiv[d] = entries;
    }

    const json* arguments = optional(kernel, "Arguments");
    if (arguments == nullptr)
      fail(path + ".Arguments", "missing (required: the kernel's arguments in order)");
    if (!arguments->is_array()) fail(path + ".Arguments", "expected a list of arguments");
    ExpressionScope sizeScope = listScope(constants);
    for (std::size_t i = 0; i < arguments->size(); ++i)
      launch.arguments.push_back(
          readArgument((*arguments)[i], fmt::format("{}.Arguments[{}]", path, i), i, constants, sizeScope));
    return launch;
  }

  /// Argument sizes see each parameter as the list of its values (for max(p), min(p)) and the constants.
  ExpressionScope listScope(const ExpressionScope& constants) const {
    ExpressionScope scope = constants;
    for (const auto& [name, index] : parameterIndex_) scope[name] = ExpressionValue{typedValues_[index]};
    return scope;
  }

  TuneArgument readArgument(const json& entry, const std::string& path, std::size_t index,
                            const ExpressionScope& constants, const ExpressionScope& sizeScope) const {
    if (!entry.is_object()) fail(path, "expected a JSON object");
    TuneArgument argument;
    argument.name = fmt::format("arg{}", index);
    if (const json* name = optional(entry, "Name")) argument.name = stringAt(*name, path + ".Name");
    argument.type = stringAt(require(entry, "Type", path), path + ".Type");
    if (!elementTypeFor(argument.type))
      fail(path + ".Type",
           fmt::format("unknown element type '{}' (float, double, int32, uint32, int64, int8, ...)",
                       argument.type));
    argument.memoryType = "Vector";
    if (const json* memory = optional(entry, "MemoryType"))
      argument.memoryType = stringAt(*memory, path + ".MemoryType");
    if (argument.memoryType != "Vector" && argument.memoryType != "Scalar" && argument.memoryType != "Local")
      fail(path + ".MemoryType",
           fmt::format("'{}' is not supported (Vector, Scalar, Local)", argument.memoryType));
    argument.accessType = "ReadOnly";
    if (const json* access = optional(entry, "AccessType"))
      argument.accessType = stringAt(*access, path + ".AccessType");
    if (argument.accessType != "ReadOnly" && argument.accessType != "WriteOnly" &&
        argument.accessType != "ReadWrite")
      fail(path + ".AccessType",
           fmt::format("'{}' is not supported (ReadOnly, WriteOnly, ReadWrite)", argument.accessType));
    argument.fillType = "Constant";
    if (const json* fill = optional(entry, "FillType"))
      argument.fillType = stringAt(*fill, path + ".FillType");
    if (argument.fillType != "Constant" && argument.fillType != "Random" && argument.fillType != "Sequential")
      fail(path + ".FillType",
           fmt::format("'{}' is not supported (Constant, Random, Sequential); inputs read from "
                       "files or generators are not",
                       argument.fillType));
    if (const json* value = optional(entry, "FillValue"))
      argument.fillValue = numberAt(*value, path + ".FillValue");
    else if (argument.fillType == "Random")
      argument.fillValue = 1;
    if (const json* output = optional(entry, "Output")) {
      if (output->is_boolean())
        argument.output = output->get<bool>();
      else if (output->is_number_integer())
        argument.output = output->get<std::int64_t>() != 0;
      else
        fail(path + ".Output", fmt::format("expected 0, 1, true or false, found {}", output->dump()));
    }
    if (argument.memoryType == "Scalar") {
      argument.size = Expression::constant(ExpressionValue{std::int64_t{1}});
      return argument;
    }
    argument.size = parseExpressionAt(require(entry, "Size", path), path + ".Size");
    checkNames(argument.size, path + ".Size", constants);
    auto elements = evaluateSize(argument.size, sizeScope);
    if (!elements) failExpression(path + ".Size", argument.size, elements.error().message());
    return argument;
  }

 public:
  static std::optional<runner::ElementType> elementTypeFor(const std::string& name) {
    static const std::pair<const char*, runner::ElementType> kNames[] = {
        {"float32", runner::ElementType::kFloat}, {"float64", runner::ElementType::kDouble},
        {"int8", runner::ElementType::kChar},     {"uint8", runner::ElementType::kUchar},
        {"int16", runner::ElementType::kShort},   {"uint16", runner::ElementType::kUshort},
        {"int32", runner::ElementType::kInt},     {"uint32", runner::ElementType::kUint},
        {"int64", runner::ElementType::kLong},    {"uint64", runner::ElementType::kUlong},
    };
    for (const auto& [text, type] : kNames)
      if (name == text) return type;
    return runner::parseElementType(name);
  }

  /// A size: a non-negative integer (an integral float is accepted).
  static Expected<std::uint64_t> evaluateSize(const Expression& size, const ExpressionScope& scope) {
    auto value = size.evaluate(scope);
    if (!value) return value.error();
    if (const auto* integer = std::get_if<std::int64_t>(&value->value)) {
      if (*integer >= 0) return static_cast<std::uint64_t>(*integer);
    } else if (const auto* real = std::get_if<double>(&value->value)) {
      if (*real >= 0 && *real == std::floor(*real) && *real < 1.8e19)
        return static_cast<std::uint64_t>(*real);
    }
    return makeError(
        ErrorCode::kInvalidInput,
        "gives {}, not a non-negative integer (parameter names stand for the list of their values "
        "here, so write max(name) or min(name))",
        value->repr());
  }

 private:
  // ----- mirtune's own settings -----

  void readSettings(const json& settingsJson, TuneSpec& spec) {
    const std::string path = "mirtune";
    if (!settingsJson.is_object()) fail(path, "expected a JSON object");
    checkKeys(settingsJson, path,
              {"Tolerance", "Timeout", "BuildTimeout", "RelativeTimeout", "MinTime", "MinRepetitions",
               "MaxRepetitions", "Warmup", "Application"});
    TuneSettings& settings = spec.settings;
    if (const json* tolerance = optional(settingsJson, "Tolerance")) {
      if (!tolerance->is_object())
        fail(path + ".Tolerance", "expected {\"Relative\": ..., \"Absolute\": ...}");
      checkKeys(*tolerance, path + ".Tolerance", {"Relative", "Absolute"});
      if (const json* relative = optional(*tolerance, "Relative"))
        settings.tolerance.relative = positiveNumberAt(*relative, path + ".Tolerance.Relative", true);
      if (const json* absolute = optional(*tolerance, "Absolute"))
        settings.tolerance.absolute = positiveNumberAt(*absolute, path + ".Tolerance.Absolute", true);
    }
    if (const json* timeout = optional(settingsJson, "Timeout"))
      settings.timeoutSeconds = positiveNumberAt(*timeout, path + ".Timeout", false);
    if (const json* buildTimeout = optional(settingsJson, "BuildTimeout"))
      settings.buildTimeoutSeconds = positiveNumberAt(*buildTimeout, path + ".BuildTimeout", false);
    if (const json* relative = optional(settingsJson, "RelativeTimeout")) {
      settings.relativeTimeout = positiveNumberAt(*relative, path + ".RelativeTimeout", true);
      if (settings.relativeTimeout > 0 && settings.relativeTimeout < 1)
        fail(path + ".RelativeTimeout",
             fmt::format("{} would stop the default itself: give 0 (never) or at least 1", relative->dump()));
    }
    if (const json* minTime = optional(settingsJson, "MinTime"))
      settings.minTimeSeconds = positiveNumberAt(*minTime, path + ".MinTime", true);
    if (const json* minimum = optional(settingsJson, "MinRepetitions"))
      settings.minRepetitions = countAt(*minimum, path + ".MinRepetitions", 1);
    if (const json* maximum = optional(settingsJson, "MaxRepetitions"))
      settings.maxRepetitions = countAt(*maximum, path + ".MaxRepetitions", 1);
    if (settings.maxRepetitions < settings.minRepetitions)
      fail(path + ".MaxRepetitions",
           fmt::format("{} is below MinRepetitions ({})", settings.maxRepetitions, settings.minRepetitions));
    if (const json* warmup = optional(settingsJson, "Warmup"))
      settings.warmup = countAt(*warmup, path + ".Warmup", 0);

    if (const json* application = optional(settingsJson, "Application")) {
      const std::string appPath = path + ".Application";
      if (!application->is_object()) fail(appPath, "expected a JSON object");
      checkKeys(*application, appPath, {"Build", "Run", "Check", "Files", "OpenMP"});
      ApplicationCommands commands;
      commands.workingDirectory = folder_;
      if (const json* build = optional(*application, "Build")) {
        commands.buildTemplate = argvAt(*build, appPath + ".Build");
      }
      commands.runTemplate = argvAt(require(*application, "Run", appPath), appPath + ".Run");
      if (commands.runTemplate.empty()) fail(appPath + ".Run", "the run command is empty");
      if (const json* check = optional(*application, "Check")) {
        const std::string text = stringAt(*check, appPath + ".Check");
        if (text == "self-check-or-digest")
          commands.check = OutputCheck::kSelfCheckOrDigest;
        else if (text == "digest")
          commands.check = OutputCheck::kDigest;
        else if (text == "none")
          commands.check = OutputCheck::kNone;
        else
          fail(appPath + ".Check",
               fmt::format("'{}' is not one of self-check-or-digest, digest, none", text));
      }
      if (const json* files = optional(*application, "Files"))
        commands.files = filesAt(*files, appPath + ".Files");
      if (const json* openMp = optional(*application, "OpenMP"))
        commands.openMp = openMpAt(*openMp, appPath + ".OpenMP");
      spec.application = std::move(commands);
    }
  }

  /// Application.Files: {"name in the work folder": "path (relative to the T1 file's folder)", ...}.
  std::vector<ApplicationFile> filesAt(const json& value, const std::string& path) const {
    if (!value.is_object())
      fail(path, "expected {\"name in the work folder\": \"file, relative to the T1 file's folder\", ...}");
    std::vector<ApplicationFile> files;
    for (const auto& [name, source] : value.items()) {
      const std::string where = path + "." + name;
      const fs::path relative(name);
      const bool safe = !name.empty() && relative.is_relative() &&
                        std::none_of(relative.begin(), relative.end(),
                                     [](const fs::path& part) { return part == ".." || part == "."; });
      if (!safe || name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
        fail(where,
             "the name must be a plain file name (no folders): the file is copied into the work folder");
      ApplicationFile file;
      file.name = relative.lexically_normal().generic_string();
      const std::string written = stringAt(source, where);
      file.source = (folder_ / written).lexically_normal();
      if (givenFiles_ != nullptr && givenFiles_->count(written) != 0) {
        file.content = givenFiles_->at(written);
      } else {
        auto content = readFile(file.source);
        if (!content)
          fail(where,
               fmt::format("{}: cannot be read ({})", file.source.string(), content.error().message()));
        file.content = std::move(*content);
      }
      files.push_back(std::move(file));
    }
    return files;
  }

  /// Application.OpenMP: which parameters are OMP_NUM_THREADS and OMP_SCHEDULE's kind and chunk.
  OpenMpVariables openMpAt(const json& value, const std::string& path) const {
    if (!value.is_object()) fail(path, "expected {\"Threads\": name, \"Schedule\": name, \"Chunk\": name}");
    checkKeys(value, path, {"Threads", "Schedule", "Chunk"});
    OpenMpVariables variables;
    auto parameterAt = [&](const char* key, auto&& valid, const char* expected) {
      const json* name = optional(value, key);
      if (name == nullptr) return std::string();
      const std::string where = path + "." + key;
      const std::string text = stringAt(*name, where);
      auto found = parameterIndex_.find(text);
      if (found == parameterIndex_.end()) fail(where, fmt::format("'{}' names no tuning parameter", text));
      for (const ExpressionValue& parameterValue : typedValues_[found->second]) {
        if (!valid(parameterValue))
          fail(where, fmt::format("parameter '{}' has the value {}; {} expected", text, parameterValue.repr(),
                                  expected));
      }
      return text;
    };
    auto positiveInteger = [](const ExpressionValue& v) {
      const auto* integer = std::get_if<std::int64_t>(&v.value);
      return integer != nullptr && *integer > 0;
    };
    auto scheduleKind = [](const ExpressionValue& v) {
      const auto* text = std::get_if<std::string>(&v.value);
      return text != nullptr && !text->empty() && text->find(',') == std::string::npos;
    };
    auto chunkSize = [&](const ExpressionValue& v) {
      const auto* text = std::get_if<std::string>(&v.value);
      return positiveInteger(v) || (text != nullptr && *text == "default");
    };
    variables.threads = parameterAt("Threads", positiveInteger, "positive integers");
    variables.schedule =
        parameterAt("Schedule", scheduleKind, "schedule kinds (static, dynamic, guided, auto)");
    variables.chunk = parameterAt("Chunk", chunkSize, "positive integers or \"default\"");
    if (!variables.chunk.empty() && variables.schedule.empty())
      fail(path + ".Chunk", "a chunk size needs a Schedule parameter (OMP_SCHEDULE is kind[,chunk])");
    return variables;
  }

  /// An argv template; each {name} must name a parameter.
  std::vector<std::string> argvAt(const json& value, const std::string& path) const {
    if (!value.is_array()) fail(path, "expected a list of strings (the command's argv)");
    std::vector<std::string> argv = stringListAt(value, path);
    for (std::size_t i = 0; i < argv.size(); ++i) {
      for (const auto& name : placeholders(argv[i])) {
        if (!parameterIndex_.count(name))
          fail(fmt::format("{}[{}]", path, i),
               fmt::format("\"{}\": {{{}}} names no tuning parameter", argv[i], name));
      }
    }
    return argv;
  }

  fs::path file_;
  std::string label_;
  const json* given_ = nullptr;
  const std::map<std::string, std::string>* givenFiles_ = nullptr;
  fs::path folder_;
  std::map<std::string, std::size_t> parameterIndex_;
  std::vector<std::vector<ExpressionValue>> typedValues_;  ///< each parameter's values as expression values

 public:
  /// The {name} placeholders of an argv element (names that are identifiers only; other braces stay text).
  static std::vector<std::string> placeholders(const std::string& text) {
    std::vector<std::string> names;
    for (std::size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
      const std::size_t close = text.find('}', open + 1);
      if (close == std::string::npos) break;
      const std::string name = text.substr(open + 1, close - open - 1);
      if (isIdentifier(name)) names.push_back(name);
    }
    return names;
  }

 private:
  TuneSpec interpret(const json& root) {
    TuneSpec spec;
    spec.file = fs::absolute(file_).lexically_normal();
    folder_ = spec.file.parent_path();
    spec.name = file_.stem().string();
    if (const json* general = optional(root, "General")) {
      if (const json* name = optional(*general, "BenchmarkName"))
        spec.name = stringAt(*name, "General.BenchmarkName");
    }
    const json& space = require(root, "ConfigurationSpace", "");
    if (!space.is_object()) fail("ConfigurationSpace", "expected a JSON object");
    readParameters(space, spec);

    if (const json* settings = optional(root, "mirtune")) readSettings(*settings, spec);
    ExpressionScope constants;
    const json* kernel = optional(root, "KernelSpecification");
    if (kernel != nullptr && spec.application)
      fail("mirtune.Application",
           "a file tunes either a kernel (KernelSpecification) or an application, not both");
    if (kernel == nullptr && !spec.application)
      fail("KernelSpecification", "missing (required unless mirtune.Application describes an application)");
    if (kernel != nullptr) spec.kernel = readKernel(*kernel, constants);

    readConditions(space, spec, constants);
    return spec;
  }
};

Error specError(const TuneSpec& spec, const std::string& what) {
  return makeError(ErrorCode::kInvalidInput, "{}: {}", spec.file.string(), what);
}

/// A positive launch dimension from an expression.
Expected<std::uint64_t> launchDimension(const Expression& expression, const ExpressionScope& scope) {
  auto value = expression.evaluate(scope);
  if (!value) return value.error();
  if (const auto* integer = std::get_if<std::int64_t>(&value->value)) {
    if (*integer > 0) return static_cast<std::uint64_t>(*integer);
  } else if (const auto* real = std::get_if<double>(&value->value)) {
    if (*real >= 1 && *real == std::floor(*real) && *real < 1.8e19) return static_cast<std::uint64_t>(*real);
  }
  return makeError(ErrorCode::kInvalidInput, "\"{}\" gives {}, not a positive integer", expression.text(),
                   value->repr());
}

}  // namespace

Expected<TuneSpec> readTuneSpec(const std::filesystem::path& file) {
  return SpecReader(file).read();
}

Expected<TuneSpec> parseTuneSpec(const nlohmann::json& root, const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& files) {
  return SpecReader(file, root, files).read();
}

std::map<std::string, std::string> openMpEnvironment(const OpenMpVariables& variables,
                                                     const Configuration& configuration) {
  std::map<std::string, std::string> environment = {{"OMP_DYNAMIC", "false"}};
  auto valueOf = [&](const std::string& name) -> const json* {
    if (name.empty()) return nullptr;
    auto found = configuration.find(name);
    return found == configuration.end() ? nullptr : &*found;
  };
  if (const json* threads = valueOf(variables.threads)) environment["OMP_NUM_THREADS"] = valueText(*threads);
  if (const json* schedule = valueOf(variables.schedule)) {
    std::string value = valueText(*schedule);
    const json* chunk = valueOf(variables.chunk);
    if (chunk != nullptr && !(chunk->is_string() && chunk->get<std::string>() == "default"))
      value += "," + valueText(*chunk);
    environment["OMP_SCHEDULE"] = value;
  }
  return environment;
}

ExpressionScope configurationScope(const TuneSpec& spec, const Configuration& configuration) {
  ExpressionScope scope;
  for (const auto& parameter : spec.space.parameters()) {
    auto found = configuration.find(parameter.name);
    if (found != configuration.end()) scope[parameter.name] = valueFromJson(*found);
  }
  return scope;
}

Expected<runner::RunPlan> buildRunPlan(const TuneSpec& spec, const Configuration& configuration) {
  if (!spec.kernel) return specError(spec, "tunes an application (mirtune.Application), not a kernel launch");
  const KernelLaunch& launch = *spec.kernel;
  if (launch.language != "OpenCL")
    return specError(spec,
                     fmt::format("KernelSpecification.Language: {} kernels cannot be run yet (OpenCL only)",
                                 launch.language));
  if (auto valid = spec.space.validate(configuration); !valid)
    return specError(spec, valid.error().message());

  ExpressionScope scope = configurationScope(spec, configuration);
  std::vector<ExpressionValue> problemValues;
  for (std::int64_t size : launch.problemSize) problemValues.push_back(ExpressionValue{size});
  if (!launch.problemSize.empty()) scope[kProblemSizeName] = ExpressionValue{problemValues};
  const std::string label = configurationLabel(spec.space, configuration);
  auto inConfiguration = [&](const std::string& key, const Error& error) {
    return specError(spec, fmt::format("{} for {}: {}", key, label, error.message()));
  };

  runner::RunPlan plan;
  plan.source = launch.kernelFile.string();
  plan.kernel = launch.kernelName;
  std::string options;
  for (const auto& option : launch.compilerOptions) options += (options.empty() ? "" : " ") + option;
  for (const auto& parameter : spec.space.parameters())
    options += fmt::format("{}-D{}={}", options.empty() ? "" : " ", parameter.name,
                           valueText(configuration.at(parameter.name)));
  plan.buildOptions = options;

  const char* axes[] = {"X", "Y", "Z"};
  std::vector<std::uint64_t> local;
  for (std::size_t d = 0; d < launch.localSize.size(); ++d) {
    auto value = launchDimension(launch.localSize[d], scope);
    if (!value)
      return inConfiguration(fmt::format("KernelSpecification.LocalSize.{}", axes[d]), value.error());
    local.push_back(*value);
  }
  std::vector<std::uint64_t> global;
  if (!launch.globalSize.empty()) {
    for (std::size_t d = 0; d < launch.globalSize.size(); ++d) {
      auto value = launchDimension(launch.globalSize[d], scope);
      if (!value)
        return inConfiguration(fmt::format("KernelSpecification.GlobalSize.{}", axes[d]), value.error());
      global.push_back(*value);
    }
    const std::size_t dimensions = std::max(global.size(), local.size());
    global.resize(dimensions, 1);
    if (launch.globalSizeInBlocks) {
      local.resize(dimensions, 1);
      for (std::size_t d = 0; d < dimensions; ++d) global[d] *= local[d];
    }
  } else {
    const std::size_t dimensions = std::max({launch.problemSize.size(), local.size(), launch.gridDiv.size()});
    for (std::size_t d = 0; d < dimensions; ++d) {
      const std::uint64_t problem =
          d < launch.problemSize.size() ? static_cast<std::uint64_t>(launch.problemSize[d]) : 1;
      const std::uint64_t localSize = d < local.size() ? local[d] : 1;
      std::uint64_t divisor = localSize;
      if (d < launch.gridDiv.size() && !launch.gridDiv[d].empty()) {
        divisor = 1;
        for (std::size_t e = 0; e < launch.gridDiv[d].size(); ++e) {
          auto expression = Expression::parse(launch.gridDiv[d][e]);
          if (!expression)
            return inConfiguration(fmt::format("KernelSpecification.GridDiv{}", axes[d]), expression.error());
          auto value = launchDimension(*expression, scope);
          if (!value)
            return inConfiguration(fmt::format("KernelSpecification.GridDiv{}[{}]", axes[d], e),
                                   value.error());
          divisor *= *value;
        }
      }
      const std::uint64_t blocks = (problem + divisor - 1) / divisor;
      global.push_back(blocks * localSize);
    }
  }
  if (!local.empty()) {
    local.resize(global.size(), 1);
    if (local.size() > global.size()) global.resize(local.size(), 1);
    for (std::size_t d = 0; d < global.size(); ++d) {
      if (global[d] % local[d] != 0)
        return specError(
            spec, fmt::format("for {}: the local size {} does not divide the global size {} in {}", label,
                              local[d], global[d], axes[d]));
    }
  }
  if (global.empty() || global.size() > 3)
    return specError(spec,
                     fmt::format("for {}: the launch has {} dimensions (1 to 3)", label, global.size()));
  plan.globalSize = global;
  plan.localSize = local;

  ExpressionScope sizeScope;
  for (std::size_t p = 0; p < spec.space.parameters().size(); ++p) {
    const auto& parameter = spec.space.parameters()[p];
    std::vector<ExpressionValue> values;
    for (const auto& value : parameter.values) values.push_back(valueFromJson(value));
    sizeScope[parameter.name] = ExpressionValue{values};
  }
  if (!launch.problemSize.empty()) sizeScope[kProblemSizeName] = ExpressionValue{problemValues};

  for (std::size_t i = 0; i < launch.arguments.size(); ++i) {
    const TuneArgument& argument = launch.arguments[i];
    const std::string key = fmt::format("KernelSpecification.Arguments[{}]", i);
    runner::ArgSpec arg;
    arg.name = argument.name;
    auto type = SpecReader::elementTypeFor(argument.type);
    if (!type) return specError(spec, fmt::format("{}.Type: unknown element type '{}'", key, argument.type));
    arg.type = *type;
    const bool isFloat = runner::elementTypeInfo(arg.type).isFloat;
    if (argument.memoryType == "Scalar") {
      arg.kind = runner::ArgKind::kScalar;
      arg.scalarValue = argument.fillValue;
      arg.scalarInt = static_cast<std::int64_t>(argument.fillValue);
      plan.args.push_back(arg);
      continue;
    }
    auto elements = SpecReader::evaluateSize(argument.size, sizeScope);
    if (!elements)
      return specError(
          spec, fmt::format("{}.Size \"{}\": {}", key, argument.size.text(), elements.error().message()));
    arg.elements = *elements;
    if (argument.memoryType == "Local") {
      arg.kind = runner::ArgKind::kLocal;
      plan.args.push_back(arg);
      continue;
    }
    arg.kind = runner::ArgKind::kBuffer;
    if (argument.output) {
      arg.role = argument.accessType == "ReadWrite" ? runner::ArgRole::kInOut : runner::ArgRole::kOut;
    } else if (argument.accessType == "WriteOnly") {
      arg.role = runner::ArgRole::kOut;
    } else if (argument.accessType == "ReadWrite") {
      arg.role = runner::ArgRole::kInOut;
    } else {
      arg.role = runner::ArgRole::kIn;
    }
    if (argument.fillType == "Random") {
      arg.generator.kind = runner::GeneratorKind::kUniform;
      arg.generator.lo = 0;
      // Floats: [0, FillValue); integers: 0 .. FillValue - 1 (the generator's upper end is inclusive for
      // them).
      arg.generator.hi = isFloat ? argument.fillValue : std::max(0.0, std::ceil(argument.fillValue) - 1);
      arg.generator.seed = i + 1;
    } else if (argument.fillType == "Sequential") {
      arg.generator.kind = runner::GeneratorKind::kRamp;
      arg.generator.lo = 0;
      arg.generator.step = 1;
    } else {
      arg.generator.kind = runner::GeneratorKind::kConstant;
      arg.generator.value = argument.fillValue;
    }
    plan.args.push_back(arg);
  }

  plan.warmup = spec.settings.warmup;
  plan.minTimeSeconds = spec.settings.minTimeSeconds;
  plan.minRepetitions = spec.settings.minRepetitions;
  plan.maxRepetitions = spec.settings.maxRepetitions;
  plan.timeoutSeconds = spec.settings.timeoutSeconds;
  return plan;
}

Expected<CandidateCommands> buildApplicationCommands(const TuneSpec& spec,
                                                     const Configuration& configuration) {
  if (!spec.application) return specError(spec, "tunes a kernel (KernelSpecification), not an application");
  if (auto valid = spec.space.validate(configuration); !valid)
    return specError(spec, valid.error().message());
  const std::string folder = spec.file.parent_path().string();
  auto substitute = [&](const std::string& element) {
    std::string out;
    std::size_t position = 0;
    while (position < element.size()) {
      if (element.compare(position, std::strlen(kSpecDirectoryPlaceholder), kSpecDirectoryPlaceholder) == 0) {
        out += folder;
        position += std::strlen(kSpecDirectoryPlaceholder);
        continue;
      }
      if (element[position] == '{') {
        const std::size_t close = element.find('}', position + 1);
        if (close != std::string::npos) {
          const std::string name = element.substr(position + 1, close - position - 1);
          auto found = configuration.find(name);
          if (isIdentifier(name) && found != configuration.end()) {
            out += valueText(*found);
            position = close + 1;
            continue;
          }
        }
      }
      out += element[position++];
    }
    return out;
  };
  CandidateCommands commands;
  for (const auto& element : spec.application->buildTemplate)
    commands.buildArgv.push_back(substitute(element));
  for (const auto& element : spec.application->runTemplate) commands.runArgv.push_back(substitute(element));
  if (spec.application->openMp)
    commands.runEnvironment = openMpEnvironment(*spec.application->openMp, configuration);
  if (!commands.buildArgv.empty()) {
    std::string joined;
    for (const auto& element : commands.buildArgv) joined += element + '\0';
    commands.buildKey = sha256Hex(joined);
  }
  return commands;
}

}  // namespace mirtune::tune
