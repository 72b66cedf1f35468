// Tests of the IR tokenizer: training determinism, special tokens, module sequences, truncation, and the
// checks that refuse a mismatched or corrupted tokenizer.
#include "frontend/Frontend.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"
#include "support/Sha256.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
const fs::path kInputs = MIRTUNE_TEST_INPUTS;

std::vector<std::string> linesOfInputs() {
  std::vector<std::string> lines;
  for (const char* name : {"saxpy.cl", "two_kernels.cl", "omp_reduction.c", "omp_sqrt.cpp", "vector_add.cu",
                           "simple.ll", "ir/renamed_a.c"}) {
    for (int level : {0, 2}) {
      CompileOptions options;
      options.optimizationLevel = level;
      auto module = compileFile(kInputs / name, options);
      if (!module) throw std::runtime_error(module.error().message());
      auto normalised = NormalisedModule::create(*module);
      std::string text = normalised->text();
      std::size_t start = 0;
      while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  return lines;
}

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = fs::temp_directory_path() / ("mirtune-tokenizer-" + std::to_string(::getpid()));
    fs::remove_all(directory_);
    TokenizerTrainOptions options;
    options.vocabularySize = 400;
    auto trained = trainTokenizer(linesOfInputs(), directory_ / "a", options, {{"test", true}});
    ASSERT_TRUE(trained.ok()) << trained.error().message();
  }
  static void TearDownTestSuite() { fs::remove_all(directory_); }
  static fs::path directory_;
};
fs::path TokenizerTest::directory_;

TEST_F(TokenizerTest, TrainingIsDeterministic) {
  TokenizerTrainOptions options;
  options.vocabularySize = 400;
  ASSERT_TRUE(trainTokenizer(linesOfInputs(), directory_ / "b", options, {{"test", true}}).ok());
  EXPECT_EQ(*readFile(directory_ / "a" / "tokenizer.model"), *readFile(directory_ / "b" / "tokenizer.model"));
}

TEST_F(TokenizerTest, SpecialTokensHaveFixedIds) {
  auto tokenizer = Tokenizer::load(directory_ / "a");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message();
  EXPECT_EQ(tokenizer->piece(kPadToken.id), "[PAD]");
  EXPECT_EQ(tokenizer->piece(kUnknownToken.id), "[UNK]");
  EXPECT_EQ(tokenizer->piece(kClassToken.id), "[CLS]");
  EXPECT_EQ(tokenizer->piece(kSeparatorToken.id), "[SEP]");
  EXPECT_EQ(tokenizer->piece(kMaskToken.id), "[MASK]");
  EXPECT_LE(tokenizer->vocabularySize(), 400);
  EXPECT_EQ(tokenizer->id().rfind("ir-tokenizer-1/", 0), 0u);
}

TEST_F(TokenizerTest, ModuleSequenceHasOneSegmentPerFunction) {
  auto tokenizer = Tokenizer::load(directory_ / "a");
  ASSERT_TRUE(tokenizer.ok());
  CompileOptions options;
  options.optimizationLevel = 0;
  auto module = compileFile(kInputs / "two_kernels.cl", options);
  auto normalised = NormalisedModule::create(*module);
  TokenSequence sequence = tokenizer->encodeModule(*normalised, 4096);
  ASSERT_FALSE(sequence.truncated());
  EXPECT_EQ(sequence.ids.front(), kClassToken.id);
  EXPECT_EQ(sequence.ids.back(), kSeparatorToken.id);
  EXPECT_EQ(sequence.segmentStarts.size(), 3u);  // three functions, no globals
  EXPECT_EQ(std::count(sequence.ids.begin(), sequence.ids.end(), kSeparatorToken.id), 3);
  EXPECT_EQ(std::count(sequence.ids.begin(), sequence.ids.end(), kUnknownToken.id), 0);
  // The first segment is exactly the first function's text.
  std::vector<int> first = tokenizer->encodeText(normalised->functionTexts()[0].text);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), sequence.ids.begin() + 1));
  // Same input, same ids: from the line memory the first call filled, and from a fresh tokenizer that has seen
  // nothing but other modules first.
  EXPECT_EQ(tokenizer->encodeModule(*normalised, 4096).ids, sequence.ids);
  auto fresh = Tokenizer::load(directory_ / "a");
  ASSERT_TRUE(fresh.ok());
  auto other = compileFile(kInputs / "saxpy.cl", options);
  ASSERT_TRUE(other.ok());
  fresh->encodeModule(*NormalisedModule::create(*other), 4096);
  EXPECT_EQ(fresh->encodeModule(*normalised, 4096).ids, sequence.ids);
  std::vector<int> lineByLine;
  for (const FunctionText& function : normalised->functionTexts()) {
    for (std::size_t start = 0; start < function.text.size();) {
      std::size_t end = std::min(function.text.find('\n', start), function.text.size());
      if (end > start) {
        std::vector<int> ids = fresh->encodeText(function.text.substr(start, end - start));
        lineByLine.insert(lineByLine.end(), ids.begin(), ids.end());
      }
      start = end + 1;
    }
  }
  std::vector<int> body;
  for (int id : sequence.ids) {
    if (id != kClassToken.id && id != kSeparatorToken.id) body.push_back(id);
  }
  EXPECT_EQ(lineByLine, body) << "a module's tokens are its lines' tokens, in order";

  TokenSequence shortSequence = tokenizer->encodeModule(*normalised, 40);
  EXPECT_TRUE(shortSequence.truncated());
  EXPECT_EQ(shortSequence.ids.size(), 40u);
  EXPECT_EQ(shortSequence.untruncatedLength, sequence.ids.size());
  EXPECT_EQ(shortSequence.segmentStarts.size(), 3u) << "every function keeps its head";
}

