// Kernel manifests: N-expressions evaluated into runner plans, paired with their CPU references.
#include "tuner/KernelManifest.h"

#include "support/Files.h"
#include "support/Log.h"
#include "tuner/references/References.h"

#include <algorithm>
#include <cctype>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

/// Recursive descent over + - * / % and parentheses, integers and N.
class SizeExpressionParser {
 public:
  SizeExpressionParser(std::string_view text, std::int64_t n) : text_(text), n_(n) {}

  Expected<std::int64_t> parse() {
    std::int64_t value = expression();
    skipSpaces();
    if (error_.empty() && position_ != text_.size()) error_ = "unexpected character";
    if (!error_.empty()) {
      return makeError(ErrorCode::kInvalidInput, "size expression '{}': {} at offset {}", text_, error_,
                       position_);
    }
    return value;
  }

 private:
  void skipSpaces() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_])))
      ++position_;
  }
  bool accept(char c) {
    skipSpaces();
    if (position_ < text_.size() && text_[position_] == c) {
      ++position_;
      return true;
    }
    return false;
  }
  std::int64_t expression() {
    std::int64_t value = term();
    while (error_.empty()) {
      if (accept('+')) {
        value += term();
      } else if (accept('-')) {
        value -= term();
      } else {
        break;
      }
    }
    return value;
  }
  std::int64_t term() {
    std::int64_t value = factor();
    while (error_.empty()) {
      char op = 0;
      for (char candidate : {'*', '/', '%'}) {
        if (accept(candidate)) {
          op = candidate;
          break;
        }
      }
      if (op == 0) break;
      std::int64_t right = factor();
      if (op == '*') {
        value *= right;
      } else if (right == 0) {
        error_ = "division by zero";
      } else {
        value = op == '/' ? value / right : value % right;
      }
    }
    return value;
  }
  std::int64_t factor() {
    skipSpaces();
    if (accept('(')) {
      std::int64_t value = expression();
      if (!accept(')')) error_ = "missing ')'";
      return value;
    }
    if (accept('-')) return -factor();
    if (position_ < text_.size() && text_[position_] == 'N') {
      ++position_;
      return n_;
    }
    std::int64_t value = 0;
    const std::size_t start = position_;
    while (position_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[position_]))) {
      value = value * 10 + (text_[position_] - '0');
      ++position_;
    }
    if (position_ == start && error_.empty()) error_ = "expected a number, N or '('";
    return value;
  }

  std::string_view text_;
  std::int64_t n_;
  std::size_t position_ = 0;
  std::string error_;
};

/// Replaces a string expression at json[key] by its value.
Status evaluateKey(nlohmann::json& json, const char* key, std::int64_t n, const std::string& where) {
  if (!json.contains(key) || !json[key].is_string()) return success();
  auto value = evaluateSizeExpression(json[key].get<std::string>(), n);
  if (!value) return value.error().withContext(where + "." + key);
  json[key] = *value;
  return success();
}

Expected<nlohmann::json> instantiate(const KernelManifest& manifest, std::int64_t n) {
  nlohmann::json plan = manifest.plan;
  const std::string where = manifest.path.string();
  for (const char* key : {"global_size", "local_size"}) {
    if (!plan.contains(key) || !plan[key].is_array()) continue;
    for (auto& item : plan[key]) {
      if (!item.is_string()) continue;
      auto value = evaluateSizeExpression(item.get<std::string>(), n);
      if (!value) return value.error().withContext(where + ": " + key);
      item = *value;
    }
  }
  if (plan.contains("args") && plan["args"].is_array()) {
    for (std::size_t i = 0; i < plan["args"].size(); ++i) {
      auto& arg = plan["args"][i];
      const std::string argWhere = fmt::format("{}: args[{}]", where, i);
      for (const char* key : {"elements", "bytes", "value"}) {
        if (Status evaluated = evaluateKey(arg, key, n, argWhere); !evaluated) return evaluated.error();
      }
      if (arg.contains("generator") && arg["generator"].is_object()) {
        for (const char* key : {"lo", "hi", "step", "value"}) {
          if (Status evaluated = evaluateKey(arg["generator"], key, n, argWhere + ".generator"); !evaluated) {
            return evaluated.error();
          }
        }
      }
    }
  }
  plan["source"] = manifest.source.string();
  return plan;
}

}  // namespace

Expected<std::int64_t> evaluateSizeExpression(std::string_view expression, std::int64_t n) {
  return SizeExpressionParser(expression, n).parse();
}

Expected<runner::RunPlan> makeRunPlan(const KernelManifest& manifest, std::int64_t n) {
  auto json = instantiate(manifest, n);
  if (!json) return json.error();
  runner::RunPlan plan;
  std::string error;
  if (!runner::parseRunPlan(*json, plan, error)) {
    return makeError(ErrorCode::kInvalidInput, "{} at N={}: {}", manifest.path.string(), n, error);
  }
  return plan;
}

