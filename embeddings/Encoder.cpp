// Loading, saving and running the MIREncoder.
#include "embeddings/Encoder.h"

#include "embeddings/Model.h"
#include "ir/ProgramGraph.h"
#include "support/Files.h"
#include "support/Sha256.h"

#include <map>
#include <type_traits>

namespace mirtune {

namespace fs = std::filesystem;

namespace {
constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kWeightsFile = "weights.pt";
constexpr const char* kTokenizerFolder = "tokenizer";
}  // namespace

struct Encoder::Impl {
  Impl(Tokenizer tokenizerIn, const EncoderConfig& configIn)
      : tokenizer(std::move(tokenizerIn)), config(configIn), model(configIn) {}
  Tokenizer tokenizer;
  EncoderConfig config;
  InputLimits limits;
  nlohmann::json manifest;
  std::string id;
  MirEncoder model;
};

nlohmann::json inputLimitsToJson(const InputLimits& limits) {
  return {{"max_tokens", limits.maxTokens},
          {"max_nodes", limits.maxNodes},
          {"max_node_tokens", limits.maxNodeTokens},
          {"max_edge_position", limits.maxEdgePosition}};
}

Expected<InputLimits> inputLimitsFromJson(const nlohmann::json& json) {
  InputLimits limits;
  // Read as unsigned 64-bit first: a negative or fractional limit must not wrap into a huge one.
  auto read = [&](const char* key, std::uint64_t highest, auto& out) -> Status {
    if (!json.contains(key) || !json[key].is_number_unsigned() || json[key].get<std::uint64_t>() > highest) {
      return makeError(ErrorCode::kInvalidInput, "limits.{} is {}; it must be an integer from 0 to {}", key,
                       json.contains(key) ? json[key].dump() : std::string("missing"), highest);
    }
    out = static_cast<std::remove_reference_t<decltype(out)>>(json[key].get<std::uint64_t>());
    return success();
  };
  for (Status status : {read("max_tokens", kMaxEncoderTokens, limits.maxTokens),
                        read("max_nodes", std::uint64_t{1} << 32, limits.maxNodes),
                        read("max_node_tokens", std::uint64_t{1} << 32, limits.maxNodeTokens),
                        read("max_edge_position", kMaxEdgePositions, limits.maxEdgePosition)}) {
    if (!status) return status.error();
  }
  return limits;
}

Status writeModelFolder(MirEncoder& model, const EncoderConfig& config, const InputLimits& limits,
                        const fs::path& tokenizerDirectory, const fs::path& out, const nlohmann::json& extra) {
  std::error_code ec;
  fs::create_directories(out / kTokenizerFolder, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot create: {}", out.string(), ec.message());
  for (const char* name : {"tokenizer.model", "manifest.json"}) {
    auto bytes = readFile(tokenizerDirectory / name);
    if (!bytes) return bytes.error();
    if (auto written = writeFileAtomically(out / kTokenizerFolder / name, *bytes); !written) return written;
  }
  auto tokenizer = Tokenizer::load(out / kTokenizerFolder);
  if (!tokenizer) return tokenizer.error();
  fs::path weights = out / kWeightsFile;
  fs::path temporary = out / ".weights.pt.tmp";
  try {
    torch::save(model, temporary.string());
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kIo, "{}: cannot save weights: {}", weights.string(), e.what());
  }
  fs::rename(temporary, weights, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: {}", weights.string(), ec.message());
  auto sha = sha256File(weights);
  if (!sha) return sha.error();
  std::size_t parameters = 0;
  for (const auto& parameter : model->parameters()) parameters += static_cast<std::size_t>(parameter.numel());
  nlohmann::json manifest = {
      {"kind", "mirtune MIREncoder"},
      {"name", out.filename().string()},
      {"format_version", kEncoderFormatVersion},
      {"normaliser_version", kNormaliserVersion},
      {"graph_schema_version", kGraphSchemaVersion},
      {"tokenizer_format_version", kTokenizerFormatVersion},
      {"tokenizer_id", tokenizer->id()},
      {"config", config.toJson()},
      {"limits", inputLimitsToJson(limits)},
      {"parameters", parameters},
      {"weights_sha256", *sha},
  };
  for (const auto& [key, value] : extra.items()) manifest[key] = value;
  return writeFileAtomically(out / kManifestFile, manifest.dump(2) + "\n");
}

Encoder::Encoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Encoder::Encoder(Encoder&&) noexcept = default;
Encoder& Encoder::operator=(Encoder&&) noexcept = default;
Encoder::~Encoder() = default;

fs::path Encoder::defaultDirectory() { return shippedModelDirectory(kShippedEncoderName); }

namespace {

// Sane bounds of a manifest's input limits (the shipped model: 256 tokens, 8192 nodes, 16 tokens per node).
constexpr std::size_t kMaxInputNodes = std::size_t{1} << 24;
constexpr std::size_t kMaxNodeTokens = 4096;

// The manifest's integer `key`, or -1 when it has none (or not an integer), for the version checks.
std::int64_t manifestInteger(const nlohmann::json& manifest, const char* key) {
  return manifest.contains(key) && manifest[key].is_number_integer() ? manifest[key].get<std::int64_t>() : -1;
}

std::string manifestString(const nlohmann::json& manifest, const char* key) {
  return manifest.contains(key) && manifest[key].is_string() ? manifest[key].get<std::string>()
                                                             : std::string();
}

// The limits against the config's tables: a longer sequence or a larger edge position than the model has
// embeddings for would index past them.
Status checkLimits(const InputLimits& limits, const EncoderConfig& config) {
  if (limits.maxTokens < 2 || limits.maxTokens > static_cast<std::size_t>(config.maxTokens)) {
    return makeError(ErrorCode::kInvalidInput,
                     "limits.max_tokens is {}; it must be from 2 to config.max_tokens ({})", limits.maxTokens,
                     config.maxTokens);
  }
  if (limits.maxNodes < 1 || limits.maxNodes > kMaxInputNodes) {
    return makeError(ErrorCode::kInvalidInput, "limits.max_nodes is {}; it must be from 1 to {}",
                     limits.maxNodes, kMaxInputNodes);
  }
  if (limits.maxNodeTokens < 1 || limits.maxNodeTokens > kMaxNodeTokens) {
    return makeError(ErrorCode::kInvalidInput, "limits.max_node_tokens is {}; it must be from 1 to {}",
                     limits.maxNodeTokens, kMaxNodeTokens);
  }
  if (limits.maxEdgePosition > static_cast<std::uint32_t>(config.maxEdgePosition)) {
    return makeError(ErrorCode::kInvalidInput,
                     "limits.max_edge_position is {}; it must be at most config.max_edge_position ({})",
                     limits.maxEdgePosition, config.maxEdgePosition);
  }
  return success();
}

}  // namespace

Expected<Encoder> Encoder::load(const fs::path& directory) {
  const fs::path manifestPath = directory / kManifestFile;
  auto read = readJsonObject(manifestPath);
  if (!read) {
    if (read.error().code() != ErrorCode::kNotFound) return read.error();
    return makeError(ErrorCode::kNotFound, "{}: no encoder model here ({}); train one with `mirtune pretrain`",
                     directory.string(), read.error().message());
  }
  nlohmann::json manifest = std::move(*read);
  // The weights first: a replaced or damaged weights file is named as such, whatever the manifest says.
  fs::path weights = directory / kWeightsFile;
  auto sha = sha256File(weights);
  if (!sha) return sha.error();
  const std::string recorded = manifestString(manifest, "weights_sha256");
  if (*sha != recorded) {
    return makeError(ErrorCode::kVersion,
                     "{}: SHA-256 {} does not match the manifest's {} (corrupted or replaced)",
                     weights.string(), *sha, recorded.empty() ? "(none)" : recorded);
  }
  struct VersionCheck {
    const char* key;
    int expected;
  };
  for (const VersionCheck& check : {VersionCheck{"format_version", kEncoderFormatVersion},
                                    VersionCheck{"normaliser_version", kNormaliserVersion},
                                    VersionCheck{"graph_schema_version", kGraphSchemaVersion},
                                    VersionCheck{"tokenizer_format_version", kTokenizerFormatVersion}}) {
    const std::int64_t found = manifestInteger(manifest, check.key);
    if (found != check.expected) {
      return makeError(ErrorCode::kVersion, "{}: model has {} {}, this mirtune needs {}; retrain it with `mirtune pretrain`",
                       directory.string(), check.key, found, check.expected);
    }
  }
  // The manifest is not covered by the weights' hash: every size is checked before a tensor is built from it.
  if (!manifest.contains("config"))
    return makeError(ErrorCode::kInvalidInput, "{}: no 'config'", manifestPath.string());
  auto config = EncoderConfig::fromJson(manifest["config"]);
  if (!config) return config.error().withContext(manifestPath.string());
  if (!manifest.contains("limits") || !manifest["limits"].is_object())
    return makeError(ErrorCode::kInvalidInput, "{}: 'limits' must be an object", manifestPath.string());
  auto limits = inputLimitsFromJson(manifest["limits"]);
  if (!limits) return limits.error().withContext(manifestPath.string());
  if (Status valid = checkLimits(*limits, *config); !valid)
    return valid.error().withContext(manifestPath.string());
  auto tokenizer = Tokenizer::load(directory / kTokenizerFolder);
  if (!tokenizer) return tokenizer.error();
  if (tokenizer->id() != manifestString(manifest, "tokenizer_id")) {
    return makeError(ErrorCode::kVersion, "{}: tokenizer {} is not the one the model was trained with ({})",
                     directory.string(), tokenizer->id(), manifestString(manifest, "tokenizer_id"));
  }
  if (tokenizer->vocabularySize() != config->vocabularySize) {
    return makeError(ErrorCode::kVersion, "{}: tokenizer has {} pieces, the model {}", directory.string(),
                     tokenizer->vocabularySize(), config->vocabularySize);
  }
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(std::move(*tokenizer), *config);
    // torch::load takes tensors of any shape: the shapes the manifest's config implies are checked after it.
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (const auto& item : impl->model->named_parameters())
      expected[item.key()] = item.value().sizes().vec();
    torch::load(impl->model, weights.string());
    for (const auto& item : impl->model->named_parameters()) {
      if (item.value().sizes().vec() != expected[item.key()]) {
        return makeError(ErrorCode::kVersion, "{}: weight {} has shape {}, but the config of {} gives {}",
                         weights.string(), item.key(), nlohmann::json(item.value().sizes().vec()).dump(),
                         manifestPath.string(), nlohmann::json(expected[item.key()]).dump());
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    return makeError(ErrorCode::kInvalidInput, "{}: cannot load weights: {}", weights.string(),
                     what.substr(0, what.find('\n')));
  }
  impl->model->eval();
  impl->limits = *limits;
  impl->manifest = std::move(manifest);
  impl->id =
      fmt::format("{}/{}",
                  manifestString(impl->manifest, "name").empty() ? directory.filename().string()
                                                                 : manifestString(impl->manifest, "name"),
                  sha->substr(0, 12));
  return Encoder(std::move(impl));
}

const std::string& Encoder::id() const { return impl_->id; }
const Tokenizer& Encoder::tokenizer() const { return impl_->tokenizer; }
const EncoderConfig& Encoder::config() const { return impl_->config; }
const InputLimits& Encoder::limits() const { return impl_->limits; }
const nlohmann::json& Encoder::manifest() const { return impl_->manifest; }

std::size_t Encoder::dimension(Modality modality) const {
  return static_cast<std::size_t>(modality == Modality::kFused ? impl_->config.embeddingDim : impl_->config.modelDim);
}

Expected<EncoderInput> Encoder::prepare(const IrModule& module) const {
  return prepareEncoderInput(module, impl_->tokenizer, impl_->limits);
}

Expected<std::vector<std::vector<float>>> Encoder::embed(const std::vector<EncoderInput>& inputs, Modality modality,
                                                         std::size_t batchSize) const {
  std::vector<std::vector<float>> vectors;
  vectors.reserve(inputs.size());
  try {
    torch::NoGradGuard noGrad;
    for (std::size_t start = 0; start < inputs.size(); start += batchSize) {
      std::vector<const EncoderInput*> chunk;
      for (std::size_t i = start; i < std::min(inputs.size(), start + batchSize); ++i) chunk.push_back(&inputs[i]);
      EncoderBatch batch = makeBatch(chunk);
      torch::Tensor result;
      torch::Tensor states;
      switch (modality) {
        case Modality::kTokens: result = impl_->model->encodeTokens(batch, states); break;
        case Modality::kGraph: result = impl_->model->encodeGraph(batch, states); break;
        case Modality::kFused: result = impl_->model->forward(batch).fused; break;
      }
      result = result.contiguous().to(torch::kFloat32);
      for (long row = 0; row < result.size(0); ++row) {
        const float* data = result[row].data_ptr<float>();
        vectors.emplace_back(data, data + result.size(1));
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    return makeError(ErrorCode::kInternal, "encoder forward pass failed: {}", what.substr(0, what.find('\n')));
  }
  return vectors;
}

void setEncoderThreads(int threads) { torch::set_num_threads(std::max(1, threads)); }

}  // namespace mirtune
