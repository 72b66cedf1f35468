// Tests of the MIREncoder: a tiny corpus and model built in seconds, then shapes, determinism, batching,
// save/load checks, exact resume, and `mirtune embed` with its cache.
#include "corpus/CorpusBuilder.h"
#include "embeddings/Encoder.h"
#include "embeddings/Model.h"
#include "embeddings/ModuleProperties.h"
#include "embeddings/Pretrain.h"
#include "frontend/Frontend.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <iostream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
const fs::path kInputs = MIRTUNE_TEST_INPUTS;
const char* kSources[] = {"saxpy.cl", "two_kernels.cl", "clc_names.cl", "omp_reduction.c", "omp_sqrt.cpp",
                          "vector_add.cu", "ir/renamed_a.c", "ir/renamed_b.c"};

PretrainOptions tinyOptions(const fs::path& root, const std::string& out) {
  PretrainOptions options;
  options.corpus = root / "corpus";
  options.out = root / out;
  options.tokenizerDirectory = (root / "tokenizer").string();
  options.epochs = 6;
  options.threads = 1;
  options.batchSize = 4;
  options.learningRate = 3e-3;
  options.warmupSteps = 2;
  options.heldOutFraction = 0.2;
  options.config.modelDim = 32;
  options.config.attentionHeads = 2;
  options.config.feedForwardDim = 64;
  options.config.tokenLayers = 1;
  options.config.graphLayers = 2;
  options.config.embeddingDim = 16;
  options.config.dropout = 0.0;
  options.limits.maxTokens = 128;
  options.limits.maxNodes = 512;
  options.command = "test";
  return options;
}

// One tiny tokenizer, corpus and model for the whole suite.
class EncoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("mirtune-encoder-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "sources");
    std::vector<std::string> lines;
    for (const char* name : kSources) {
      fs::path target = root_ / "sources" / fs::path(name).filename();
      fs::copy_file(kInputs / name, target, fs::copy_options::overwrite_existing);
      for (int level : {0, 2}) {
        CompileOptions compile;
        compile.optimizationLevel = level;
        auto module = compileFile(target, compile);
        ASSERT_TRUE(module.ok()) << module.error().message();
        std::string text = NormalisedModule::create(*module)->text();
        for (std::size_t start = 0; start < text.size();) {
          std::size_t end = text.find('\n', start);
          lines.push_back(text.substr(start, end - start));
          start = end + 1;
        }
      }
    }
    TokenizerTrainOptions tokenizerOptions;
    tokenizerOptions.vocabularySize = 400;
    ASSERT_TRUE(trainTokenizer(lines, root_ / "tokenizer", tokenizerOptions, {{"test", true}}).ok());

    CorpusOptions corpus;
    corpus.outputDirectory = root_ / "corpus";
    corpus.kernelsDirectory = root_ / "sources";
    corpus.sources = {CorpusSource::kKernels};
    corpus.jobs = 1;
    auto built = buildCorpus(corpus);
    ASSERT_TRUE(built.ok()) << built.error().message();

    auto metrics = pretrain(tinyOptions(root_, "model"));
    ASSERT_TRUE(metrics.ok()) << metrics.error().message();
    metrics_ = *metrics;
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  static Encoder load() {
    auto encoder = Encoder::load(root_ / "model");
    if (!encoder) throw std::runtime_error(encoder.error().message());
    return std::move(*encoder);
  }
  static EncoderInput prepare(const Encoder& encoder, const fs::path& file) {
    auto module = compileFile(file);
    if (!module) throw std::runtime_error(module.error().message());
    auto input = encoder.prepare(*module);
    if (!input) throw std::runtime_error(input.error().message());
    return std::move(*input);
  }

  static fs::path root_;
  static std::vector<EpochMetrics> metrics_;
};
fs::path EncoderTest::root_;
std::vector<EpochMetrics> EncoderTest::metrics_;

TEST_F(EncoderTest, TinyPretrainingLowersEveryLoss) {
  ASSERT_EQ(metrics_.size(), 6u);
  const EpochMetrics& first = metrics_.front();
  const EpochMetrics& last = metrics_.back();
  EXPECT_LT(last.maskedTokenLoss, first.maskedTokenLoss);
  EXPECT_LT(last.edgeLoss, first.edgeLoss);
  EXPECT_LT(last.matchLoss, first.matchLoss);
  EXPECT_GT(last.heldOutEdgeAuc, 0.5);
  auto manifest = nlohmann::json::parse(*readFile(root_ / "model" / "manifest.json"));
  EXPECT_EQ(manifest["metrics"].size(), 6u);
  EXPECT_EQ(manifest["weights_sha256"], *sha256File(root_ / "model" / "weights.pt"));
  EXPECT_EQ(manifest["training"]["command"], "test");
  EXPECT_LT(manifest["parameters"].get<int>(), 5'000'000);
}

