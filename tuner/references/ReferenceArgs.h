// What a CPU reference sees: the plan's arguments with the same seeded initial contents the runner generates.
// It depends only on the runner's plan format, so the references need nothing from the rest of the tuner.
#pragma once

#include "tuner/runner/RunPlan.h"
#include "support/Error.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace mirtune {

/// The host copy of a plan's arguments. `buffers[i]` holds argument i's initial contents (its generator's
/// output) when i is a buffer and is empty otherwise. A reference overwrites the out/inout buffers with what
/// the kernel should leave there after one launch.
struct ReferenceArgs {
  const runner::RunPlan* plan = nullptr;
  std::vector<runner::HostArray> buffers;

  /// Argument i's elements as T (T must match the argument's element type).
  template <typename T>
  T* buffer(std::size_t i) {
    return buffers.at(i).as<T>();
  }
  std::uint64_t elements(std::size_t i) const { return plan->args.at(i).elements; }
  /// Scalar argument i as an integer, or as a floating-point value.
  std::int64_t intScalar(std::size_t i) const { return plan->args.at(i).scalarInt; }
  double floatScalar(std::size_t i) const { return plan->args.at(i).scalarValue; }
  std::uint64_t globalSize(std::size_t dim) const { return plan->globalSize.at(dim); }
  std::uint64_t localSize(std::size_t dim) const { return plan->localSize.at(dim); }
};

/// Fills the expected out/inout buffers in place; an Error when the plan is not one the reference knows.
using ReferenceFunction = std::function<Status(ReferenceArgs&)>;

/// The arguments of `plan` with their generated initial contents (what the runner uploads).
ReferenceArgs makeReferenceArgs(const runner::RunPlan& plan);

}  // namespace mirtune
