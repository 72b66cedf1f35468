// Classifier factory, head folder loading and the helpers both heads share.
#include "tasks/common/Head.h"

#include "support/Files.h"
#include "support/Sha256.h"
#include "tasks/common/HeadFolder.h"
#include "tasks/common/MlpClassifier.h"
#include "tasks/common/XgbClassifier.h"

#include <algorithm>

namespace fs = std::filesystem;

namespace mirtune::heads {

Expected<std::vector<int>> Classifier::predictClasses(const float* rows, std::size_t n,
                                                      std::size_t cols) const {
  auto probabilities = predictProbabilities(rows, n, cols);
  if (!probabilities) return probabilities.error();
  std::size_t k = static_cast<std::size_t>(classCount());
  std::vector<int> classes(n, 0);
  for (std::size_t r = 0; r < n; ++r) {
    const float* row = probabilities->data() + r * k;
    classes[r] = static_cast<int>(std::max_element(row, row + k) - row);
  }
  return classes;
}

Expected<std::unique_ptr<Classifier>> Classifier::load(const fs::path& dir) {
  fs::path headPath = dir / kHeadFile;
  auto read = readJsonObject(headPath);
  if (!read) {
    if (read.error().code() == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kNotFound, "{}: no trained head here ({} is missing)", dir.string(),
                       headPath.string());
    }
    return read.error();
  }
  const nlohmann::json& head = *read;
  int version = head.value("format_version", -1);
  if (version != kHeadFormatVersion) {
    return makeError(ErrorCode::kVersion, "{}: format_version {} but this mirtune reads {}; retrain the head",
                     headPath.string(), version, kHeadFormatVersion);
  }
  std::string kind, modelFile, expectedSha;
  try {
    kind = head.at("kind").get<std::string>();
    modelFile = head.at("model_file").get<std::string>();
    expectedSha = head.at("model_sha256").get<std::string>();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "{}: {}", headPath.string(), e.what());
  }
  if (modelFile.empty() || fs::path(modelFile).filename().string() != modelFile) {
    return makeError(ErrorCode::kInvalidInput, "{}: model_file \"{}\" must be a plain file name",
                     headPath.string(), modelFile);
  }
  fs::path modelPath = dir / modelFile;
  auto bytes = readFile(modelPath);
  if (!bytes) {
    if (bytes.error().code() == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kNotFound, "{}: model file named by {} is missing", modelPath.string(),
                       headPath.string());
    }
    return bytes.error();
  }
  std::string sha = sha256Hex(*bytes);
  if (sha != expectedSha) {
    return makeError(
        ErrorCode::kVersion,
        "{}: SHA-256 {} does not match {} in {} (corrupted or replaced; retrain or restore the head)",
        modelPath.string(), sha, expectedSha, headPath.string());
  }
  Expected<std::unique_ptr<Classifier>> loaded = makeError(ErrorCode::kInternal, "unreachable");
  if (kind == "xgboost") {
    loaded = XgbClassifier::fromSaved(head, *bytes, modelPath);
  } else if (kind == "mlp") {
    loaded = MlpClassifier::fromSaved(head, *bytes, modelPath);
  } else {
    return makeError(ErrorCode::kVersion, "{}: unknown head kind \"{}\" (known: xgboost, mlp)",
                     headPath.string(), kind);
  }
  return loaded;
}

Expected<std::unique_ptr<Classifier>> makeClassifier(const Candidate& candidate) {
  const nlohmann::json& params = candidate.params.is_null() ? nlohmann::json::object() : candidate.params;
  if (candidate.kind == "xgboost") {
    auto parsed = XgbParams::fromJson(params);
    if (!parsed) return parsed.error().withContext("xgboost");
    return std::unique_ptr<Classifier>(std::make_unique<XgbClassifier>(*parsed));
  }
  if (candidate.kind == "mlp") {
    auto parsed = MlpParams::fromJson(params);
    if (!parsed) return parsed.error().withContext("mlp");
    return std::unique_ptr<Classifier>(std::make_unique<MlpClassifier>(*parsed));
  }
  return makeError(ErrorCode::kUsage, "unknown head kind \"{}\" (known: xgboost, mlp)", candidate.kind);
}

namespace detail {

Status writeHeadFolder(const fs::path& dir, nlohmann::json head, std::string_view modelFile,
                       const std::string& modelBytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot create: {}", dir.string(), ec.message());
  if (auto written = writeFileAtomically(dir / modelFile, modelBytes); !written) return written;
  head["format_version"] = kHeadFormatVersion;
  head["model_file"] = std::string(modelFile);
  head["model_sha256"] = sha256Hex(modelBytes);
  return writeFileAtomically(dir / kHeadFile, head.dump(2) + "\n");
}

Status rejectUnknownKeys(const nlohmann::json& json, std::initializer_list<std::string_view> known,
                         std::string_view what) {
  if (!json.is_object()) {
    return makeError(ErrorCode::kInvalidInput, "{} parameters must be a JSON object, got {}", what,
                     json.dump());
  }
  for (const auto& item : json.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      std::string list;
      for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      return makeError(ErrorCode::kInvalidInput, "unknown {} parameter \"{}\" (known: {})", what, item.key(),
                       list);
    }
  }
  return success();
}

}  // namespace detail
}  // namespace mirtune::heads
