// XGBoost and MLP heads: learning, determinism, sample weights, save/load and its errors.
#include "HeadsTestUtil.h"
#include "support/Files.h"
#include "support/Sha256.h"
#include "tasks/common/Head.h"
#include "tasks/common/MlpClassifier.h"
#include "tasks/common/TaskModel.h"
#include "tasks/common/XgbClassifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

namespace mirtune::heads {
namespace {

namespace fs = std::filesystem;
using testing::accuracy;

// MLP results are reproducible for a fixed torch thread count: pin it for the whole suite.
class TorchThreads : public ::testing::Environment {
 public:
  void SetUp() override { setTorchThreads(1); }
};
const auto* const kTorchThreads = ::testing::AddGlobalTestEnvironment(new TorchThreads);

// Small, fast settings; xgboost subsamples so that its seed matters.
Candidate fastCandidate(const std::string& kind, unsigned seed = 3) {
  if (kind == "xgboost")
    return {kind, {{"rounds", 40}, {"max_depth", 3}, {"eta", 0.3}, {"subsample", 0.8}, {"seed", seed}}};
  return {kind, {{"hidden", {32}}, {"epochs", 80}, {"seed", seed}}};
}

std::unique_ptr<Classifier> fitted(const Candidate& candidate, const Dataset& data) {
  auto classifier = makeClassifier(candidate);
  EXPECT_TRUE(classifier.ok()) << classifier.error().message();
  auto status = (*classifier)->fit(data);
  EXPECT_TRUE(status.ok()) << status.error().message();
  return std::move(*classifier);
}

std::vector<float> probabilities(const Classifier& classifier, const Dataset& data) {
  auto result = classifier.predictProbabilities(data.features.values.data(), data.size(), data.features.cols);
  EXPECT_TRUE(result.ok()) << result.error().message();
  return result.ok() ? *result : std::vector<float>();
}

std::vector<int> classes(const Classifier& classifier, const Dataset& data) {
  auto result = classifier.predictClasses(data.features.values.data(), data.size(), data.features.cols);
  EXPECT_TRUE(result.ok()) << result.error().message();
  return result.ok() ? *result : std::vector<int>();
}

fs::path freshDirectory(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / fmt::format("mirtune-heads-{}-{}", name, ::getpid());
  fs::remove_all(dir);
  return dir;
}

class HeadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HeadTest, LearnsSeparableBinaryProblem) {
  Dataset train = testing::separableBinary(300, 20, 1);
  Dataset test = testing::separableBinary(300, 20, 2);
  auto classifier = fitted(fastCandidate(GetParam()), train);
  EXPECT_EQ(classifier->featureCount(), 20u);
  EXPECT_EQ(classifier->classCount(), 2);
  EXPECT_GT(accuracy(classes(*classifier, test), test.labels), 0.95);
  std::vector<float> p = probabilities(*classifier, test);
  ASSERT_EQ(p.size(), test.size() * 2);
  for (std::size_t r = 0; r < test.size(); ++r) EXPECT_NEAR(p[2 * r] + p[2 * r + 1], 1.0f, 1e-5f);
}

TEST_P(HeadTest, LearnsThreeClassProblem) {
  Dataset train = testing::threeClusters(300, 10, 3);
  Dataset test = testing::threeClusters(300, 10, 4);
  auto classifier = fitted(fastCandidate(GetParam()), train);
  EXPECT_EQ(classifier->classCount(), 3);
  EXPECT_GT(accuracy(classes(*classifier, test), test.labels), 0.95);
  std::vector<float> p = probabilities(*classifier, test);
  ASSERT_EQ(p.size(), test.size() * 3);
  for (std::size_t r = 0; r < test.size(); ++r)
    EXPECT_NEAR(p[3 * r] + p[3 * r + 1] + p[3 * r + 2], 1.0f, 1e-5f);
}

TEST_P(HeadTest, KeepsClassCountWhenTrainingRowsMissAClass) {
  Dataset train = testing::threeClusters(90, 5, 5);
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < train.size(); ++r) {
    if (train.labels[r] != 2) rows.push_back(r);
  }
  auto classifier = fitted(fastCandidate(GetParam()), train.subset(rows));
  EXPECT_EQ(classifier->classCount(), 3);
  EXPECT_EQ(probabilities(*classifier, train).size(), train.size() * 3);
}

