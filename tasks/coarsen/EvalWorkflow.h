// `coarsen eval` as one library call: leave-one-kernel-out over the PACT'14 coarsening data set with the
// classifier heads or the curve methods, ready for the reports of tasks/coarsen/Reports.h.
#pragma once

#include "support/Error.h"
#include "tasks/coarsen/CoarsenData.h"
#include "tasks/coarsen/CoarsenEvaluate.h"

#include <cstddef>
#include <string>
#include <vector>

namespace mirtune::coarsen {

/// What to evaluate: the embedding, the heads and the protocol's folds.
struct EvaluationRequest {
  std::string platform = "all";  ///< cypress, tahiti, fermi, kepler or all
  std::string features =
      "fused";                   ///< fused, tokens, graph (an encoder modality) or ir2vec (symbolic vectors)
  std::string ir2vecVocabulary;  ///< with ir2vec: vocabulary file or folder; empty: defaultIr2VecDirectory()
  std::string form = "factor";
  std::string pooling = "pooled";
  std::string ir = "source";
  std::string headKind = "auto";  ///< auto, xgboost or mlp
  std::string candidates;         ///< JSON file of head candidates instead of headKind's grid
  std::string data;               ///< empty: defaultCoarsenDirectory()
  std::string encoder;            ///< empty: the shipped encoder
  /// classifier, prior, knn, regression, factor-head or auto; empty: kDefaultCoarsenMethod, or classifier
  /// when `candidates` lists only classifier heads.
  std::string method;
  bool magni = false;  ///< append Magni et al.'s PCA1..PCA7 to the embedding
  bool noCache = false;
  int threads = 2;
  int innerFolds = 4;
  unsigned seed = 204;
  std::string databasePath;  ///< the embedding cache
};

/// The evaluation with what its reports name.
struct EvaluationReport {
  EvaluationRequest request;  ///< as given, with the method resolved
  CoarsenData data;
  std::vector<std::size_t> platforms;  ///< kPlatforms indices, in the order of result's rows
  EvalResult result;
  std::vector<std::string> heldOutTogether;  ///< "a + b" per program that several kernels share
  std::size_t kernelsUsingLlFile = 0;        ///< kernels embedded from the data set's .ll
  std::string encoderId;
};

/// Loads the data set, embeds its kernels and cross-validates; kUsage for an unknown option value.
Expected<EvaluationReport> evaluate(const EvaluationRequest& request);

}  // namespace mirtune::coarsen