TEST_F(EncoderTest, ShapesAndDeterminism) {
  Encoder encoder = load();
  EncoderInput input = prepare(encoder, kInputs / "saxpy.cl");
  for (auto [modality, dimension] : {std::pair{Modality::kFused, 16}, {Modality::kTokens, 32}, {Modality::kGraph, 32}}) {
    auto first = encoder.embed({input}, modality);
    auto second = encoder.embed({input}, modality);
    ASSERT_TRUE(first.ok() && second.ok());
    ASSERT_EQ(first->size(), 1u);
    EXPECT_EQ((*first)[0].size(), static_cast<std::size_t>(dimension));
    EXPECT_EQ(*first, *second);
    for (float value : (*first)[0]) EXPECT_TRUE(std::isfinite(value));
  }
  // A freshly loaded copy gives the identical vector.
  Encoder again = load();
  EXPECT_EQ(*again.embed({input}, Modality::kFused), *encoder.embed({input}, Modality::kFused));
}

TEST_F(EncoderTest, BatchingDoesNotChangeVectors) {
  Encoder encoder = load();
  std::vector<EncoderInput> inputs;
  for (const char* name : {"saxpy.cl", "omp_reduction.c", "vector_add.cu", "two_kernels.cl"}) {
    inputs.push_back(prepare(encoder, kInputs / name));
  }
  auto together = encoder.embed(inputs, Modality::kFused, 4);
  ASSERT_TRUE(together.ok());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto alone = encoder.embed({inputs[i]}, Modality::kFused, 1);
    ASSERT_TRUE(alone.ok());
    for (std::size_t k = 0; k < (*alone)[0].size(); ++k) EXPECT_NEAR((*alone)[0][k], (*together)[i][k], 1e-4);
  }
  EXPECT_NE((*together)[0], (*together)[1]) << "different programs, different vectors";
}

TEST_F(EncoderTest, RefusesMismatchedOrCorruptedModels) {
  fs::path copy = root_ / "broken";
  fs::remove_all(copy);
  fs::copy(root_ / "model", copy, fs::copy_options::recursive);
  fs::remove_all(copy / "checkpoint");
  auto manifest = nlohmann::json::parse(*readFile(copy / "manifest.json"));
  manifest["graph_schema_version"] = 99;
  ASSERT_TRUE(writeFileAtomically(copy / "manifest.json", manifest.dump()).ok());
  auto mismatched = Encoder::load(copy);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().code(), ErrorCode::kVersion);
  EXPECT_NE(mismatched.error().message().find("graph_schema_version"), std::string::npos);

  fs::copy(root_ / "model" / "manifest.json", copy / "manifest.json", fs::copy_options::overwrite_existing);
  std::string weights = *readFile(copy / "weights.pt");
  weights[weights.size() / 2] ^= 0x41;
  ASSERT_TRUE(writeFileAtomically(copy / "weights.pt", weights).ok());
  auto corrupted = Encoder::load(copy);
  ASSERT_FALSE(corrupted.ok());
  EXPECT_NE(corrupted.error().message().find("SHA-256"), std::string::npos);

  auto missing = Encoder::load(root_ / "no-model-here");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("mirtune pretrain"), std::string::npos);
}

TEST_F(EncoderTest, ResumeContinuesExactly) {
  PretrainOptions straight = tinyOptions(root_, "straight");
  straight.epochs = 2;
  ASSERT_TRUE(pretrain(straight).ok());
  PretrainOptions interrupted = tinyOptions(root_, "interrupted");
  interrupted.epochs = 2;
  interrupted.stopAfterSteps = 3;
  auto partial = pretrain(interrupted);
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(fs::exists(root_ / "interrupted" / "weights.pt"));
  interrupted.stopAfterSteps = 0;
  interrupted.resume = true;
  auto resumed = pretrain(interrupted);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message();
  EXPECT_EQ(*sha256File(root_ / "interrupted" / "weights.pt"), *sha256File(root_ / "straight" / "weights.pt"));

  PretrainOptions other = interrupted;
  other.seed = 7;
  auto refused = pretrain(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("other options"), std::string::npos);
}

