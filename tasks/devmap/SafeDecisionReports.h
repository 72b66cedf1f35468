// What `mirtune devmap FILE` prints for its answers: each with the probability it rests on, the kernel's
// novelty, the expected speedup and which policy answered (the fallback when the kernel is novel).
#pragma once

#include "tasks/devmap/Predict.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mirtune::devmap {

/// The answered predictions (failed ones left out) as a JSON list of {file, kernel, device, probability (of
/// the chosen device, calibrated where the heads carry a calibration), gpu_probability, raw_gpu_probability,
/// calibrated, novelty, expected_speedup, fallback, policy, platform, transfer, wgsize}. Heads without
/// calibration give null novelty and expected_speedup and a "safety" line saying so.
nlohmann::json safePredictionsJson(const std::vector<KernelPrediction>& predictions,
                                   const std::string& platform);

/// One line "FILE  KERNEL  DEVICE  probability P" per answered prediction, followed by "  novelty N  expected
/// speedup S" where the heads decide safely and "  fallback: POLICY" where the fallback answered.
std::string safePredictionsText(const std::vector<KernelPrediction>& predictions);

}  // namespace mirtune::devmap
