// `mirtune coarsen` end to end with the shipped encoder and heads: every platform or one, the SQLite log, bad
// input, heads of another encoder, and `coarsen eval` where the data set exists.
#include "common/RunMirtune.h"
#include "common/TemporaryFolder.h"
#include "support/Files.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const std::string kInputs = MIRTUNE_TEST_INPUTS;
const std::string kRoot = MIRTUNE_SOURCE_ROOT;
const std::string kVectorAdd = kRoot + "/kernels/opencl/vector_add.cl";

class CoarsenCli : public ::testing::Test {
 protected:
  SubprocessResult coarsen(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"--db", folder_.db(), "coarsen"});
    return runMirtune(arguments);
  }
  TemporaryFolder folder_{"mirtune-coarsen-cli",
                          ::testing::UnitTest::GetInstance()->current_test_info()->name()};
};

TEST_F(CoarsenCli, PredictsAFactorPerPlatformWithTheShippedHeads) {
  auto result = coarsen({kVectorAdd, "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  nlohmann::json list = nlohmann::json::parse(result.standardOutput);
  ASSERT_EQ(list.size(), 4u);  // every platform by default
  const std::set<int> factors = {1, 2, 4, 8, 16, 32};
  std::vector<std::string> platforms;
  for (const auto& item : list) {
    EXPECT_EQ(item["kernel"], "vector_add");
    EXPECT_TRUE(factors.count(item["factor"].get<int>())) << item.dump();
    double probability = item["probability"];
    EXPECT_GT(probability, 0.0);
    EXPECT_LE(probability, 1.0);
    platforms.push_back(item["platform"]);
  }
  EXPECT_EQ(platforms, (std::vector<std::string>{"cypress", "tahiti", "fermi", "kepler"}));

  // One platform gives that platform's answer; the cache and --no-cache agree.
  auto fermi = coarsen({kVectorAdd, "--platform", "fermi", "--json", "--no-cache"});
  ASSERT_EQ(fermi.exitCode, 0) << fermi.standardError;
  nlohmann::json one = nlohmann::json::parse(fermi.standardOutput);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], list[2]);

  auto text = coarsen({kVectorAdd, "--platform", "kepler"});
  ASSERT_EQ(text.exitCode, 0) << text.standardError;
  EXPECT_NE(text.standardOutput.find("NVIDIA Tesla K20c"), std::string::npos) << text.standardOutput;
  EXPECT_NE(text.standardOutput.find("factor"), std::string::npos);
}

TEST_F(CoarsenCli, EveryKernelOfAFileOrOneByNameAndTheLog) {
  auto all = coarsen({kInputs + "/two_kernels.cl", "--platform", "tahiti", "--json"});
  ASSERT_EQ(all.exitCode, 0) << all.standardError;
  nlohmann::json list = nlohmann::json::parse(all.standardOutput);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["kernel"], "squares");
  EXPECT_EQ(list[1]["kernel"], "fill");
  auto one = coarsen({kInputs + "/two_kernels.cl", "--kernel", "fill", "--platform", "tahiti", "--json"});
  ASSERT_EQ(one.exitCode, 0) << one.standardError;
  EXPECT_EQ(nlohmann::json::parse(one.standardOutput)[0], list[1]);

  // CUDA kernels go by their source names, not their mangled IR names.
  auto cuda =
      coarsen({kRoot + "/kernels/cuda/saxpy.cu", "--kernel", "saxpy", "--platform", "kepler", "--json"});
  ASSERT_EQ(cuda.exitCode, 0) << cuda.standardError;
  EXPECT_EQ(nlohmann::json::parse(cuda.standardOutput)[0]["kernel"], "saxpy");

  // The runs are logged: four predictions of the coarsen task with the shipped heads' id.
  auto exported =
      runMirtune({"--db", folder_.db(), "db", "export", "--table", "predictions", "--format", "json"});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  nlohmann::json rows = nlohmann::json::parse(exported.standardOutput);
  ASSERT_EQ(rows.size(), 4u) << exported.standardOutput;
  for (const auto& row : rows) {
    EXPECT_EQ(row["task"], "coarsen");
    EXPECT_EQ(row["model_id"], "coarsen-1.0");
  }
}