TEST(ShippedEncoder, LoadsAndEmbeds) {
  fs::path shipped = Encoder::defaultDirectory();
  if (!fs::exists(shipped / "manifest.json")) GTEST_SKIP() << "no shipped encoder at " << shipped;
  auto encoder = Encoder::load(shipped);
  ASSERT_TRUE(encoder.ok()) << encoder.error().message();
  EXPECT_EQ(encoder->tokenizer().id(), Tokenizer::loadOrDefault("")->id()) << "model and shipped tokenizer agree";
  EXPECT_LE(encoder->manifest()["parameters"].get<std::size_t>(), 5'000'000u);
  EXPECT_FALSE(encoder->manifest()["metrics"].empty());
  auto module = compileFile(kInputs / "saxpy.cl");
  auto input = encoder->prepare(*module);
  ASSERT_TRUE(input.ok());
  auto vectors = encoder->embed({*input}, Modality::kFused);
  ASSERT_TRUE(vectors.ok());
  EXPECT_EQ((*vectors)[0].size(), encoder->dimension(Modality::kFused));
}

// The same model run by LibTorch (embeddings/Model.h, as pretraining runs it), one padded batch of all inputs.
std::vector<std::vector<float>> embedWithLibTorch(const fs::path& folder, const std::vector<EncoderInput>& inputs,
                                                  Modality modality) {
  auto manifest = readJsonObject(folder / "manifest.json");
  if (!manifest) throw std::runtime_error(manifest.error().message());
  auto config = EncoderConfig::fromJson((*manifest)["config"]);
  if (!config) throw std::runtime_error(config.error().message());
  MirEncoder model(*config);
  torch::load(model, (folder / "weights.pt").string());
  model->eval();
  torch::NoGradGuard noGrad;
  std::vector<const EncoderInput*> batchInputs;
  for (const EncoderInput& input : inputs) batchInputs.push_back(&input);
  EncoderBatch batch = makeBatch(batchInputs);
  torch::Tensor states;
  torch::Tensor result = modality == Modality::kTokens  ? model->encodeTokens(batch, states)
                         : modality == Modality::kGraph ? model->encodeGraph(batch, states)
                                                        : model->forward(batch).fused;
  std::vector<std::vector<float>> vectors;
  for (long row = 0; row < result.size(0); ++row) {
    torch::Tensor vector = result[row].contiguous();
    vectors.emplace_back(vector.data_ptr<float>(), vector.data_ptr<float>() + vector.numel());
  }
  return vectors;
}

// Largest |a - b| / max(1, |b|) over every component of every vector: 1e-6 is a few float roundings at any
// magnitude (one rounding of a component near 10 is already 1e-6 absolute).
double largestDifference(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  double largest = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < a[i].size(); ++k)
      largest = std::max(largest, std::abs(double(a[i][k]) - b[i][k]) / std::max(1.0, std::abs(double(b[i][k]))));
  return largest;
}

// Inference reads weights.pt without LibTorch and computes each module on its own: it must give LibTorch's
// vectors (to float rounding) for every language, every modality, the tiny model and the shipped one.
void expectSameAsLibTorch(const fs::path& folder, double tolerance) {
  auto encoder = Encoder::load(folder);
  ASSERT_TRUE(encoder.ok()) << encoder.error().message();
  std::vector<EncoderInput> inputs;
  for (const char* name : kSources) {
    auto module = compileFile(kInputs / name);
    ASSERT_TRUE(module.ok()) << module.error().message();
    auto input = encoder->prepare(*module);
    ASSERT_TRUE(input.ok()) << input.error().message();
    inputs.push_back(std::move(*input));
  }
  for (Modality modality : {Modality::kFused, Modality::kTokens, Modality::kGraph}) {
    auto ours = encoder->embed(inputs, modality);
    ASSERT_TRUE(ours.ok()) << ours.error().message();
    auto reference = embedWithLibTorch(folder, inputs, modality);
    ASSERT_EQ(ours->size(), reference.size());
    for (std::size_t i = 0; i < reference.size(); ++i) ASSERT_EQ((*ours)[i].size(), reference[i].size());
    const double difference = largestDifference(*ours, reference);
    std::cout << folder.filename().string() << " " << modalityName(modality) << ": largest relative difference " << difference
              << "\n";
    EXPECT_LE(difference, tolerance) << modalityName(modality);
  }
}

