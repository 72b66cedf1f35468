// The head candidates a task's train and eval choose among (by kind or from a JSON list), and the threads the
// encoder and the heads use.
#pragma once

#include "support/Error.h"
#include "tasks/common/Head.h"

#include <string>
#include <vector>

namespace mirtune {

/// Candidates of a head kind: auto (every kind), xgboost or mlp; or, when `candidatesFile` is not empty,
/// those the JSON file lists ([{"kind": ..., "params": {...}}, ...]). XGBoost candidates get `threads`
/// threads. kUsage for an unknown kind, kInvalidInput naming the file for a bad list.
Expected<std::vector<heads::Candidate>> headCandidates(const std::string& kind, int threads,
                                                       const std::string& candidatesFile = {});

/// Threads of the encoder's forward passes and of LibTorch in the MLP heads.
void configureThreads(int threads);

}  // namespace mirtune