Expected<OpenClRunRequest> makeRunRequest(const KernelManifest& manifest, std::int64_t n) {
  auto plan = makeRunPlan(manifest, n);
  if (!plan) return plan.error();
  const ReferenceFunction* reference = findReference(manifest.reference);
  if (reference == nullptr) {
    return makeError(ErrorCode::kInvalidInput, "{}: no CPU reference named '{}'", manifest.path.string(),
                     manifest.reference);
  }
  OpenClRunRequest request;
  request.plan = std::move(*plan);
  request.reference = *reference;
  request.referenceName = manifest.reference;
  request.tolerance = manifest.tolerance;
  return request;
}

Expected<KernelManifest> loadKernelManifestFields(const fs::path& path);

Expected<KernelManifest> loadKernelManifest(const fs::path& path) {
  return readingJsonFrom(path, [&]() -> Expected<KernelManifest> { return loadKernelManifestFields(path); });
}

Expected<KernelManifest> loadKernelManifestFields(const fs::path& path) {
  auto json = readJsonObject(path);
  if (!json) return json.error();
  KernelManifest manifest;
  manifest.path = path;
  const std::string where = path.string();
  for (const char* key : {"name", "source", "kernel", "reference"}) {
    if (!json->contains(key) || !(*json)[key].is_string()) {
      return makeError(ErrorCode::kInvalidInput, "{}: needs a string '{}'", where, key);
    }
  }
  manifest.name = (*json)["name"].get<std::string>();
  manifest.description = json->value("description", "");
  manifest.kernel = (*json)["kernel"].get<std::string>();
  manifest.reference = (*json)["reference"].get<std::string>();
  fs::path source = (*json)["source"].get<std::string>();
  manifest.source = source.is_absolute() ? source : fs::absolute(path).parent_path() / source;
  if (!fs::exists(manifest.source)) {
    return makeError(ErrorCode::kNotFound, "{}: source '{}' does not exist", where, manifest.source.string());
  }
  if (!json->contains("sizes") || !(*json)["sizes"].is_array() || (*json)["sizes"].empty()) {
    return makeError(ErrorCode::kInvalidInput, "{}: needs a non-empty array 'sizes' (values of N)", where);
  }
  for (const auto& size : (*json)["sizes"]) {
    if (!size.is_number_integer() || size.get<std::int64_t>() <= 0) {
      return makeError(ErrorCode::kInvalidInput, "{}: 'sizes' must hold positive integers", where);
    }
    manifest.sizes.push_back(size.get<std::int64_t>());
  }
  if (json->contains("tolerance")) {
    manifest.tolerance.relative = (*json)["tolerance"].value("relative", manifest.tolerance.relative);
    manifest.tolerance.absolute = (*json)["tolerance"].value("absolute", manifest.tolerance.absolute);
  }
  manifest.plan = *json;
  for (const char* key : {"name", "description", "sizes", "reference", "tolerance"}) manifest.plan.erase(key);
  if (findReference(manifest.reference) == nullptr) {
    return makeError(ErrorCode::kInvalidInput, "{}: no CPU reference named '{}'", where, manifest.reference);
  }
  for (std::int64_t n : manifest.sizes) {
    auto plan = makeRunPlan(manifest, n);
    if (!plan) return plan.error();
  }
  return manifest;
}

Expected<std::vector<KernelManifest>> loadKernelSuite(const fs::path& directory) {
  std::vector<fs::path> paths;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  if (error)
    return makeError(ErrorCode::kNotFound, "{}: cannot list: {}", directory.string(), error.message());
  std::sort(paths.begin(), paths.end());
  std::vector<KernelManifest> suite;
  for (const auto& path : paths) {
    auto manifest = loadKernelManifest(path);
    if (!manifest) return manifest.error();
    suite.push_back(std::move(*manifest));
  }
  return suite;
}

fs::path kernelSuiteDirectory() {
  return sourceDirectory() / "kernels" / "opencl";
}

std::vector<std::pair<const KernelManifest*, std::int64_t>> selectManifestSizes(
    const std::vector<KernelManifest>& suite, const std::vector<std::size_t>& indices) {
  std::vector<std::pair<const KernelManifest*, std::int64_t>> work;
  for (const KernelManifest& manifest : suite) {
    if (indices.empty()) {
      for (std::int64_t n : manifest.sizes) work.emplace_back(&manifest, n);
      continue;
    }
    for (std::size_t index : indices) {
      if (index < manifest.sizes.size()) {
        work.emplace_back(&manifest, manifest.sizes[index]);
      } else {
        logWarn("{}: no size index {} (it has {} sizes); skipped", manifest.name, index, manifest.sizes.size());
      }
    }
  }
  return work;
}

}  // namespace mirtune