TEST_F(EncoderTest, InferenceWithoutLibTorchMatchesLibTorch) { expectSameAsLibTorch(root_ / "model", 1e-6); }

// The two objectives beyond the paper's: their heads exist only when trained, their losses fall, their held-out
// scores are recorded, and inference reads neither head (the vectors match LibTorch's full model).
TEST_F(EncoderTest, PropertyAndContrastiveObjectivesTrainAndStayOutOfInference) {
  PretrainOptions options = tinyOptions(root_, "model-objectives");
  options.propertyWeight = 1.0;
  options.contrastiveWeight = 1.0;
  options.contrastiveDim = 8;
  auto metrics = pretrain(options);
  ASSERT_TRUE(metrics.ok()) << metrics.error().message();
  ASSERT_EQ(metrics->size(), 6u);
  EXPECT_LT(metrics->back().propertyLoss, metrics->front().propertyLoss);
  EXPECT_GT(metrics->front().contrastiveLoss, 0.0);
  EXPECT_LT(metrics->back().contrastiveLoss, metrics->front().contrastiveLoss);
  EXPECT_GE(metrics->back().heldOutPropertyR2, -100.0);  // recorded (-1 means not trained)
  EXPECT_NE(metrics->back().heldOutPropertyR2, -1.0);
  // The paper's model has neither score.
  EXPECT_EQ(metrics_.back().heldOutPropertyR2, -1.0);
  EXPECT_EQ(metrics_.back().heldOutContrastiveAccuracy, -1.0);

  auto manifest = nlohmann::json::parse(*readFile(options.out / "manifest.json"));
  EXPECT_EQ(manifest["config"]["property_targets"], kModulePropertyCount);
  EXPECT_EQ(manifest["config"]["contrastive_dim"], 8);
  EXPECT_EQ(manifest["training"]["loss_weights"]["property"], 1.0);
  auto config = EncoderConfig::fromJson(manifest["config"]);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->parameterCount(), manifest["parameters"].get<std::int64_t>());
  auto plain = nlohmann::json::parse(*readFile(root_ / "model" / "manifest.json"));
  EXPECT_FALSE(plain["config"].contains("property_targets"));
  EXPECT_EQ(manifest["parameters"].get<std::int64_t>() - plain["parameters"].get<std::int64_t>(),
            (16 + 1) * kModulePropertyCount + (16 + 1) * 8);
  expectSameAsLibTorch(options.out, 1e-6);
}

// With the shipped tokenizer, the one real pretraining reads node tokens with.
TEST(ModuleProperties, ReadTheInstructionMix) {
  auto tokenizer = Tokenizer::loadOrDefault("");
  if (!tokenizer) GTEST_SKIP() << tokenizer.error().message();
  ModulePropertyReader reader(*tokenizer);
  auto prepare = [&](const fs::path& file, int level) {
    CompileOptions options;
    options.optimizationLevel = level;
    auto module = compileFile(file, options);
    if (!module) throw std::runtime_error(module.error().message());
    auto input = prepareEncoderInput(*module, *tokenizer);
    if (!input) throw std::runtime_error(input.error().message());
    return std::move(*input);
  };
  auto share = [](const ModuleProperties& p, std::string_view name) {
    for (std::size_t i = 0; i < kModulePropertyNames.size(); ++i) {
      if (kModulePropertyNames[i] == name) return p[i];
    }
    ADD_FAILURE() << name;
    return 0.0f;
  };
  // saxpy: a load-multiply-add-store kernel without loops.
  ModuleProperties saxpy = reader.read(prepare(kInputs / "saxpy.cl", 2));
  EXPECT_GT(share(saxpy, "load_share"), 0.0f);
  EXPECT_GT(share(saxpy, "store_share"), 0.0f);
  EXPECT_GT(share(saxpy, "float_arithmetic_share"), 0.0f);
  EXPECT_EQ(share(saxpy, "atomic_share"), 0.0f);
  float classes = 0;
  for (std::size_t i = 3; i <= 16; ++i) {
    if (kModulePropertyNames[i] != "float_division_share") classes += saxpy[i];
  }
  EXPECT_LE(classes, 1.0001f);
  EXPECT_GT(classes, 0.5f) << "most instructions should be classified";
  // A reduction loop at -O0 has back edges and stack slots.
  ModuleProperties reduction = reader.read(prepare(kInputs / "omp_reduction.c", 0));
  EXPECT_GT(share(reduction, "backward_control_share"), 0.0f);
  EXPECT_GT(share(reduction, "stack_share"), 0.0f);
  EXPECT_GT(share(reduction, "log_instructions"), 0.0f);
  EXPECT_EQ(instructionClassOf("getelementptr"), instructionClassOf("getelementptr"));
  EXPECT_NE(instructionClassOf("load"), instructionClassOf("store"));
  EXPECT_EQ(instructionClassOf("tail call spir_func i64 @_Z13get_global_idj(i32 0)"), instructionClassOf("call"));
  EXPECT_EQ(instructionClassOf("tail call float @llvm.fmuladd.f32(float %v"), instructionClassOf("fmul float %v, %v"));
  EXPECT_EQ(instructionClassOf("call void @_Z7barrierj(i32 1)"), instructionClassOf("fence seq_cst"));
  EXPECT_EQ(instructionClassOf("no-such-opcode"), instructionClassOf("landingpad"));
}

