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

/// Heads fitted on a few dozen rows (the local heads of this machine's measurements): one thread per fit, for
/// LibTorch's MLPs and XGBoost's `nthread` alike; it is the fastest, and more only spin against each other.
void useOneThreadPerFit(std::vector<heads::Candidate>& candidates);

}  // namespace mirtune