TEST_P(HeadTest, SameSeedGivesIdenticalProbabilitiesAndOtherSeedDoesNot) {
  Dataset train = testing::separableBinary(200, 12, 6);
  Dataset test = testing::separableBinary(100, 12, 7);
  std::vector<float> first = probabilities(*fitted(fastCandidate(GetParam(), 11), train), test);
  std::vector<float> second = probabilities(*fitted(fastCandidate(GetParam(), 11), train), test);
  std::vector<float> otherSeed = probabilities(*fitted(fastCandidate(GetParam(), 12), train), test);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, otherSeed);
}

TEST_P(HeadTest, SampleWeightsChangeWhatIsLearned) {
  // x < 0: always class 0. x > 0: 60% class 0, 40% class 1, so unweighted the majority (0) wins there;
  // weighing class-1 rows 3x turns the weighted majority to class 1.
  Dataset data;
  data.classes = 2;
  data.features = FeatureMatrix(400, 2);
  std::mt19937 random(9);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (std::size_t r = 0; r < 400; ++r) {
    float x = uniform(random);
    data.features.at(r, 0) = x;
    data.features.at(r, 1) = uniform(random);
    data.labels.push_back(x > 0 && r % 5 < 2 ? 1 : 0);
  }
  Dataset weighted = data;
  for (int label : data.labels) weighted.weights.push_back(label == 1 ? 3.0f : 1.0f);
  Dataset probe;
  probe.classes = 2;
  probe.features = FeatureMatrix(2, 2);
  probe.features.at(0, 0) = -0.5f;
  probe.features.at(1, 0) = 0.5f;
  probe.labels = {0, 0};
  EXPECT_EQ(classes(*fitted(fastCandidate(GetParam()), data), probe), (std::vector<int>{0, 0}));
  EXPECT_EQ(classes(*fitted(fastCandidate(GetParam()), weighted), probe), (std::vector<int>{0, 1}));
}

TEST_P(HeadTest, SaveLoadRoundTripGivesIdenticalProbabilities) {
  Dataset train = testing::threeClusters(150, 8, 10);
  Dataset test = testing::threeClusters(60, 8, 11);
  auto classifier = fitted(fastCandidate(GetParam()), train);
  fs::path dir = freshDirectory("roundtrip-" + GetParam());
  ASSERT_TRUE(classifier->save(dir).ok());
  auto head = readJsonObject(dir / kHeadFile);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ((*head)["kind"], GetParam());
  EXPECT_EQ((*head)["features"], 8);
  EXPECT_EQ((*head)["classes"], 3);
  EXPECT_EQ((*head)["format_version"], kHeadFormatVersion);
  EXPECT_TRUE(head->contains("standardisation"));
  EXPECT_EQ((*head)["params"], classifier->describe()["params"]);
  EXPECT_TRUE(fs::exists(dir / (*head)["model_file"].get<std::string>()));
  auto loaded = Classifier::load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ((*loaded)->kind(), GetParam());
  EXPECT_EQ(probabilities(**loaded, test), probabilities(*classifier, test));
  EXPECT_EQ((*loaded)->describe()["params"], classifier->describe()["params"]);
  fs::remove_all(dir);
}

TEST_P(HeadTest, RejectsWrongFeatureCountAndUntrainedUse) {
  auto untrained = makeClassifier(fastCandidate(GetParam()));
  ASSERT_TRUE(untrained.ok());
  std::vector<float> row(4, 0.0f);
  EXPECT_FALSE((*untrained)->predictProbabilities(row.data(), 1, 4).ok());
  EXPECT_FALSE((*untrained)->save(freshDirectory("untrained")).ok());
  auto classifier = fitted(fastCandidate(GetParam()), testing::separableBinary(60, 5, 12));
  auto wrong = classifier->predictProbabilities(row.data(), 1, 4);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(wrong.error().message().find("5"), std::string::npos) << wrong.error().message();
}

TEST_P(HeadTest, FitRejectsInvalidData) {
  Dataset data = testing::separableBinary(40, 3, 13);
  auto classifier = makeClassifier(fastCandidate(GetParam()));
  ASSERT_TRUE(classifier.ok());
  Dataset badLabel = data;
  badLabel.labels[7] = 2;
  auto status = (*classifier)->fit(badLabel);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("row 7"), std::string::npos) << status.error().message();
  Dataset badWeights = data;
  badWeights.weights = {1.0f, 2.0f};
  EXPECT_FALSE((*classifier)->fit(badWeights).ok());
  Dataset nonFinite = data;
  nonFinite.features.at(3, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE((*classifier)->fit(nonFinite).ok());
}