TEST_F(CoarsenCli, BadInputNamesTheFileAndLine) {
  auto compileError = coarsen({kInputs + "/undeclared.cl"});
  EXPECT_EQ(compileError.exitCode, 1);
  EXPECT_NE(compileError.standardError.find("undeclared.cl:2:"), std::string::npos)
      << compileError.standardError;

  auto missing = coarsen({(folder_.path() / "absent.cl").string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find("absent.cl"), std::string::npos) << missing.standardError;

  auto kernel = coarsen({kInputs + "/two_kernels.cl", "--kernel", "nope"});
  EXPECT_EQ(kernel.exitCode, 1);
  EXPECT_NE(kernel.standardError.find("squares, fill"), std::string::npos) << kernel.standardError;

  EXPECT_EQ(coarsen({}).exitCode, 2);
  auto platform = coarsen({kVectorAdd, "--platform", "tpu"});
  EXPECT_EQ(platform.exitCode, 2);
  EXPECT_NE(platform.standardError.find("tpu"), std::string::npos) << platform.standardError;
}

TEST_F(CoarsenCli, HeadsTrainedForAnotherEncoderAreRefused) {
  fs::path heads = folder_.path() / "heads";
  fs::copy(kRoot + "/tasks/coarsen/models/coarsen-1.0", heads, fs::copy_options::recursive);
  auto manifest = readJsonObject(heads / "manifest.json");
  ASSERT_TRUE(manifest);
  (*manifest)["encoder"] = "mirencoder-0.9/000000000000";
  std::ofstream(heads / "manifest.json") << manifest->dump();
  auto result = coarsen({kVectorAdd, "--heads", heads.string()});
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.standardError.find("mirencoder-0.9/000000000000"), std::string::npos)
      << result.standardError;
  EXPECT_NE(result.standardError.find("mirtune coarsen train"), std::string::npos) << result.standardError;
}

