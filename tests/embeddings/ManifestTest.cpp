// An encoder manifest is not covered by the weights' SHA-256, so loading checks the hash first and then every
// size before a tensor is built: copies of the shipped model with one field edited each must load as clear
// errors naming the manifest and the field, never as a crash or a huge allocation.
#include "embeddings/Encoder.h"
#include "embeddings/EncoderConfig.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
const fs::path kShipped = MIRTUNE_SHIPPED_ENCODER;
const fs::path kInputs = MIRTUNE_TEST_INPUTS;

// A copy of the shipped model whose manifest `edit` changed.
fs::path editedModel(const TemporaryFolder& folder, const std::string& name,
                     const std::function<void(nlohmann::json&)>& edit) {
  const fs::path model = folder.path() / name;
  fs::copy(kShipped, model, fs::copy_options::recursive);
  auto manifest = readJsonObject(model / "manifest.json");
  EXPECT_TRUE(manifest.ok());
  edit(*manifest);
  EXPECT_TRUE(writeFileAtomically(model / "manifest.json", manifest->dump(2)).ok());
  return model;
}

void expectRefused(const fs::path& model, const std::string& field) {
  auto loaded = Encoder::load(model);
  ASSERT_FALSE(loaded.ok()) << field;
  EXPECT_NE(loaded.error().message().find((model / "manifest.json").string()), std::string::npos)
      << loaded.error().message();
  EXPECT_NE(loaded.error().message().find(field), std::string::npos) << loaded.error().message();
}

TEST(EncoderManifest, TheShippedModelLoadsAndItsConfigCountsItsWeights) {
  auto loaded = Encoder::load(kShipped);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->config().parameterCount(), loaded->manifest()["parameters"].get<std::int64_t>());
}

TEST(EncoderManifest, ZeroAttentionHeadsIsAnErrorNotADivisionByZero) {
  TemporaryFolder folder("mirtune-manifest", "heads");
  expectRefused(editedModel(folder, "heads", [](nlohmann::json& m) { m["config"]["attention_heads"] = 0; }),
                "config.attention_heads");
}

TEST(EncoderManifest, AHugeModelDimIsRefusedBeforeAnyAllocation) {
  TemporaryFolder folder("mirtune-manifest", "dim");
  expectRefused(editedModel(folder, "dim", [](nlohmann::json& m) { m["config"]["model_dim"] = 1 << 30; }),
                "config.model_dim");
}

TEST(EncoderManifest, SizesOutOfRangeNameTheirField) {
  TemporaryFolder folder("mirtune-manifest", "ranges");
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits = {
      // Beyond int: read as 128 after wrapping, it would pass every other check.
      {"config.model_dim",
       [](nlohmann::json& m) { m["config"]["model_dim"] = (std::int64_t{1} << 32) + 128; }},
      {"config.vocabulary_size", [](nlohmann::json& m) { m["config"]["vocabulary_size"] = -8000; }},
      {"config.token_layers", [](nlohmann::json& m) { m["config"]["token_layers"] = 100000; }},
      {"config.feed_forward_dim", [](nlohmann::json& m) { m["config"]["feed_forward_dim"] = 1 << 28; }},
      {"config.max_tokens", [](nlohmann::json& m) { m["config"]["max_tokens"] = 2.5; }},
      {"config.dropout", [](nlohmann::json& m) { m["config"]["dropout"] = 1.5; }},
      {"limits.max_tokens", [](nlohmann::json& m) { m["limits"]["max_tokens"] = 4096; }},
      {"limits.max_edge_position", [](nlohmann::json& m) { m["limits"]["max_edge_position"] = 100; }},
      {"limits.max_nodes", [](nlohmann::json& m) { m["limits"]["max_nodes"] = -1; }},
  };
  for (std::size_t i = 0; i < edits.size(); ++i)
    expectRefused(editedModel(folder, "m" + std::to_string(i), edits[i].second), edits[i].first);
}

TEST(EncoderManifest, SizesThatDoNotFitTheWeightsAreRefused) {
  TemporaryFolder folder("mirtune-manifest", "shapes");
  // In range and consistent with itself, but the weights were trained with model_dim 128.
  const fs::path model = editedModel(folder, "shapes", [](nlohmann::json& m) {
    m["config"]["model_dim"] = 64;
    m["config"]["feed_forward_dim"] = 128;
  });
  auto loaded = Encoder::load(model);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("has shape"), std::string::npos) << loaded.error().message();
}

TEST(EncoderManifest, TheWeightsHashIsCheckedBeforeTheSizes) {
  TemporaryFolder folder("mirtune-manifest", "hash");
  const fs::path model =
      editedModel(folder, "hash", [](nlohmann::json& m) { m["config"]["attention_heads"] = 0; });
  {
    std::ofstream weights(model / "weights.pt", std::ios::binary | std::ios::app);
    weights << "tampered";
  }
  auto loaded = Encoder::load(model);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kVersion);
  EXPECT_NE(loaded.error().message().find("SHA-256"), std::string::npos) << loaded.error().message();
}

TEST(EncoderManifest, EmbedWithADamagedManifestExitsWithAnError) {
  TemporaryFolder folder("mirtune-manifest", "embed");
  const fs::path model =
      editedModel(folder, "embed", [](nlohmann::json& m) { m["config"]["attention_heads"] = 0; });
  auto embedded = runMirtune({"--db", folder.db(), "embed", "--model", model.string(), "--no-cache",
                              (kInputs / "saxpy.cl").string()});
  EXPECT_EQ(embedded.termSignal, 0) << "killed by signal " << embedded.termSignal;
  EXPECT_NE(embedded.exitCode, 0);
  EXPECT_NE(embedded.standardError.find("config.attention_heads"), std::string::npos)
      << embedded.standardError;
}

TEST(EncoderConfig, ValidateNamesTheFieldOutOfRange) {
  EncoderConfig config;
  EXPECT_TRUE(config.validate().ok());
  config.attentionHeads = 3;  // 128 is not a multiple of 3
  auto invalid = config.validate();
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().message().find("attention_heads"), std::string::npos)
      << invalid.error().message();
  config = EncoderConfig{};
  config.vocabularySize = kMaxVocabularySize;
  config.modelDim = kMaxModelDim;
  invalid = config.validate();  // each size in range, the whole over the weight bound
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().message().find("weights"), std::string::npos) << invalid.error().message();
}

}  // namespace
}  // namespace mirtune