INSTANTIATE_TEST_SUITE_P(Kinds, HeadTest, ::testing::Values("xgboost", "mlp"));

// --- errors from saved folders ---

class SavedHeadTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = freshDirectory("saved-" + GetParam());
    auto classifier = fitted(fastCandidate(GetParam()), testing::separableBinary(80, 6, 14));
    ASSERT_TRUE(classifier->save(dir_).ok());
    auto head = readJsonObject(dir_ / kHeadFile);
    ASSERT_TRUE(head.ok());
    head_ = *head;
    model_ = dir_ / head_["model_file"].get<std::string>();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void writeHead(const nlohmann::json& head) {
    ASSERT_TRUE(writeFileAtomically(dir_ / kHeadFile, head.dump()).ok());
  }

  Error loadError() {
    auto loaded = Classifier::load(dir_);
    EXPECT_FALSE(loaded.ok());
    return loaded.ok() ? Error(ErrorCode::kInternal, "loaded") : loaded.error();
  }

  fs::path dir_;
  fs::path model_;
  nlohmann::json head_;
};

TEST_P(SavedHeadTest, MissingFolderOrHeadJson) {
  fs::remove(dir_ / kHeadFile);
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_NE(error.message().find("head.json"), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, MissingModelFile) {
  fs::remove(model_);
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_NE(error.message().find(model_.string()), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, CorruptHeadJson) {
  ASSERT_TRUE(writeFileAtomically(dir_ / kHeadFile, "{ not json").ok());
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(error.message().find("head.json"), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, CorruptModelFileFailsTheChecksum) {
  auto bytes = readFile(model_);
  ASSERT_TRUE(bytes.ok());
  std::string changed = *bytes;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x5a);
  ASSERT_TRUE(writeFileAtomically(model_, changed).ok());
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kVersion);
  EXPECT_NE(error.message().find(model_.string()), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("SHA-256"), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, GarbageModelWithMatchingChecksumIsRejected) {
  std::string garbage = "this is not a model";
  ASSERT_TRUE(writeFileAtomically(model_, garbage).ok());
  nlohmann::json head = head_;
  head["model_sha256"] = sha256Hex(garbage);
  writeHead(head);
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kInvalidInput) << error.message();
  EXPECT_NE(error.message().find(model_.string()), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, MissingChecksumIsRejected) {
  nlohmann::json head = head_;
  head.erase("model_sha256");
  writeHead(head);
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kInvalidInput) << error.message();
  EXPECT_NE(error.message().find("model_sha256"), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, MismatchedFeatureCount) {
  nlohmann::json head = head_;
  head["features"] = 7;
  writeHead(head);
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kVersion) << error.message();
  EXPECT_NE(error.message().find("7"), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, OtherFormatVersion) {
  nlohmann::json head = head_;
  head["format_version"] = kHeadFormatVersion + 1;
  writeHead(head);
  Error error = loadError();
  EXPECT_EQ(error.code(), ErrorCode::kVersion);
  EXPECT_NE(error.message().find("format_version"), std::string::npos) << error.message();
}

TEST_P(SavedHeadTest, UnknownKind) {
  nlohmann::json head = head_;
  head["kind"] = "svm";
  writeHead(head);
  Error error = loadError();
  EXPECT_NE(error.message().find("svm"), std::string::npos) << error.message();
}

INSTANTIATE_TEST_SUITE_P(Kinds, SavedHeadTest, ::testing::Values("xgboost", "mlp"));

TEST(MlpHead, WeightsForOtherLayerSizesAreAClearError) {
  auto classifier = fitted(fastCandidate("mlp"), testing::separableBinary(80, 6, 15));
  fs::path dir = freshDirectory("mlp-shape");
  ASSERT_TRUE(classifier->save(dir).ok());
  auto head = readJsonObject(dir / kHeadFile);
  ASSERT_TRUE(head.ok());
  (*head)["params"]["hidden"] = {16};
  ASSERT_TRUE(writeFileAtomically(dir / kHeadFile, head->dump()).ok());
  auto loaded = Classifier::load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kVersion);
  EXPECT_NE(loaded.error().message().find((dir / "weights.pt").string()), std::string::npos)
      << loaded.error().message();
  fs::remove_all(dir);
}

TEST(MlpHead, AClassCountBeyondIntIsRefusedNotWrapped) {
  auto classifier = fitted(fastCandidate("mlp"), testing::separableBinary(80, 6, 15));
  fs::path dir = freshDirectory("mlp-classes");
  ASSERT_TRUE(classifier->save(dir).ok());
  auto head = readJsonObject(dir / kHeadFile);
  ASSERT_TRUE(head.ok());
  // head.json is not covered by the model's hash; 2^32 + 2 read as an int would be 2 and load.
  (*head)["classes"] = (std::int64_t{1} << 32) + 2;
  ASSERT_TRUE(writeFileAtomically(dir / kHeadFile, head->dump()).ok());
  auto loaded = Classifier::load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("4294967298 classes"), std::string::npos)
      << loaded.error().message();
  fs::remove_all(dir);
}