TEST_F(CoarsenCli, EvalRunsTheProtocolWhenTheDataSetIsThere) {
  if (!fs::exists(dataDirectory() / "tcoarsening")) {
    GTEST_SKIP() << "thread-coarsening data set not found at " << dataDirectory() / "tcoarsening"
                 << " (set MIRTUNE_DATA)";
  }
  // One cheap candidate and one platform: seconds, yet the whole protocol (embeddings, folds, inner CV,
  // metric).
  fs::path candidates = folder_.path() / "candidates.json";
  std::ofstream(candidates) << R"([{"kind": "xgboost", "params": {"max_depth": 2, "rounds": 20}}])";
  auto result = coarsen({"eval", "--platform", "fermi", "--pooling", "per-platform", "--candidates",
                         candidates.string(), "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  nlohmann::json report = nlohmann::json::parse(result.standardOutput);
  EXPECT_EQ(report["kernels"], 17);
  ASSERT_TRUE(report["platforms"].contains("fermi"));
  EXPECT_FALSE(report["platforms"].contains("cypress"));
  EXPECT_EQ(report["platforms"]["fermi"]["kernels"].size(), 17u);
  EXPECT_NEAR(report["platforms"]["fermi"]["oracle_speedup"].get<double>(), 1.339, 5e-4);
  double speedup = report["platforms"]["fermi"]["speedup"];
  EXPECT_GT(speedup, 0.5);
  EXPECT_LE(speedup, 1.34);
  EXPECT_EQ(report["folds"].size(), 17u);
  EXPECT_EQ(report["held_out_together"], nlohmann::json::array({"mt + mtLocal"}));

  auto text = coarsen(
      {"eval", "--platform", "fermi", "--pooling", "per-platform", "--candidates", candidates.string()});
  ASSERT_EQ(text.exitCode, 0) << text.standardError;
  EXPECT_NE(text.standardOutput.find("IR2Vec flow-aware (TACO'20) (published) | 1.257"), std::string::npos)
      << text.standardOutput;

  // IR2Vec symbolic vectors instead of the encoder, same protocol; a missing vocabulary names its path.
  const fs::path vocabulary = dataDirectory() / "ir2vec-vocabulary" / "seedEmbeddingVocab300D.txt";
  if (fs::exists(vocabulary)) {
    auto ir2vec = coarsen({"eval", "--platform", "fermi", "--pooling", "per-platform", "--features", "ir2vec",
                           "--candidates", candidates.string(), "--json"});
    ASSERT_EQ(ir2vec.exitCode, 0) << ir2vec.standardError;
    nlohmann::json symbolic = nlohmann::json::parse(ir2vec.standardOutput);
    EXPECT_EQ(symbolic["encoder"], "ir2vec-symbolic:seedEmbeddingVocab300D.txt");
    EXPECT_EQ(symbolic["platforms"]["fermi"]["kernels"].size(), 17u);
  }
  const fs::path absent = folder_.path() / "no-vocabulary.txt";
  auto noVocabulary = coarsen({"eval", "--features", "ir2vec", "--ir2vec-vocabulary", absent.string()});
  EXPECT_EQ(noVocabulary.exitCode, 1);
  EXPECT_NE(noVocabulary.standardError.find(absent.string()), std::string::npos)
      << noVocabulary.standardError;

  std::ofstream(candidates) << "not json";
  auto bad = coarsen({"eval", "--candidates", candidates.string()});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.standardError.find("candidates.json"), std::string::npos) << bad.standardError;
}

TEST_F(CoarsenCli, CurveMethodsEvaluateTrainAndPredict) {
  if (!fs::exists(dataDirectory() / "tcoarsening")) {
    GTEST_SKIP() << "thread-coarsening data set not found at " << dataDirectory() / "tcoarsening"
                 << " (set MIRTUNE_DATA)";
  }
  // The default method is the per-GPU prior: 1.132 under the protocol, whatever the kernel.
  auto prior = coarsen({"eval", "--json"});
  ASSERT_EQ(prior.exitCode, 0) << prior.standardError;
  nlohmann::json report = nlohmann::json::parse(prior.standardOutput);
  EXPECT_EQ(report["method"], "prior");
  EXPECT_NEAR(report["mean_speedup"].get<double>(), 1.132, 5e-4);

  // Nearest neighbours from a candidates file, one per fold, reported as chosen.
  fs::path candidates = folder_.path() / "curves.json";
  std::ofstream(candidates) << R"([{"kind": "prior"}, {"kind": "knn", "params": {"k": 1}}])";
  auto knn = coarsen(
      {"eval", "--method", "knn", "--platform", "tahiti", "--candidates", candidates.string(), "--json"});
  ASSERT_EQ(knn.exitCode, 0) << knn.standardError;
  report = nlohmann::json::parse(knn.standardOutput);
  EXPECT_EQ(report["method"], "knn");
  ASSERT_EQ(report["folds"].size(), 17u);
  for (const auto& fold : report["folds"]) {
    EXPECT_TRUE(fold["kind"] == "prior" || fold["kind"] == "knn") << fold.dump();
    EXPECT_GT(fold["inner_speedup"].get<double>(), 0.5);
  }
  std::ofstream(candidates) << R"([{"kind": "knn", "params": {"neighbours": 1}}])";
  auto bad = coarsen({"eval", "--method", "knn", "--candidates", candidates.string()});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.standardError.find("curves.json"), std::string::npos) << bad.standardError;
  EXPECT_NE(bad.standardError.find("neighbours"), std::string::npos) << bad.standardError;

  // A knn head folder: trained on all kernels, then used for prediction.
  fs::path heads = folder_.path() / "knn-heads";
  auto train = coarsen({"train", "--method", "knn", "--out", heads.string()});
  ASSERT_EQ(train.exitCode, 0) << train.standardError;
  auto manifest = readJsonObject(heads / "manifest.json");
  ASSERT_TRUE(manifest);
  EXPECT_EQ((*manifest)["method"], "knn");
  EXPECT_TRUE(fs::exists(heads / "all" / "curves.json"));
  auto predicted = coarsen({kVectorAdd, "--heads", heads.string(), "--json"});
  ASSERT_EQ(predicted.exitCode, 0) << predicted.standardError;
  nlohmann::json list = nlohmann::json::parse(predicted.standardOutput);
  ASSERT_EQ(list.size(), 4u);
  for (const auto& item : list)
    EXPECT_TRUE(std::set<int>({1, 2, 4, 8, 16, 32}).count(item["factor"].get<int>()));
}