TEST(ShippedEncoder, InferenceWithoutLibTorchMatchesLibTorch) {
  fs::path shipped = Encoder::defaultDirectory();
  if (!fs::exists(shipped / "manifest.json")) GTEST_SKIP() << "no shipped encoder at " << shipped;
  expectSameAsLibTorch(shipped, 1e-6);
}

TEST(AreaUnderCurve, RanksWithTies) {
  EXPECT_DOUBLE_EQ(areaUnderCurve({3, 4}, {1, 2}), 1.0);
  EXPECT_DOUBLE_EQ(areaUnderCurve({1, 2}, {3, 4}), 0.0);
  EXPECT_DOUBLE_EQ(areaUnderCurve({1, 1}, {1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(areaUnderCurve({2, 0}, {1}), 0.5);
}

SubprocessResult mirtune(const std::vector<std::string>& arguments) { return runMirtune(arguments); }

TEST_F(EncoderTest, EmbedCommandOnEveryLanguageWithCache) {
  std::string model = (root_ / "model").string();
  std::string db = (root_ / "cache.db").string();
  std::vector<std::string> files;
  for (const char* name : {"saxpy.cl", "omp_reduction.c", "omp_sqrt.cpp", "vector_add.cu", "simple.ll"}) {
    files.push_back((kInputs / name).string());
  }
  std::vector<std::string> arguments = {"embed", "--model", model, "--db", db};
  arguments.insert(arguments.end(), files.begin(), files.end());
  auto first = mirtune(arguments);
  ASSERT_EQ(first.exitCode, 0) << first.standardError;
  auto json = nlohmann::json::parse(first.standardOutput);
  EXPECT_EQ(json["dimension"], 16);
  ASSERT_EQ(json["embeddings"].size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(json["embeddings"][i]["file"], files[i]);
    EXPECT_EQ(json["embeddings"][i]["vector"].size(), 16u);
  }
  // Second run: every vector from the cache, identical.
  arguments.push_back("-v");
  auto second = mirtune(arguments);
  ASSERT_EQ(second.exitCode, 0);
  EXPECT_EQ(nlohmann::json::parse(second.standardOutput), json);
  EXPECT_NE(second.standardError.find("5 embedded (5 from the cache)"), std::string::npos) << second.standardError;

  // npy: numpy's format, (n, d) float32, with the file list beside it.
  std::string npy = (root_ / "vectors.npy").string();
  auto binary = mirtune({"embed", "--model", model, "--no-cache", "--format", "npy", "-o", npy, files[0], files[1]});
  ASSERT_EQ(binary.exitCode, 0) << binary.standardError;
  std::string bytes = *readFile(npy);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(bytes.find("'shape': (2, 16)"), std::string::npos);
  EXPECT_EQ((bytes.size() - 128) % 64, 0u);
  std::size_t headerLength = 10 + static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  EXPECT_EQ(bytes.size() - headerLength, 2u * 16u * sizeof(float));
  EXPECT_EQ(*readFile(npy + ".files"), files[0] + "\n" + files[1] + "\n");

  // A bad file is reported and the rest still embedded; the exit status says something failed.
  auto partial = mirtune({"embed", "--model", model, "--no-cache", "--format", "csv", files[0],
                          (kInputs / "undeclared.cl").string()});
  EXPECT_EQ(partial.exitCode, 1);
  EXPECT_NE(partial.standardError.find("undeclared.cl:2:10"), std::string::npos);
  EXPECT_EQ(std::count(partial.standardOutput.begin(), partial.standardOutput.end(), '\n'), 2) << "header + one row";
}

}  // namespace
}  // namespace mirtune
