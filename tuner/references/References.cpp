// The reference table: one row per name a kernel manifest may give as "reference".
#include "tuner/references/References.h"

#include "tuner/references/ReferenceKernels.h"

#include <algorithm>
#include <array>
#include <utility>

namespace mirtune {

namespace {

using ReferencePointer = Status (*)(ReferenceArgs&);

constexpr std::array<std::pair<std::string_view, ReferencePointer>, 15> kReferences = {{
    {"vector_add", references::vectorAdd},
    {"saxpy", references::saxpy},
    {"dot_product", references::dotProduct},
    {"matmul", references::matmul},
    {"transpose", references::transpose},
    {"sgemv", references::sgemv},
    {"vector_normalize", references::vectorNormalize},
    {"stencil2d", references::stencil2d},
    {"stencil3d", references::stencil3d},
    {"convolution2d", references::convolution2d},
    {"sobel", references::sobel},
    {"histogram", references::histogram},
    {"nbody", references::nbody},
    {"black_scholes", references::blackScholes},
    {"prefix_sum", references::prefixSum},
}};

const std::vector<std::pair<std::string, ReferenceFunction>>& table() {
  static const auto* functions = [] {
    auto* list = new std::vector<std::pair<std::string, ReferenceFunction>>();
    for (const auto& [name, function] : kReferences) list->emplace_back(std::string(name), function);
    return list;
  }();
  return *functions;
}

}  // namespace

const ReferenceFunction* findReference(std::string_view name) {
  for (const auto& [entryName, function] : table()) {
    if (entryName == name) return &function;
  }
  return nullptr;
}

std::vector<std::string> referenceNames() {
  std::vector<std::string> names;
  for (const auto& [name, function] : kReferences) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

namespace references {

Status expectArgs(const ReferenceArgs& args, std::size_t count, const char* reference) {
  if (args.plan == nullptr || args.plan->args.size() != count) {
    return makeError(ErrorCode::kInvalidInput, "reference '{}' expects {} kernel arguments, the plan has {}",
                     reference, count, args.plan == nullptr ? 0 : args.plan->args.size());
  }
  return success();
}

}  // namespace references

}  // namespace mirtune
