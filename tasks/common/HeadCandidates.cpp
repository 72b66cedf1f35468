// Head candidates by kind or from a JSON list, and the threads of the encoder and the MLP heads.
#include "tasks/common/HeadCandidates.h"

#include "embeddings/Encoder.h"
#include "support/Files.h"
#include "tasks/common/ModelSelection.h"

#include <nlohmann/json.hpp>

namespace mirtune {

Expected<std::vector<heads::Candidate>> headCandidates(const std::string& kind, int threads,
                                                       const std::string& candidatesFile) {
  std::vector<heads::Candidate> candidates;
  if (!candidatesFile.empty()) {
    auto text = readFile(candidatesFile);
    if (!text) return text.error();
    nlohmann::json list = nlohmann::json::parse(*text, nullptr, false);
    if (!list.is_array() || list.empty()) {
      return makeError(ErrorCode::kInvalidInput, "{}: expected a JSON list of {{\"kind\", \"params\"}} objects",
                       candidatesFile);
    }
    for (const nlohmann::json& item : list) {
      if (!item.is_object() || !item.contains("kind") || !item["kind"].is_string()) {
        return makeError(ErrorCode::kInvalidInput, "{}: every candidate needs a \"kind\"", candidatesFile);
      }
      candidates.push_back({item["kind"].get<std::string>(), item.value("params", nlohmann::json::object())});
    }
  } else if (kind == "auto") {
    candidates = heads::defaultGrid();
  } else if (kind == "xgboost" || kind == "mlp") {
    candidates = heads::defaultCandidates(kind);
  } else {
    return makeError(ErrorCode::kUsage, "unknown --head-kind '{}' (auto, xgboost or mlp)", kind);
  }
  for (heads::Candidate& candidate : candidates) {
    if (candidate.kind == "xgboost") candidate.params["nthread"] = threads;
  }
  return candidates;
}

void configureThreads(int threads) {
  setEncoderThreads(threads);
  heads::setTorchThreads(threads);
}

void useOneThreadPerFit(std::vector<heads::Candidate>& candidates) {
  heads::setTorchThreads(1);
  for (heads::Candidate& candidate : candidates) {
    if (candidate.kind == "xgboost") candidate.params["nthread"] = 1;
  }
}

}  // namespace mirtune
