// Loading, saving and running the MIREncoder.
#include "embeddings/Encoder.h"

#include "embeddings/EncoderNetwork.h"
#include "embeddings/WeightsArchive.h"
#include "ir/ProgramGraph.h"
#include "support/Files.h"
#include "support/Sha256.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <type_traits>

namespace mirtune {

namespace fs = std::filesystem;

namespace {
constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kWeightsFile = "weights.pt";
constexpr const char* kTokenizerFolder = "tokenizer";
}  // namespace

namespace {
// Threads of Encoder::embed (one module per thread at a time).
std::atomic<int> encoderThreads{1};
}  // namespace

struct Encoder::Impl {
  Impl(Tokenizer tokenizerIn, const EncoderConfig& configIn, EncoderNetwork networkIn)
      : tokenizer(std::move(tokenizerIn)), config(configIn), network(std::move(networkIn)) {}
  Tokenizer tokenizer;
  EncoderConfig config;
  InputLimits limits;
  nlohmann::json manifest;
  std::string id;
  EncoderNetwork network;
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
  // Read once: the hash and the tensors come from the same bytes.
  auto weightBytes = readFile(weights);
  if (!weightBytes) return weightBytes.error();
  const std::string sha = sha256Hex(*weightBytes);
  const std::string recorded = manifestString(manifest, "weights_sha256");
  if (sha != recorded) {
    return makeError(ErrorCode::kVersion,
                     "{}: SHA-256 {} does not match the manifest's {} (corrupted or replaced)",
                     weights.string(), sha, recorded.empty() ? "(none)" : recorded);
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
  // Read without LibTorch; every shape is checked against the manifest's config before use.
  auto tensors = parseWeightsArchive(*weightBytes, weights.string());
  if (!tensors) return tensors.error();
  auto network = EncoderNetwork::create(std::move(*tensors), *config, weights.string());
  if (!network) return network.error();
  useSingleThreadedBlas();
  auto impl = std::make_unique<Impl>(std::move(*tokenizer), *config, std::move(*network));
  impl->limits = *limits;
  impl->manifest = std::move(manifest);
  impl->id =
      fmt::format("{}/{}",
                  manifestString(impl->manifest, "name").empty() ? directory.filename().string()
                                                                 : manifestString(impl->manifest, "name"),
                  sha.substr(0, 12));
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
  std::vector<std::vector<float>> vectors(inputs.size());
  std::vector<std::optional<Error>> errors(inputs.size());
  const std::size_t round = std::max<std::size_t>(1, batchSize);
  const int threads = encoderThreads.load();
  for (std::size_t start = 0; start < inputs.size(); start += round) {
    const auto count = static_cast<long>(std::min(round, inputs.size() - start));
    // OpenMP threads, not std::threads: OpenBLAS built for OpenMP runs each product on its calling thread inside a
    // parallel region, whereas products called from several std::threads at once contend inside it (2 threads were
    // slower than 1).
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (long i = 0; i < count; ++i) {
      const std::size_t index = start + static_cast<std::size_t>(i);
      auto vector = impl_->network.embed(inputs[index], modality);
      if (vector) {
        vectors[index] = std::move(*vector);
      } else {
        errors[index] = vector.error();
      }
    }
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (errors[i]) return errors[i]->withContext(fmt::format("encoder input {}", i));
  }
  return vectors;
}

void setEncoderThreads(int threads) { encoderThreads.store(std::max(1, threads)); }

}  // namespace mirtune
