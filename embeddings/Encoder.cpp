// Loading, saving and running the MIREncoder.
#include "embeddings/Encoder.h"

#include "embeddings/Model.h"
#include "ir/ProgramGraph.h"
#include "support/Files.h"
#include "support/Sha256.h"


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
  try {
    limits.maxTokens = json.at("max_tokens").get<std::size_t>();
    limits.maxNodes = json.at("max_nodes").get<std::size_t>();
    limits.maxNodeTokens = json.at("max_node_tokens").get<std::size_t>();
    limits.maxEdgePosition = json.at("max_edge_position").get<std::uint32_t>();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "input limits: {}", e.what());
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

Expected<Encoder> Encoder::load(const fs::path& directory) {
  auto read = readJsonObject(directory / kManifestFile);
  if (!read) {
    if (read.error().code() != ErrorCode::kNotFound) return read.error();
    return makeError(ErrorCode::kNotFound, "{}: no encoder model here ({}); train one with `mirtune pretrain`",
                     directory.string(), read.error().message());
  }
  nlohmann::json manifest = std::move(*read);
  struct VersionCheck {
    const char* key;
    int expected;
  };
  for (const VersionCheck& check : {VersionCheck{"format_version", kEncoderFormatVersion},
                                    VersionCheck{"normaliser_version", kNormaliserVersion},
                                    VersionCheck{"graph_schema_version", kGraphSchemaVersion},
                                    VersionCheck{"tokenizer_format_version", kTokenizerFormatVersion}}) {
    int found = manifest.value(check.key, -1);
    if (found != check.expected) {
      return makeError(ErrorCode::kVersion, "{}: model has {} {}, this mirtune needs {}; retrain it with `mirtune pretrain`",
                       directory.string(), check.key, found, check.expected);
    }
  }
  auto config = EncoderConfig::fromJson(manifest.value("config", nlohmann::json::object()));
  if (!config) return config.error().withContext(directory.string());
  auto limits = inputLimitsFromJson(manifest.value("limits", nlohmann::json::object()));
  if (!limits) return limits.error().withContext(directory.string());
  auto tokenizer = Tokenizer::load(directory / kTokenizerFolder);
  if (!tokenizer) return tokenizer.error();
  if (tokenizer->id() != manifest.value("tokenizer_id", "")) {
    return makeError(ErrorCode::kVersion, "{}: tokenizer {} is not the one the model was trained with ({})",
                     directory.string(), tokenizer->id(), manifest.value("tokenizer_id", "?"));
  }
  if (tokenizer->vocabularySize() != config->vocabularySize) {
    return makeError(ErrorCode::kVersion, "{}: tokenizer has {} pieces, the model {}", directory.string(),
                     tokenizer->vocabularySize(), config->vocabularySize);
  }
  fs::path weights = directory / kWeightsFile;
  auto sha = sha256File(weights);
  if (!sha) return sha.error();
  if (*sha != manifest.value("weights_sha256", "")) {
    return makeError(ErrorCode::kVersion, "{}: SHA-256 {} does not match the manifest's {} (corrupted or replaced)",
                     weights.string(), *sha, manifest.value("weights_sha256", "(none)"));
  }
  auto impl = std::make_unique<Impl>(std::move(*tokenizer), *config);
  try {
    torch::load(impl->model, weights.string());
  } catch (const std::exception& e) {
    std::string what = e.what();
    return makeError(ErrorCode::kInvalidInput, "{}: cannot load weights: {}", weights.string(),
                     what.substr(0, what.find('\n')));
  }
  impl->model->eval();
  impl->limits = *limits;
  impl->manifest = std::move(manifest);
  impl->id = fmt::format("{}/{}", impl->manifest.value("name", directory.filename().string()), sha->substr(0, 12));
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
