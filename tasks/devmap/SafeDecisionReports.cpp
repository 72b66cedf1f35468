// JSON and text of safely decided device predictions.
#include "tasks/devmap/SafeDecisionReports.h"

#include "tasks/devmap/Workflows.h"

#include <fmt/format.h>

namespace mirtune::devmap {

namespace {
constexpr const char* kNoSafety =
    "none: these heads carry no calibration, novelty index or fallback (a format-1 folder or local heads); "
    "the "
    "device is the head's P(GPU faster) > 0.5. `mirtune devmap train` writes heads that decide safely";
}  // namespace

nlohmann::json safePredictionsJson(const std::vector<KernelPrediction>& predictions,
                                   const std::string& platform) {
  nlohmann::json list = nlohmann::json::array();
  for (const KernelPrediction& prediction : predictions) {
    if (prediction.error) continue;
    nlohmann::json item = {
        {"file", prediction.file},
        {"kernel", prediction.kernel},
        {"device", deviceName(prediction.device)},
        {"probability", chosenProbability(prediction)},
        {"gpu_probability", prediction.gpuProbability},
        {"raw_gpu_probability", prediction.rawGpuProbability},
        {"calibrated", prediction.calibrated},
        {"novelty", prediction.novelty ? nlohmann::json(*prediction.novelty) : nlohmann::json()},
        {"expected_speedup",
         prediction.expectedSpeedup ? nlohmann::json(*prediction.expectedSpeedup) : nlohmann::json()},
        {"fallback", prediction.fallback},
        {"policy", prediction.policy},
        {"platform", platform},
        {"transfer", prediction.transferBytes},
        {"wgsize", prediction.wgsize}};
    if (!prediction.calibrated) item["safety"] = kNoSafety;
    list.push_back(std::move(item));
  }
  return list;
}

std::string safePredictionsText(const std::vector<KernelPrediction>& predictions) {
  std::string text;
  for (const KernelPrediction& prediction : predictions) {
    if (prediction.error) continue;
    text += fmt::format("{}  {}  {}  probability {:.3f}", prediction.file, prediction.kernel,
                        deviceName(prediction.device), chosenProbability(prediction));
    if (prediction.novelty && prediction.expectedSpeedup) {
      text += fmt::format("  novelty {:.2f}  expected speedup {:.2f}", *prediction.novelty,
                          *prediction.expectedSpeedup);
    }
    if (prediction.fallback) text += fmt::format("  fallback: {}", prediction.policy);
    text += "\n";
  }
  return text;
}

}  // namespace mirtune::devmap