/// Every file below `folder` with its size and modification time, to tell whether anything there changed.
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> listing(const fs::path& folder) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files[entry.path().string()] = {entry.file_size(), entry.last_write_time()};
  }
  return files;
}

TEST_F(CoarsenCli, TrainWritesToTheUserDataFolderAndLeavesTheShippedHeadsAlone) {
  if (!fs::exists(dataDirectory() / "tcoarsening")) {
    GTEST_SKIP() << "thread-coarsening data set not found at " << dataDirectory() / "tcoarsening"
                 << " (set MIRTUNE_DATA)";
  }
  const fs::path shippedFolder = fs::path(kRoot) / "tasks" / "coarsen" / "models";
  const auto before = listing(shippedFolder);
  const fs::path userData = folder_.path() / "user-data";
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE, "--db", folder_.db(), "coarsen", "train", "--threads", "1"};
  options.environment["XDG_DATA_HOME"] = userData.string();
  options.timeoutSeconds = 300;
  auto train = runSubprocess(options);
  ASSERT_TRUE(train.ok()) << train.error().message();
  ASSERT_EQ(train->exitCode, 0) << train->standardError;
  const fs::path heads = userData / "mirtune" / "models" / "coarsen" / "coarsen-1.0";
  EXPECT_EQ(train->standardOutput, heads.string() + "\n");
  EXPECT_TRUE(fs::exists(heads / "manifest.json"));
  EXPECT_EQ(listing(shippedFolder), before) << "coarsen train wrote into " << shippedFolder;

  // The printed folder is what --heads takes.
  auto predicted = coarsen({kVectorAdd, "--heads", heads.string(), "--json", "--platform", "tahiti"});
  ASSERT_EQ(predicted.exitCode, 0) << predicted.standardError;
  EXPECT_EQ(nlohmann::json::parse(predicted.standardOutput).size(), 1u);
}

TEST_F(CoarsenCli, DeprecatedModelAliasStillNamesTheEncoder) {
  const std::string encoder = kRoot + "/embeddings/models/mirencoder-1.0";
  auto named = coarsen({kVectorAdd, "--json", "--no-cache", "--encoder", encoder});
  auto deprecated = coarsen({kVectorAdd, "--json", "--no-cache", "--model", encoder});
  ASSERT_EQ(named.exitCode, 0) << named.standardError;
  ASSERT_EQ(deprecated.exitCode, 0) << deprecated.standardError;
  EXPECT_EQ(deprecated.standardOutput, named.standardOutput);
  EXPECT_NE(deprecated.standardError.find("--model is deprecated here; use --encoder"), std::string::npos)
      << deprecated.standardError;
  auto help = coarsen({"eval", "--help"});
  EXPECT_NE(help.standardOutput.find("--head-kind"), std::string::npos) << help.standardOutput;
  EXPECT_EQ(help.standardOutput.find("--model"), std::string::npos) << help.standardOutput;
  auto oldKind = coarsen({"train", "--heads", "mlp"});
  EXPECT_EQ(oldKind.exitCode, 2);
  EXPECT_NE(oldKind.standardError.find("--head-kind"), std::string::npos) << oldKind.standardError;
}

}  // namespace
}  // namespace mirtune
