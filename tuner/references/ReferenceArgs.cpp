// The host copy of a plan's arguments, generated as the runner generates them.
#include "tuner/references/ReferenceArgs.h"

namespace mirtune {

ReferenceArgs makeReferenceArgs(const runner::RunPlan& plan) {
  ReferenceArgs args;
  args.plan = &plan;
  args.buffers.resize(plan.args.size());
  for (std::size_t i = 0; i < plan.args.size(); ++i) {
    if (plan.args[i].kind == runner::ArgKind::kBuffer) args.buffers[i] = runner::generateBuffer(plan.args[i]);
  }
  return args;
}

}  // namespace mirtune
