// The coarsening heads `coarsen --run` asks for the factor to measure first (src/cli only).
#pragma once

#include "cli/CoarsenOptions.h"
#include "embeddings/Encoder.h"
#include "tasks/coarsen/CoarsenModel.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace mirtune::cli {

/// The heads that predict the factor to try first, and how devices map onto their platform inputs.
struct Predictor {
  std::unique_ptr<Encoder> encoder;
  coarsen::CoarsenModel model;
  std::string modelId;
  bool local = false;
  std::size_t platform = 0;  ///< shipped heads: the kPlatforms index
  nlohmann::json headData;   ///< local heads: the manifest entry naming the device slots
};

/// The encoder and the heads of --heads/--platform (shipped heads, or local ones beside the database).
Expected<std::unique_ptr<Predictor>> openPredictor(const CoarsenPredictOptions& options,
                                                   const GlobalOptions& global);

}  // namespace mirtune::cli