TEST(TokenizerTruncation, WaterFillingKeepsEverySegmentsHead) {
  using Lengths = std::vector<std::size_t>;
  EXPECT_EQ(truncatedSegmentLengths({10, 20}, 100), (Lengths{10, 20}));
  // Budget 100 - 1 - 3 = 96: the short segment stays whole, the long ones share the rest.
  EXPECT_EQ(truncatedSegmentLengths({10, 200, 300}, 100), (Lengths{10, 43, 43}));
  Lengths cut = truncatedSegmentLengths({500, 7, 90}, 64);
  EXPECT_EQ(std::accumulate(cut.begin(), cut.end(), std::size_t{0}) + 1 + 3, 64u);
  EXPECT_EQ(cut[1], 7u);
  // Too many segments for even the minimum: trailing segments go.
  Lengths many(100, 50);
  Lengths kept = truncatedSegmentLengths(many, 64);
  EXPECT_EQ(kept.size(), 7u);  // 1 + 7 * (8 + 1) = 64
  for (std::size_t length : kept) EXPECT_EQ(length, Tokenizer::kMinSegmentTokens);
}

TEST_F(TokenizerTest, RefusesAMismatchedOrCorruptedTokenizer) {
  fs::path copy = directory_ / "broken";
  fs::create_directories(copy);
  fs::copy(directory_ / "a", copy, fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  auto manifest = nlohmann::json::parse(*readFile(copy / "manifest.json"));
  manifest["normaliser_version"] = kNormaliserVersion + 1;
  ASSERT_TRUE(writeFileAtomically(copy / "manifest.json", manifest.dump()).ok());
  auto mismatched = Tokenizer::load(copy);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().code(), ErrorCode::kVersion);
  EXPECT_NE(mismatched.error().message().find("normaliser"), std::string::npos);

  fs::copy(directory_ / "a", copy, fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  std::string model = *readFile(copy / "tokenizer.model");
  model[model.size() / 2] ^= 0x5a;
  ASSERT_TRUE(writeFileAtomically(copy / "tokenizer.model", model).ok());
  auto corrupted = Tokenizer::load(copy);
  ASSERT_FALSE(corrupted.ok());
  EXPECT_NE(corrupted.error().message().find("SHA-256"), std::string::npos);

  auto missing = Tokenizer::load(directory_ / "nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("mirtune tokenizer train"), std::string::npos);
}

TEST(ShippedTokenizer, LoadsAndCoversTheVocabulary) {
  fs::path shipped = Tokenizer::defaultDirectory();
  if (!fs::exists(shipped / "manifest.json")) GTEST_SKIP() << "no shipped tokenizer at " << shipped;
  auto tokenizer = Tokenizer::load(shipped);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message();
  EXPECT_GE(tokenizer->vocabularySize(), 4000);
  auto module = compileFile(kInputs / "saxpy.cl");
  auto normalised = NormalisedModule::create(*module);
  TokenSequence sequence = tokenizer->encodeModule(*normalised);
  EXPECT_EQ(std::count(sequence.ids.begin(), sequence.ids.end(), kUnknownToken.id), 0);
  EXPECT_LT(sequence.ids.size(), 200u) << "a small kernel is a short sequence";
}

}  // namespace
}  // namespace mirtune