TEST(Factory, SizesBeyondTheirBoundsAreRefused) {
  for (const nlohmann::json& params :
       {nlohmann::json{{"hidden", {1 << 20}}}, nlohmann::json{{"hidden", std::vector<int>(100, 8)}}}) {
    auto mlp = makeClassifier({"mlp", params});
    ASSERT_FALSE(mlp.ok()) << params.dump();
    EXPECT_NE(mlp.error().message().find("hidden"), std::string::npos) << mlp.error().message();
  }
  auto threads = makeClassifier({"xgboost", {{"nthread", 1000000}}});
  ASSERT_FALSE(threads.ok());
  EXPECT_NE(threads.error().message().find("nthread"), std::string::npos) << threads.error().message();
}

TEST(TaskManifest, AFieldOfAnotherTypeIsAVersionErrorNotAnException) {
  fs::path dir = freshDirectory("task-manifest");
  fs::create_directories(dir);
  const TaskModelKind kind{"omp", "OpenMP", 1, "mirtune omp train"};
  for (const nlohmann::json& manifest : {nlohmann::json{{"task", "omp"}, {"format", "1"}, {"encoder", "e"}},
                                         nlohmann::json{{"task", 7}, {"format", 1}, {"encoder", "e"}}}) {
    ASSERT_TRUE(writeFileAtomically(dir / "manifest.json", manifest.dump()).ok());
    auto read = readTaskManifest(dir, kind, "e");
    ASSERT_FALSE(read.ok()) << manifest.dump();
    EXPECT_EQ(read.error().code(), ErrorCode::kVersion);
    EXPECT_NE(read.error().message().find("manifest.json"), std::string::npos) << read.error().message();
  }
  fs::remove_all(dir);
}

TEST(XgbHead, ThreadCountDoesNotChangeTheModel) {
  Dataset train = testing::threeClusters(200, 10, 16);
  Candidate one = fastCandidate("xgboost");
  Candidate two = one;
  two.params["nthread"] = 2;
  EXPECT_EQ(probabilities(*fitted(one, train), train), probabilities(*fitted(two, train), train));
}

TEST(XgbHead, PrefixOfRoundsPredictsLikeAShorterFit) {
  Dataset train = testing::threeClusters(150, 6, 17);
  Candidate shorter = fastCandidate("xgboost");
  shorter.params["rounds"] = 15;
  Candidate longer = shorter;
  longer.params["rounds"] = 40;
  auto shortModel = fitted(shorter, train);
  auto longModel = fitted(longer, train);
  const auto& xgb = dynamic_cast<const XgbClassifier&>(*longModel);
  auto prefix =
      xgb.predictProbabilitiesUpTo(train.features.values.data(), train.size(), train.features.cols, 15);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(*prefix, probabilities(*shortModel, train));
  EXPECT_NE(*prefix, probabilities(*longModel, train));
}

TEST(Factory, RejectsUnknownKindsAndParameters) {
  auto kind = makeClassifier({"forest", {}});
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.error().code(), ErrorCode::kUsage);
  auto key = makeClassifier({"xgboost", {{"depth", 3}}});
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message().find("\"depth\""), std::string::npos) << key.error().message();
  auto type = makeClassifier({"mlp", {{"hidden", "wide"}}});
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().message().find("hidden"), std::string::npos) << type.error().message();
  EXPECT_FALSE(makeClassifier({"mlp", {{"dropout", 1.5}}}).ok());
  EXPECT_TRUE(makeClassifier({"mlp", nullptr}).ok());
}

}  // namespace
}  // namespace mirtune::heads
